"""The chat REPL: the whole pipeline minus audio, for households without a speaker and for debugging."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from . import devloop
from .app import App, build_app
from .config import Config, default_config_path
from .dialogue import Conversation
from .errors import AssistantError, ConfigError
from .turn import TurnResult

log = logging.getLogger(__name__)

HELP = """Commands:
  /skills        enabled skills, their intents and languages
  /intents       each intent, its skill, and its number of examples per language
  /reload        pick up changed skill code, NLU examples, replies and config.yml's skills (retrains only what changed)
  /state         the dialogue state: open question, each skill's state
  /lang en|fr    switch language
  /help          this list
  /quit          leave (or Ctrl-D)"""


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
    app = await build_app(config, progress, config_path=_config_file(args))
    _warn_if_empty(app)
    conversation = app.conversation(lang)
    interactive = args.script is None and sys.stdin.isatty()
    if interactive and not args.json:
        print(f"assistant: household at {config.home} · language {lang} · /help for commands · Ctrl-D to leave")
    try:
        async for line in _lines(args.script, config.home, interactive):
            if line.startswith("/"):
                out = sys.stderr if args.json else sys.stdout
                if line.partition(" ")[0] in ("/quit", "/exit"):
                    break
                conversation = await command(line, conversation, app, out=out)
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


def _config_file(args: argparse.Namespace) -> Path | None:
    """The config file `/reload` reads again (None when running on defaults without one)."""
    path = Path(args.config) if getattr(args, "config", None) else default_config_path()
    return path if path.exists() else None


async def command(line: str, conversation: Conversation, app: App, out: TextIO) -> Conversation:
    """A REPL slash command (printed to `out`, stderr in --json mode); returns the conversation to go on
    with, a new one after a successful `/reload`."""
    word, _, arg = line.partition(" ")
    arg = arg.strip()
    if word == "/lang":
        if arg in app.config.languages:
            conversation.lang = arg
            print(f"language: {conversation.lang}", file=out)
        else:
            print(f"/lang: choose one of {', '.join(app.config.languages)} (config.yml's languages)", file=out)
    elif word == "/state":
        print(json.dumps(_state(conversation), ensure_ascii=False, indent=2, default=str), file=out)
    elif word == "/skills":
        print("\n".join(devloop.skill_lines(app.skills, app.config.languages, conversation.lang)), file=out)
    elif word == "/intents":
        print("\n".join(devloop.intent_lines(app.skills, app.config.languages)), file=out)
    elif word == "/reload":
        return await _reload(conversation, app, out)
    else:
        print(HELP, file=out)
    return conversation


async def _reload(conversation: Conversation, app: App, out: TextIO) -> Conversation:
    try:
        await devloop.reload(app, lambda message: print(message, file=out, flush=True))
    except AssistantError as err:
        print(f"reload failed: {err}\nThe previous skills are still running.", file=out)
        return conversation
    except Exception as err:  # a skill's setup() crashed: report it, keep the REPL
        log.debug("reload failed", exc_info=err)
        print(f"reload failed: {type(err).__name__}: {err}\nThe previous skills are still running.", file=out)
        return conversation
    if conversation.pending is not None:
        print("The open question was dropped: its handler belonged to the old code.", file=out)
    await conversation.close()
    fresh = app.conversation(conversation.lang)
    fresh.turn = conversation.turn
    fresh.skill_state.update({k: v for k, v in conversation.skill_state.items() if k in fresh.skills})
    return fresh


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
    claimed = next((e for e in result.events if e["type"] == "intent_claimed"), None)
    if claimed is not None:  # the NLU was unsure; a skill recognised its request (Skill.claims)
        intent += f", claimed by {claimed['skill']} as {claimed['intent']}"
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
