"""The chat REPL's developer commands: /skills, /intents, /state, /lang, /help and /reload.

The NLU here is a keyword parser (the real one is exercised in test_scaffold.py); the skills are real
folders made by `assistant skill new`, loaded, edited and reloaded."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.app import App, build_app
from assistant.chat import command, print_debug
from assistant.config import Config
from assistant.dialogue import Conversation
from assistant.nlu.data import NLUSource
from assistant.nlu.types import Entity, IntentScore, ParseResult
from assistant.scaffold import new_skill
from assistant.turn import TurnResult
from tests.household import FixedClock
from tests.skill_helpers import scaffolded

RULES = [
    (r"^(yes|oui)$", "core.affirm", None),
    (r"^(no|non)$", "core.deny", None),
    (r"^(hello|bonjour) (\w+)$", "{2}.hello", None),
    (r"^set (\w+) to (\w+)$", "{1}.set_number", 2),
    (r"^what is the (\w+) number$", "{1}.get_number", None),
    (r"^forecast$", "weather.forecast", None),
]


class KeywordParser:
    """Reads the few sentences these tests say; records each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def parse(self, text: str, lang: str) -> ParseResult:
        self.calls.append(text)
        for pattern, intent, slot in RULES:
            found = re.match(pattern, text)
            if found:
                name = intent.format(*[found[0], *found.groups()])
                entities = (Entity("number", found[slot], found.start(slot), found.end(slot)),) if slot else ()
                return ParseResult(text, lang, IntentScore(name, 0.99), entities)
        return ParseResult(text, lang, IntentScore("core.out_of_scope", 0.9))


async def start(tmp_path: Path) -> tuple[App, Conversation, Path]:
    config, folder = scaffolded(tmp_path)
    app = await build_app(
        config, lambda message: None, nlu=KeywordParser(), clock=FixedClock(), config_path=tmp_path / "config.yml"
    )
    return app, app.conversation("en"), folder


async def run(line: str, conversation: Conversation, app: App) -> tuple[str, Conversation]:
    out = io.StringIO()
    conversation = await command(line, conversation, app, out=out)
    return out.getvalue(), conversation


async def test_skills_lists_each_skill_its_languages_and_intents(tmp_path: Path) -> None:
    app, conversation, folder = await start(tmp_path)
    shown, _ = await run("/skills", conversation, app)
    assert f"weather  ({folder})  languages: en, fr" in shown
    assert "intents: get_number, hello, set_number" in shown
    assert "say hello, and set the weather number" in shown
    await app.close()


async def test_intents_shows_skill_and_example_counts(tmp_path: Path) -> None:
    app, conversation, folder = await start(tmp_path)
    (folder / "locales" / "fr" / "nlu.yml").write_text(
        (folder / "locales" / "fr" / "nlu.yml").read_text(encoding="utf-8").replace("    - coucou weather\n", ""),
        encoding="utf-8",
    )
    shown, _ = await run("/intents", conversation, app)
    rows = {line.split()[0]: line.split()[1:] for line in shown.splitlines()}
    assert rows["weather.hello"] == ["weather", "en", "10", "fr", "9"]
    assert rows["weather.set_number"] == ["weather", "en", "13", "fr", "13"]
    await app.close()


async def test_state_shows_the_open_question_then_the_skill_state(tmp_path: Path) -> None:
    app, conversation, _ = await start(tmp_path)
    assert (await conversation.handle("set weather to 5")).reply == "Set weather to 5?"
    shown, _ = await run("/state", conversation, app)
    state = json.loads(shown)
    assert (state["expecting"], state["waiting_skill"]) == ("confirmation", "weather")
    await conversation.handle("yes")
    state = json.loads((await run("/state", conversation, app))[0])
    assert state["expecting"] is None and state["skill_state"] == {"weather": {"number": 5}}
    await app.close()


async def test_lang_switches_and_refuses_an_unknown_language(tmp_path: Path) -> None:
    app, conversation, _ = await start(tmp_path)
    shown, conversation = await run("/lang fr", conversation, app)
    assert shown.strip() == "language: fr"
    assert (await conversation.handle("bonjour weather")).reply.startswith("Bonjour ! Je suis la compétence weather")
    shown, conversation = await run("/lang de", conversation, app)
    assert "choose one of en, fr" in shown and conversation.lang == "fr"
    await app.close()


async def test_help_lists_every_command(tmp_path: Path) -> None:
    app, conversation, _ = await start(tmp_path)
    for line in ("/help", "/what"):
        shown, _ = await run(line, conversation, app)
        for name in ("/skills", "/intents", "/reload", "/state", "/lang", "/quit"):
            assert name in shown
    await app.close()


FORECAST_CODE = """
    @intent("forecast")
    async def forecast(self, ctx: Context) -> None:
        ctx.say("forecast", number=ctx.state.get("number", 0))
"""


