"""Golden conversations (conversations/<lang>.yml) against the real NLU service, the demo household in a real
SQLite file and the demo shop: the list, and "order my list" handed to the shopping skill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from skills.shopping_list.parsing import display
from skills.shopping_list.store import ListStore
from tests.golden import golden_cases, hold, placed_orders
from tests.household import FixedClock, household

CASES = golden_cases(Path(__file__).parent / "conversations")


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "case"), CASES)
async def test_conversation(
    lang: str, case: dict[str, Any], nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang)
    clock = FixedClock()
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=clock)
    results = await hold(app, lang, case)
    proposed = [e for result in results for e in result.events if e["type"] == "order_proposed"]
    placed = placed_orders(app)
    assert len(placed) == case.get("placed", 0)
    if "lines" in case:
        (order,) = placed
        assert len(order.lines) == case["lines"]
        # The one order placed is the one proposal confirmed, line for line.
        assert sorted(line.sku for line in order.lines) == sorted(i["sku"] for i in proposed[-1]["items"])
    if "list" in case:
        lines = ListStore(app.engine, lang, clock).lines()
        assert [display(line.item, lang) for line in lines] == case["list"]
    await app.close()
