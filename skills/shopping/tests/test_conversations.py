"""Golden conversations (conversations/<lang>.yml) against the real NLU service and the demo household."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from tests.golden import golden_cases, hold, placed_orders
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
    assert len(placed_orders(app)) == case.get("placed", 0)
