"""`assistant skill new`: name checks, the files it writes, config.yml edits that keep comments, and a
scaffolded skill holding a two-turn conversation through the real NLU (one training run, cached)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app import build_app
from assistant.cli import main
from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.errors import SkillError
from assistant.loader import load_skills, nlu_sources
from assistant.nlu.client import NLUClient
from assistant.scaffold import new_skill
from tests.household import FixedClock
from tests.skill_helpers import install_entry_point, scaffolded, write_config

EXPECTED_FILES = {
    "README.md",
    "__init__.py",
    "skill.py",
    "locales/en/nlu.yml",
    "locales/en/responses.yml",
    "locales/fr/nlu.yml",
    "locales/fr/responses.yml",
    "tests/test_pet_food.py",
}


def make(tmp_path: Path, name: str, **kwargs: object) -> None:
    path = tmp_path / "config.yml"
    if not path.exists():
        write_config(tmp_path, enabled=[], langs=["en", "fr"])
    options: dict[str, object] = {"folder": None, "langs": ["en", "fr"], "enable": True, **kwargs}
    new_skill(name, load_config(path), path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Weather", "try `assistant skill new weather`"),
        ("my-skill", "try `assistant skill new my_skill`"),
        ("2cool", "try `assistant skill new skill_2cool`"),
        ("class", "must be a lower-case Python identifier"),
        ("core", "reserved by the framework"),
    ],
)
def test_invalid_names_are_refused_with_a_suggestion(tmp_path: Path, name: str, fragment: str) -> None:
    with pytest.raises(SkillError) as caught:
        make(tmp_path, name)
    assert fragment in str(caught.value)
    assert list((tmp_path / "skills").iterdir()) == []


def test_an_existing_folder_or_skill_is_refused(tmp_path: Path) -> None:
    make(tmp_path, "weather")
    with pytest.raises(SkillError, match=r"skills/weather already exists"):
        make(tmp_path, "weather")
    with pytest.raises(SkillError, match=r"a skill named 'weather' already exists in .*skills/weather"):
        make(tmp_path, "weather", folder=tmp_path / "elsewhere")


def test_a_name_taken_by_an_installed_package_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_point(tmp_path / "site", monkeypatch, name="forecast")
    with pytest.raises(SkillError, match=r"taken by the installed package skill forecast_skill:Forecast"):
        make(tmp_path, "forecast")


def test_files_written_and_loadable(tmp_path: Path) -> None:
    make(tmp_path, "pet_food")
    folder = tmp_path / "skills" / "pet_food"
    assert {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} == EXPECTED_FILES
    assert "class PetFoodSkill(Skill):" in (folder / "skill.py").read_text(encoding="utf-8")
    assert "- set pet food to [five](number)" in (folder / "locales/en/nlu.yml").read_text(encoding="utf-8")
    (loaded,) = load_skills(load_config(tmp_path / "config.yml"), {})
    assert loaded.name == "pet_food" and "pet_food.set_number" in loaded.handlers


def test_only_the_languages_asked_for(tmp_path: Path) -> None:
    write_config(tmp_path, enabled=[], langs=["en"])
    make(tmp_path, "weather", langs=["en"])
    assert sorted(p.name for p in (tmp_path / "skills/weather/locales").iterdir()) == ["en"]
    with pytest.raises(SkillError, match=r"config.yml also serves fr.*add --lang fr, or use --no-enable"):
        make(tmp_path / "two", "weather", langs=["en"])  # a config serving en and fr


def test_enabling_edits_the_project_config_keeping_its_comments(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    path = tmp_path / "config.yml"
    path.write_text(text.replace("paths: [skills]", f"paths: [{tmp_path / 'skills'}]"), encoding="utf-8")
    (tmp_path / "skills").mkdir()
    new_skill("weather", load_config(path), path, folder=None, langs=["en", "fr"], enable=True)
    edited = path.read_text(encoding="utf-8")
    (before,) = [line for line in text.splitlines() if line.startswith("  enabled: [")]
    assert before.replace("]", ", weather]", 1) in edited.splitlines()  # its comment kept
    assert [line for line in edited.splitlines() if "enabled:" not in line] == [
        line
        for line in text.replace("paths: [skills]", f"paths: [{tmp_path / 'skills'}]").splitlines()
        if "enabled:" not in line
    ]
    assert load_config(path).skills.enabled == [*load_config(PROJECT_ROOT / "config.yml").skills.enabled, "weather"]


@pytest.mark.parametrize(
    ("skills_yaml", "expected"),
    [
        ("skills:\n  paths: [skills]\n  enabled:\n    - shopping   # first\n  settings: {}\n", "    - weather\n"),
        ("skills:\n  paths: [skills]\n", "  enabled: [shopping, weather]\n"),
        ("language: en\n", "skills:\n  enabled: [shopping, weather]\n"),
    ],
)
def test_enabling_other_config_shapes(tmp_path: Path, skills_yaml: str, expected: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text("# my household\n" + skills_yaml, encoding="utf-8")
    config = load_config(path)
    new_skill("weather", config, path, folder=tmp_path / "skills", langs=["en", "fr"], enable=True)
    edited = path.read_text(encoding="utf-8")
    assert edited.startswith("# my household\n") and expected in edited
    assert load_config(path).skills.enabled == ["shopping", "weather"]


def test_a_folder_outside_skills_paths_is_added_to_them(tmp_path: Path) -> None:
    write_config(tmp_path, enabled=[], langs=["en", "fr"])
    make(tmp_path, "weather", folder=tmp_path / "mine")
    config = load_config(tmp_path / "config.yml")
    assert config.skills.paths == ["skills", "mine"] and config.skills.enabled == ["weather"]
    assert [s.folder for s in load_skills(config, {})] == [tmp_path / "mine" / "weather"]


def test_cli_prints_the_files_and_the_config_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, enabled=[], langs=["en", "fr"])
    assert main(["--config", str(path), "skill", "new", "weather"]) == 0
    out = capsys.readouterr().out
    assert f"Created {tmp_path / 'skills' / 'weather'}/" in out and "  tests/test_weather.py" in out
    assert f"Enabled it in {path}: skills.enabled: [weather]" in out
    assert main(["--config", str(path), "skill", "new", "garden", "--no-enable"]) == 0
    out = capsys.readouterr().out
    assert "Not enabled: add this to" in out and "  enabled: [weather, garden]" in out
    assert load_config(path).skills.enabled == ["weather"]
    assert main(["--config", str(path), "skill", "new", "garden"]) == 1
    assert "error: " in capsys.readouterr().err


# --- the scaffolded skill through the real NLU ---------------------------------------------------------


@pytest.fixture(scope="module")
def scaffold_nlu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, NLUClient]]:
    """A scaffolded skill alone (plus the framework's yes/no) and its own NLU worker, stopped afterwards."""
    from assistant.nlu.service import connect, stop

    root = tmp_path_factory.mktemp("scaffold")
    config, _ = scaffolded(root)

    async def attach() -> NLUClient:
        client = await connect(config, nlu_sources(config), lambda m: print(f"[nlu] {m}", file=sys.stderr))
        await client.aclose()
        return client

    client = asyncio.run(attach())
    yield config, client
    stop(config)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "turns"),
    [
        ("en", [("set weather to five", "Set weather to 5?"), ("yes", "Done: weather is now 5.")]),
        ("fr", [("règle weather sur trois", "Je règle weather sur 3 ?"), ("oui", "weather est maintenant à 3")]),
        ("en", [("set the weather number", "What number should I set weather to?"), ("twelve", "Set weather to 12?"),
                ("no", "I left weather as it was")]),
    ],
)  # fmt: skip
async def test_two_turn_conversation_through_the_real_nlu(
    lang: str, turns: list[tuple[str, str]], scaffold_nlu: tuple[Config, NLUClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, client = scaffold_nlu
    monkeypatch.setenv("ASSISTANT_HOME", str(Path(config.base_dir) / f"home-{lang}"))
    app = await build_app(config, lambda m: None, nlu=client, clock=FixedClock())
    conversation = app.conversation(lang)
    for say, reply in turns:
        result = await conversation.handle(say)
        assert reply in result.reply, f"{say!r} → {result.reply!r} ({result.intent}, {result.entities})"
    assert conversation.pending is None
    await app.close()


@pytest.mark.slow
def test_the_generated_test_passes(scaffold_nlu: tuple[Config, NLUClient]) -> None:
    config, _ = scaffold_nlu
    tests = Path(config.base_dir) / "skills" / "weather" / "tests"
    env = {**os.environ, "ASSISTANT_CONFIG": str(Path(config.base_dir) / "config.yml")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        cwd=config.base_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "5 passed" in run.stdout  # 3 English and 2 French conversations
