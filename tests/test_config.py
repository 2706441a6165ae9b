"""config.yml: defaults, the shipped file, and errors that name the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, load_config
from assistant.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid() -> None:
    config = load_config(PROJECT_ROOT / "config.yml")
    assert config.language == "en"
    assert "shopping" in config.skills.enabled
    assert config.retailer.adapter == "demo"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.nlu.port == 5905
    assert config.languages == ["en", "fr"]


def test_assistant_home_overrides_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, "data_dir: /somewhere/else\n"))
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "household"))
    assert config.home == tmp_path / "household"
    assert config.db_path == tmp_path / "household" / "assistant.sqlite"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_HOME", raising=False)
    config = load_config(write(tmp_path, "data_dir: household\n"))
    assert config.home == tmp_path / "household"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nlu:\n  port: abc\n", "nlu.port: expected an integer, got 'abc'"),
        ("nlu:\n  port: 70000\n", "nlu.port: expected a port number"),
        ("nlu:\n  confidence_threshold: 2\n", "nlu.confidence_threshold: expected a number between 0 and 1"),
        ("nlu:\n  pipeline: bert\n", "nlu.pipeline: expected one of 'light', 'intent_crf', 'diet', got 'bert'"),
        ("skils:\n  enabled: []\n", "skils: unknown key"),
        ("nlu:\n  prot: 1\n", "nlu.prot: unknown key"),
        ("language: de\n", "language: expected one of 'en', 'fr', got 'de'"),
        ("languages: [en]\nlanguage: fr\n", "language: 'fr' is not listed in languages"),
        ("skills:\n  enabled: shopping\n", "skills.enabled: expected a list, got 'shopping'"),
        ("skills:\n  enabled: [shopping, 3]\n", "skills.enabled[1]: expected a string, got 3"),
        ("dialogue: 5\n", "dialogue: expected a mapping, got 5"),
        ("- just\n- a list\n", "expected a mapping of settings at the top level"),
        ("nlu:\n  port: [1\n", "line 3: not valid YAML"),
        ("base_dir: /tmp\n", "base_dir: unknown key"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yml")


def test_non_utf8_config_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_bytes("language: fr # café\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)
