"""`order my list` without the skill that offers ordering: a clear error, and the list is kept.
The NLU is not under test here: a parser that returns the intents the test needs stands in for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import build_app
from assistant.nlu.types import IntentScore, ParseResult
from skills.shopping_list.parsing import display
from skills.shopping_list.store import ListStore
from tests.household import FixedClock, household


class ByPrefix:
    """Reads "add ..." as shopping_list.add and anything else as shopping_list.order."""

    async def parse(self, text: str, lang: str) -> ParseResult:
        name = "shopping_list.add" if text.startswith("add") else "shopping_list.order"
        return ParseResult(text, lang, IntentScore(name, 0.99))


async def test_order_without_the_shopping_skill_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = household(tmp_path, monkeypatch, "en", skills={"paths": ["skills"], "enabled": ["shopping_list"]})
    clock = FixedClock()
    app = await build_app(config, lambda message: None, nlu=ByPrefix(), clock=clock)
    conversation = app.conversation("en")
    await conversation.handle("add eggs and milk to my list")
    result = await conversation.handle("order my list")
    assert "shopping.order_list" in result.reply
    assert result.expecting is None
    assert app.orders.list_orders() == []
    assert [display(line.item, "en") for line in ListStore(app.engine, "en", clock).lines()] == ["eggs", "milk"]
    await app.close()
