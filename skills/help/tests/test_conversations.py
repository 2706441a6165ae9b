"""Golden conversations of the help skill against the real NLU service, and what it says with only itself
enabled (no NLU needed: the parse is given)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from assistant.nlu.types import IntentScore, ParseResult
from tests.household import FixedClock, household

HERE = Path(__file__).parent / "conversations"
CASES = [
    pytest.param(lang, case, id=f"{lang}: {case['name']}")
    for lang in ("en", "fr")
    for case in yaml.safe_load((HERE / f"{lang}.yml").read_text(encoding="utf-8"))
]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "case"), CASES)
async def test_conversation(
    lang: str, case: dict[str, Any], nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang)
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    conversation = app.conversation(lang)
    for turn in case["turns"]:
        result = await conversation.handle(turn["say"])
        said = f"{result.text!r} → {result.intent} {result.reply!r}"
        if "intent" in turn:
            assert result.intent is not None and result.intent.name == turn["intent"], said
        if "events" in turn:
            assert [e["type"] for e in result.events] == turn["events"], said
        for fragment in turn.get("reply", []):
            assert fragment in result.reply, said
        for fragment in turn.get("not_in_reply", []):
            assert fragment not in result.reply, said
    await app.close()


class HelpOnly:
    """A parser that reads every utterance as the help intent (the NLU is not under test here)."""

    async def parse(self, text: str, lang: str) -> ParseResult:
        return ParseResult(text, lang, IntentScore("help.capabilities", 0.99))


async def test_help_alone_says_how_to_enable_skills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = household(tmp_path, monkeypatch, None, skills={"paths": ["skills"], "enabled": ["help"]})
    app = await build_app(config, lambda message: None, nlu=HelpOnly(), clock=FixedClock())
    result = await app.conversation("en").handle("what can you do")
    assert "skills.enabled" in result.reply
    assert result.events == ({"type": "help", "skills": []},)
    await app.close()
