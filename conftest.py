"""Fixtures shared by tests/ and skills/*/tests/."""

pytest_plugins = ["tests.fixtures", "tests.audio_fixtures"]
