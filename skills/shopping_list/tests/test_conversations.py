"""Golden conversations (conversations/<lang>.yml) against the real NLU service, the demo household in a real
SQLite file and the demo shop: the list, and "order my list" handed to the shopping skill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from assistant.turn import TurnResult
from skills.shopping_list.parsing import display
from skills.shopping_list.store import ListStore
from tests.household import FixedClock, household

HERE = Path(__file__).parent / "conversations"


def load_cases(lang: str) -> list[dict[str, Any]]:
    cases = yaml.safe_load((HERE / f"{lang}.yml").read_text(encoding="utf-8"))
    for case in cases:
        for turn in case["turns"]:
            # YAML 1.1 reads a bare yes / no as a boolean: quote them in the file.
            assert isinstance(turn["say"], str), f"{lang}.yml {case['name']!r}: quote `say: {turn['say']}`"
    return cases


CASES = [pytest.param(lang, case, id=f"{lang}: {case['name']}") for lang in ("en", "fr") for case in load_cases(lang)]


def check_turn(result: TurnResult, expect: dict[str, Any]) -> None:
    said = f"turn {result.turn} {result.text!r} → {result.intent} {result.reply!r} {[e['type'] for e in result.events]}"
    if "intent" in expect:
        assert result.intent is not None and result.intent.name == expect["intent"], said
    if "expecting" in expect:
        assert result.expecting == expect["expecting"], said
    if "events" in expect:
        assert [e["type"] for e in result.events] == expect["events"], said
    for fragment in expect.get("reply", []):
        assert fragment in result.reply, said
    for fragment in expect.get("not_in_reply", []):
        assert fragment not in result.reply, said


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "case"), CASES)
async def test_conversation(
    lang: str, case: dict[str, Any], nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang)
    clock = FixedClock()
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=clock)
    conversation = app.conversation(lang)
    proposed: list[dict[str, Any]] = []
    for turn in case["turns"]:
        result = await conversation.handle(turn["say"])
        check_turn(result, turn)
        proposed += [e for e in result.events if e["type"] == "order_proposed"]
    placed = [o for o in app.orders.list_orders() if o.retailer_order_id and o.state in ("placed", "shipped")]
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
