"""Helpers for the skill-writing tests: a config.yml in a temp folder whose skills live beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.scaffold import new_skill

#: Trained models of the scaffold tests, cached apart from the project's (models/nlu/*/ is git-ignored),
#: so their worker never replaces the one `assistant chat` and the other tests use.
TEST_MODELS = PROJECT_ROOT / "models" / "nlu" / "test-skills"
#: Their worker's port (a busy port falls back to a free one).
TEST_PORT = 5918


def write_config(
    tmp_path: Path, *, enabled: list[str], langs: list[str], extra: dict[str, object] | None = None
) -> Path:
    """A config.yml in `tmp_path` with skills.paths [skills] (relative, as a user writes it)."""
    data: dict[str, object] = {
        "language": langs[0],
        "languages": langs,
        "data_dir": str(tmp_path / "home"),
        "skills": {"paths": ["skills"], "enabled": enabled},
        "nlu": {"rasa_env": str(PROJECT_ROOT / "nlu_service"), "models_dir": str(TEST_MODELS), "port": TEST_PORT},
        "retailer": {"adapter": "demo", "settings": {"catalogue": str(PROJECT_ROOT / "data/demo/catalogue.csv")}},
        **(extra or {}),
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yml"
    path.write_text("# test household\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (tmp_path / "skills").mkdir(exist_ok=True)
    return path


def scaffolded(tmp_path: Path, name: str = "weather", langs: tuple[str, ...] = ("en", "fr")) -> tuple[Config, Path]:
    """A new skill made by `assistant skill new` in `tmp_path/skills`, enabled in `tmp_path/config.yml`."""
    path = write_config(tmp_path, enabled=[], langs=list(langs))
    new_skill(name, load_config(path), path, folder=None, langs=list(langs), enable=True)
    return load_config(path), tmp_path / "skills" / name


ENTRY_SKILL = """
from assistant.skill import Context, Skill, intent

class Forecast(Skill):
    name = "forecast"

    @intent("today")
    async def today(self, ctx: Context) -> None:
        ctx.say("sunny")
"""


def install_entry_point(site: Path, monkeypatch: pytest.MonkeyPatch, name: str = "forecast") -> Path:
    """A real installed distribution (a dist-info on sys.path) publishing `name` in `assistant.skills`."""
    package = site / "forecast_skill"
    (package / "locales" / "en").mkdir(parents=True)
    (package / "__init__.py").write_text(ENTRY_SKILL, encoding="utf-8")
    (package / "locales" / "en" / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: today\n  examples: |\n    - forecast for today\n', encoding="utf-8"
    )
    (package / "locales" / "en" / "responses.yml").write_text('cloudy: "Cloudy."\n', encoding="utf-8")
    info = site / "forecast_skill-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: forecast-skill\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[assistant.skills]\n{name} = forecast_skill:Forecast\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    return package
