"""Shared test helpers: an isolated household (real SQLite file) loaded with a demo history, and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.history import import_history
from assistant.storage.db import open_db

DEMO = PROJECT_ROOT / "data" / "demo"
#: Friday 2026-11-20, 09:00 UTC: after the demo histories end, so "last time" is in the past.
FIXED_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FixedClock:
    """A clock tests can move by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def household(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str | None = "en", **overrides: object) -> Config:
    """A config whose ASSISTANT_HOME is a fresh folder, with the demo history of `lang` imported (None: empty)."""
    home = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    config = load_config(PROJECT_ROOT / "config.yml", overrides=dict(overrides) or None)
    if lang:
        import_history(open_db(config.db_path), DEMO / f"history_{lang}.csv")
    return config
