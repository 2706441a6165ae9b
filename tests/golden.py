"""Golden conversations: a skill's `tests/conversations/<lang>.yml`, turn by turn, and the checks of one turn.

A case is `{name, turns: [{say, heard?, intent?, expecting?, events?, reply?, not_in_reply?, proposed?}], ...}`;
keys beside `turns` (`placed`, `list`, ...) are for the skill's own test to check after the conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app import App
from assistant.orders import Order
from assistant.speech import HeardWord
from assistant.turn import TurnResult
from tests.speech_helpers import heard_words


def golden_cases(folder: Path, langs: tuple[str, ...] = ("en", "fr")) -> list[Any]:
    """pytest params (lang, case) of every case of `folder/<lang>.yml`, with ids "<lang>: <name>"."""
    params = []
    for lang in langs:
        cases = yaml.safe_load((folder / f"{lang}.yml").read_text(encoding="utf-8"))
        for case in cases:
            for turn in case["turns"]:
                # YAML 1.1 reads a bare yes / no as a boolean: quote them in the file.
                assert isinstance(turn["say"], str), f"{lang}.yml {case['name']!r}: quote `say: {turn['say']}`"
            params += [pytest.param(lang, case, id=f"{lang}: {case['name']}")]
    return params


def check_turn(result: TurnResult, expect: dict[str, Any]) -> None:
    """Assert what one turn of a case expects; the message gives what was said, understood and answered."""
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
    if "proposed" in expect:
        proposals = [e for e in result.events if e["type"] == "order_proposed"]
        assert len(proposals) == 1, said
        (item,) = proposals[0]["items"]
        assert expect["proposed"]["name"] in item["name"], said
        if "quantity" in expect["proposed"]:
            assert item["quantity"] == expect["proposed"]["quantity"], said
        assert proposals[0]["total_minor"] == item["quantity"] * item["unit_price_minor"], said


def spoken(turn: dict[str, Any]) -> tuple[HeardWord, ...]:
    """The turn's `words` (one confidence per space-separated word of `say`) as speech-to-text gives them."""
    return heard_words(turn["say"], *turn["words"]) if turn.get("words") else ()


async def hold(app: App, lang: str, case: dict[str, Any]) -> list[TurnResult]:
    """Say every turn of `case` (with its `heard` confidence, if any) in a new conversation of `app`, checking
    each with `check_turn`; the turns' results."""
    conversation = app.conversation(lang)
    results = []
    for turn in case["turns"]:
        result = await conversation.handle(
            turn["say"], heard=turn.get("heard"), words=spoken(turn), alternatives=turn.get("alternatives", ())
        )
        check_turn(result, turn)
        results.append(result)
    return results


def placed_orders(app: App) -> list[Order]:
    """The assistant's orders the shop has (placed or further)."""
    return [o for o in app.orders.list_orders() if o.retailer_order_id and o.state in ("placed", "shipped")]
