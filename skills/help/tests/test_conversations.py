"""Golden conversations of the help skill against the real NLU service, and what it says with only itself
enabled (no NLU needed: the parse is given)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from assistant.nlu.types import IntentScore, ParseResult
from tests.golden import golden_cases, hold
from tests.household import FixedClock, household

CASES = golden_cases(Path(__file__).parent / "conversations")


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "case"), CASES)
async def test_conversation(
    lang: str, case: dict[str, Any], nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang)
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    await hold(app, lang, case)
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
