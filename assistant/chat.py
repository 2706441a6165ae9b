"""The chat REPL: the whole pipeline minus audio, for households without a speaker and for debugging."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from .app import App, build_app
from .config import Config
from .dialogue import Conversation
from .errors import ConfigError
from .turn import TurnResult

HELP = """Commands: /lang en|fr  switch language · /state  show the dialogue state · /quit  leave (or Ctrl-D)"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("chat", help="talk to the assistant by typing (no microphone needed)")
    p.add_argument("--lang", choices=["en", "fr"], help="conversation language (default: config.yml's language)")
    p.add_argument(
        "--debug", action="store_true", help="show intent, entities, skill, dialogue state and timings per turn"
    )
    p.add_argument("--script", metavar="FILE", help="read user lines from FILE ('-' for stdin) instead of a prompt")
    p.add_argument("--json", action="store_true", help="print one JSON object per user line on stdout")
    p.set_defaults(func=run_chat, is_async=True)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_chat(args: argparse.Namespace, config: Config) -> int:
    lang = args.lang or config.language
    if lang not in config.languages:
        raise ConfigError(
            f"--lang {lang}: not in config.yml's languages {config.languages}",
            hint="add it to `languages` in config.yml",
        )
    app = await build_app(config, progress)
    _warn_if_empty(app)
    conversation = app.conversation(lang)
    interactive = args.script is None and sys.stdin.isatty()
    if interactive and not args.json:
        print(f"assistant: household at {config.home} · language {lang} · /help for commands · Ctrl-D to leave")
    try:
        async for line in _lines(args.script, config.home, interactive):
            if line.startswith("/"):
                if not _command(line, conversation, app, out=sys.stderr if args.json else sys.stdout):
                    break
                continue
            result = await conversation.handle(line)
            _show(result, conversation, args)
    finally:
        await conversation.close()
        await app.close()
    return 0


async def _lines(script: str | None, home: Path, interactive: bool) -> AsyncIterator[str]:
    """User lines: from a file, stdin, or an interactive prompt with line editing and history."""
    if not interactive:
        stream = sys.stdin if script in (None, "-") else open(script, encoding="utf-8")  # noqa: SIM115
        with stream:
            for raw in stream:
                line = raw.strip()
                if line and not line.startswith("#"):
                    yield line
        return
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    home.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(history=FileHistory(str(home / "chat_history")))
    while True:
        try:
            line = (await session.prompt_async("you> ")).strip()
        except (EOFError, KeyboardInterrupt):
            return
        if line:
            yield line


def _command(line: str, conversation: Conversation, app: App, out: TextIO) -> bool:
    """REPL slash commands (printed to `out`, stderr in --json mode); False means quit."""
    word, _, arg = line.partition(" ")
    if word in ("/quit", "/exit"):
        return False
    if word == "/lang" and arg.strip() in app.config.languages:
        conversation.lang = arg.strip()
        print(f"language: {conversation.lang}", file=out)
    elif word == "/state":
        print(json.dumps(_state(conversation), ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(HELP, file=out)
    return True


def _state(conversation: Conversation) -> dict[str, object]:
    p = conversation.pending
    return {
        "lang": conversation.lang,
        "turn": conversation.turn,
        "expecting": p.kind if p else None,
        "waiting_skill": p.skill if p else None,
        "deadline": p.deadline.isoformat() if p else None,
        "options": [o.label for o in p.options] if p else [],
        "skill_state": conversation.skill_state,
    }


def _show(result: TurnResult, conversation: Conversation, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        return
    if args.debug:
        print_debug(result)
    print(f"assistant> {result.reply}", flush=True)


def print_debug(result: TurnResult, timings_ms: dict[str, float] | None = None) -> None:
    """The `--debug` lines of a turn: intent, entities, skill, dialogue state, timings (default: the turn's)."""
    intent = f"{result.intent.name} ({result.intent.confidence:.2f})" if result.intent else "none"
    entities = ", ".join(f"{e.entity}={e.value!r}" for e in result.entities) or "none"
    timings = " ".join(f"{k}={v:.1f}ms" for k, v in (timings_ms or result.timings_ms).items())
    print(f"  intent: {intent}\n  entities: {entities}\n  skill: {result.skill or 'none'}")
    print(f"  state: expecting={result.expecting or 'nothing'} events={[e['type'] for e in result.events]}")
    print(f"  timings: {timings}")


def _warn_if_empty(app: App) -> None:
    from .history import household_products

    if not household_products(app.engine):
        progress(
            f"note: the household at {app.config.home} has no order history yet; "
            "import one with `assistant history import FILE.csv` (make chat loads the demo household)"
        )
