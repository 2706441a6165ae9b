"""`assistant` command line: one actionable line on error, exit non-zero; traceback only with --debug."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from . import chat
from .config import load_config
from .errors import AssistantError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline, privacy-first voice shopping assistant.")
    parser.add_argument("--config", metavar="FILE", help="config file (default: ./config.yml or $ASSISTANT_CONFIG)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors (also on with a command's --debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat.register(sub)
    from . import history, orders, scaffold
    from .audio import cli as audio_cli
    from .loader import discover, nlu_sources
    from .modelstore import cli as models_cli
    from .nlu import commands as nlu_commands
    from .retailers import login_cli as retailer_login
    from .retailers import registry as retailer_registry
    from .stt import cli as stt_cli
    from .tts import cli as tts_cli
    from .voice import cli as voice_cli

    voice_cli.register(sub)
    history.register(sub)
    orders.register(sub)
    retailer_registry.register(sub)
    retailer_login.register(sub)
    nlu_commands.register(sub, lambda config: nlu_sources(config, discover(config)))
    stt_cli.register(sub)
    tts_cli.register(sub)
    audio_cli.register(sub)
    models_cli.register(sub)
    scaffold.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    debug = args.traceback or bool(getattr(args, "debug", False))
    try:
        config = load_config(args.config)
        result = args.func(args, config)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except AssistantError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        for problem in getattr(err, "problems", [])[:50]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `assistant history list | head`: the reader left; nothing to report.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
