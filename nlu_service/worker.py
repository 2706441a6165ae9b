"""The NLU worker: serves every language's Rasa model from one process (TensorFlow loaded once), and trains them.

Runs in Rasa's own environment (nlu_service/.venv, Python 3.10) and never imports `assistant`:

    python worker.py serve --host 127.0.0.1 --port 5905 --token-file TOKEN --model en=DIR --model fr=DIR
                           [--idle-stop-s N] [--log-file FILE] [--state-file FILE] [--allow-remote]
    python worker.py train --jobs JOBS.json

`serve` binds its port first and answers `GET /health` with status `loading` while TensorFlow and
the models load, then `ready`. `POST /parse` {"text", "lang"} and `POST /shutdown` need
`Authorization: Bearer <token>`. `train` trains the jobs listed in JOBS.json (one per language) and
reports on stdout as JSON lines; everything else it prints goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
import warnings
from pathlib import Path

for _key, _value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("RASA_TELEMETRY_ENABLED", "false"), ("RASA_MAX_CACHE_SIZE", "0")):
    os.environ.setdefault(_key, _value)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import nlu_server as server  # noqa: E402  (after the environment above: it imports aiohttp; Rasa comes later)
import nlu_trainer as trainer  # noqa: E402

log = logging.getLogger("nlu_worker")
log.setLevel(logging.INFO)  # Agent.load lowers the root logger to WARNING; our own lines stay


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="worker.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve models over HTTP")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5905)
    s.add_argument("--token-file", type=Path, required=True)
    s.add_argument("--model", type=server.model_spec, action="append", required=True, metavar="LANG=PATH")
    s.add_argument("--idle-stop-s", type=float, default=0.0, help="stop after this long without a parse (0: never)")
    s.add_argument("--log-file", type=Path)
    s.add_argument("--state-file", type=Path, help="the supervisor's state file, removed at exit if it names us")
    s.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (a household hub)")
    t = sub.add_parser("train", help="train models")
    t.add_argument("--jobs", type=Path, required=True, help='JSON list of {"lang", "config", "data", "out"}')
    return parser


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_file = getattr(args, "log_file", None)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        **({"filename": str(log_file)} if log_file else {"stream": sys.stderr}),
    )
    for noisy in ("rasa", "tensorflow", "absl", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "train":
        return trainer.train(args)
    if not (args.allow_remote or is_loopback(args.host)):
        log.error("--host %s is not a loopback address; pass --allow-remote to serve other machines", args.host)
        return server.EXIT_BAD_ARGS
    return asyncio.run(server.serve(args))


if __name__ == "__main__":
    sys.exit(main())
