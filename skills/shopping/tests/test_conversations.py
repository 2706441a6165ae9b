"""Golden conversations (conversations/<lang>.yml) against the real NLU service and the demo household."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from assistant.turn import TurnResult
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
    said = f"turn {result.turn} {result.text!r} → {result.reply!r}"
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
    if "proposed" in expect:
        proposals = [e for e in result.events if e["type"] == "order_proposed"]
        assert len(proposals) == 1, said
        (item,) = proposals[0]["items"]
        assert expect["proposed"]["name"] in item["name"], said
        if "quantity" in expect["proposed"]:
            assert item["quantity"] == expect["proposed"]["quantity"], said
        assert proposals[0]["total_minor"] == item["quantity"] * item["unit_price_minor"], said


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "case"), CASES)
async def test_conversation(
    lang: str, case: dict[str, Any], nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang)
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    conversation = app.conversation(lang)
    for turn in case["turns"]:
        result = await conversation.handle(turn["say"], heard=turn.get("heard"))
        check_turn(result, turn)
    placed = [o for o in app.orders.list_orders() if o.retailer_order_id and o.state in ("placed", "shipped")]
    assert len(placed) == case.get("placed", 0)