def add_forecast(folder: Path) -> None:
    """The edit a developer makes: a handler, its examples in both languages, its reply."""
    code = folder / "skill.py"
    text = code.read_text(encoding="utf-8")
    code.write_text(
        text.replace('    @intent("get_number")', FORECAST_CODE.lstrip("\n") + '\n    @intent("get_number")'), "utf-8"
    )
    for lang, sentence in (("en", "Sunny, {number} degrees."), ("fr", "Du soleil, {number} degrés.")):
        nlu = folder / "locales" / lang / "nlu.yml"
        nlu.write_text(
            nlu.read_text(encoding="utf-8") + "- intent: forecast\n  examples: |\n    - forecast\n", encoding="utf-8"
        )
        replies = folder / "locales" / lang / "responses.yml"
        replies.write_text(replies.read_text(encoding="utf-8") + f'forecast: "{sentence}"\n', encoding="utf-8")


async def test_reload_picks_up_new_code_examples_and_replies_keeping_state(tmp_path: Path) -> None:
    app, conversation, folder = await start(tmp_path)
    await conversation.handle("set weather to 7")
    await conversation.handle("yes")
    assert (await conversation.handle("forecast")).skill is None  # no handler yet
    add_forecast(folder)
    shown, fresh = await run("/reload", conversation, app)
    assert "Code changed: weather/skill.py" in shown and "Reloaded: weather" in shown
    assert fresh is not conversation and fresh.lang == "en"
    assert (await fresh.handle("forecast")).reply == "Sunny, 7 degrees."  # state survived the reload
    assert "weather.forecast" in (await run("/intents", fresh, app))[0]
    await app.close()


async def test_a_failed_reload_keeps_the_old_skills_answering(tmp_path: Path) -> None:
    app, conversation, folder = await start(tmp_path)
    code = folder / "skill.py"
    good = code.read_text(encoding="utf-8")
    code.write_text(good.replace("    async def hello(self", "    async def hello(self,,"), encoding="utf-8")
    shown, same = await run("/reload", conversation, app)
    assert "reload failed: skill 'weather' failed to import" in shown and "previous skills are still running" in shown
    assert same is conversation
    assert (await same.handle("hello weather")).reply.startswith("Hello! I'm the weather skill")

    code.write_text(good, encoding="utf-8")
    nlu = folder / "locales" / "en" / "nlu.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "- intent: rain\n  examples: |\n    - will it rain\n", "utf-8")
    shown, same = await run("/reload", conversation, app)
    assert f"reload failed: {nlu} line" in shown and "intent 'rain' of skill 'weather' has no handler" in shown
    assert (await same.handle("hello weather")).reply.startswith("Hello! I'm the weather skill")
    await app.close()


async def test_reload_retrains_through_the_connector_and_reads_config(tmp_path: Path) -> None:
    app, conversation, _ = await start(tmp_path)
    seen: list[list[NLUSource]] = []
    fresh_parser = KeywordParser()

    async def connect(config: Config, sources: Sequence[NLUSource], progress: object) -> KeywordParser:
        seen.append(list(sources))
        return fresh_parser

    app.connect_nlu = connect
    # A second skill, enabled by editing config.yml while the chat runs.
    new_skill("garden", app.config, tmp_path / "config.yml", folder=None, langs=["en", "fr"], enable=True)
    await conversation.handle("set weather to 3")  # a question is open during the reload
    shown, fresh = await run("/reload", conversation, app)
    assert "New skills: garden" in shown and "open question was dropped" in shown
    assert {(s.skill, s.lang) for s in seen[0]} >= {("garden", "en"), ("garden", "fr"), ("weather", "fr")}
    assert app.nlu is fresh_parser and fresh.pending is None
    assert (await fresh.handle("hello garden")).reply.startswith("Hello! I'm the garden skill")
    assert fresh_parser.calls == ["hello garden"]
    await app.close()


def test_debug_lines_show_the_turn_and_who_claimed_an_unsure_one(capsys: pytest.CaptureFixture[str]) -> None:
    claimed = TurnResult(
        turn=1,
        lang="en",
        text="it more oatly",
        intent=IntentScore("core.affirm", 0.43),
        entities=(Entity("product", "oatly", 8, 13),),
        skill="shopping",
        reply="You usually get Oatly…",
        expecting="confirmation",
        events=(
            {"type": "intent_claimed", "skill": "shopping", "intent": "shopping.reorder", "nlu_intent": "core.affirm"},
            {"type": "order_proposed"},
        ),
        timings_ms={"nlu": 12.0, "skill": 20.0, "total": 32.0},
    )
    print_debug(claimed)
    out = capsys.readouterr().out
    assert "intent: core.affirm (0.43), claimed by shopping as shopping.reorder" in out
    assert "entities: product='oatly'" in out and "skill: shopping" in out
    assert "expecting=confirmation events=['intent_claimed', 'order_proposed']" in out
    assert "nlu=12.0ms skill=20.0ms total=32.0ms" in out
    print_debug(replace(claimed, events=()))
    assert "claimed" not in capsys.readouterr().out
