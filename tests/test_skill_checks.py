"""Load-time checks: each mistake a skill author makes fails at start, naming the file (and line) to fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.errors import SkillError
from assistant.loader import load_skills
from tests.skill_helpers import install_entry_point, scaffolded, write_config


def load_error(config: Config) -> str:
    with pytest.raises(SkillError) as caught:
        load_skills(config, {})
    return str(caught.value)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


def test_the_scaffolded_skill_passes_every_check(tmp_path: Path) -> None:
    config, _ = scaffolded(tmp_path)
    (loaded,) = load_skills(config, {})
    assert sorted(loaded.handlers) == ["weather.get_number", "weather.hello", "weather.set_number"]


def test_handler_without_examples_in_an_enabled_language(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    nlu = folder / "locales" / "fr" / "nlu.yml"
    text = nlu.read_text(encoding="utf-8")
    nlu.write_text(text[: text.index("- intent: get_number")], encoding="utf-8")
    message = load_error(config)
    assert "intent 'get_number' has a handler" in message and "no NLU examples for 'fr'" in message
    line = line_of(folder / "skill.py", '@intent("get_number")')
    assert f"skill.py:{line}" in message
    assert f"add `- intent: get_number` with examples to {nlu}" in message


def test_a_language_without_any_nlu_file(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    shutil.rmtree(folder / "locales" / "fr")
    assert "no NLU examples for 'fr'" in load_error(config)


def test_intent_without_handler_names_file_and_line(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    nlu = folder / "locales" / "en" / "nlu.yml"
    with nlu.open("a", encoding="utf-8") as f:
        f.write("- intent: forecast\n  examples: |\n    - what's the forecast\n")
    message = load_error(config)
    assert (
        f"{nlu} line {line_of(nlu, 'intent: forecast')}: intent 'forecast' of skill 'weather' has no handler" in message
    )
    assert "add an `@intent('forecast')` async method to WeatherSkill" in message


def test_two_handlers_claiming_one_intent(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    edit(folder / "skill.py", '@intent("get_number")', '@intent("hello")')
    message = load_error(config)
    assert "intent 'hello' is claimed by two handlers" in message
    assert "WeatherSkill.get_number" in message and "WeatherSkill.hello" in message


def test_two_skill_folders_with_one_name(tmp_path: Path) -> None:
    _, folder = scaffolded(tmp_path)
    shutil.copytree(folder, tmp_path / "more" / "weather")
    edit(tmp_path / "config.yml", "  - skills\n", "  - skills\n  - more\n")
    message = load_error(load_config(tmp_path / "config.yml"))
    assert "two skills are named 'weather'" in message and str(tmp_path / "more" / "weather") in message


def test_a_copied_skill_that_kept_the_old_name(tmp_path: Path) -> None:
    _, folder = scaffolded(tmp_path)
    shutil.copytree(folder, tmp_path / "skills" / "sunshine")
    edit(tmp_path / "config.yml", "enabled: [weather]", "enabled: [weather, sunshine]")
    message = load_error(load_config(tmp_path / "config.yml"))
    assert "WeatherSkill.name is 'weather', but it is loaded as 'sunshine'" in message
    assert "set name = 'sunshine'" in message


def test_two_skills_claiming_one_sentence(tmp_path: Path) -> None:
    config, _ = scaffolded(tmp_path)
    scaffolded_other = tmp_path / "skills" / "garden"
    from assistant.scaffold import new_skill

    new_skill("garden", config, tmp_path / "config.yml", folder=None, langs=["en", "fr"], enable=True)
    nlu = scaffolded_other / "locales" / "en" / "nlu.yml"
    edit(nlu, "    - hello garden\n", "    - hello garden\n    - hello weather\n")
    message = load_error(load_config(tmp_path / "config.yml"))
    assert "'hello weather'" in message and "weather.hello" in message and "garden.hello" in message
    assert "two skills cannot claim one sentence" in message


def test_a_response_key_used_but_not_defined(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    edit(folder / "skill.py", 'ctx.say("hello")', 'ctx.say("greeting")')
    message = load_error(config)
    line = line_of(folder / "skill.py", 'ctx.say("greeting")')
    assert f"{folder / 'skill.py'}:{line}: skill 'weather' uses response 'greeting', not defined for 'en'" in message
    assert "responses.yml" in message


def test_a_response_key_missing_in_one_language_only(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    edit(folder / "locales" / "fr" / "responses.yml", "not_set:", "pas_change:")
    message = load_error(config)
    assert "uses response 'not_set', not defined for 'fr'" in message
    assert str(folder / "locales" / "fr" / "responses.yml") in message


def test_keys_chosen_by_a_conditional_are_checked_too(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    edit(folder / "skill.py", 'ctx.say("no_number")', 'ctx.say("no_number" if number is None else "unset")')
    assert "uses response 'unset'" in load_error(config)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("nlu.yml", "  examples: |\n    - hello weather", '  examples: "hello\n    - [x', r"line \d+: not valid YAML"),
        ("nlu.yml", "- intent: hello\n  examples: |", "- intent: hello\n  sentences: |", r"line \d+: unknown key"),
        ("nlu.yml", "    - hello weather\n", "    hello weather\n", r"line \d+: example of intent 'hello' must start"),
        ("responses.yml", 'hello: "Hello!', 'hello: "Hello!"\n  bad: "', r"line \d+: not valid YAML"),
        ("responses.yml", "not_set:", "not_set: 3\nx:", r"line \d+: response 'not_set' must be a sentence"),
        ("responses.yml", "not_set:", "hello: twice\nnot_set:", r"line \d+: response 'hello' is defined twice"),
    ],
)  # fmt: skip
def test_malformed_files_name_file_and_line(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    config, folder = scaffolded(tmp_path)
    path = folder / "locales" / "en" / file
    edit(path, old, new)
    message = load_error(config)
    assert message.startswith(str(path)), message
    assert re.search(expected, message), message


def test_wrong_top_level_structure(tmp_path: Path) -> None:
    config, folder = scaffolded(tmp_path)
    path = folder / "locales" / "en" / "responses.yml"
    path.write_text("# replies\n- hello\n- bye\n", encoding="utf-8")
    assert f"{path} line 2: expected a mapping of response keys to sentences" in load_error(config)


def test_entry_point_skills_are_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = install_entry_point(tmp_path / "site", monkeypatch)
    config = load_config(write_config(tmp_path, enabled=["forecast"], langs=["en"]))
    message = load_error(config)
    assert f"{package / '__init__.py'}:9: skill 'forecast' uses response 'sunny', not defined for 'en'" in message


def test_a_folder_skill_and_a_package_skill_of_one_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = scaffolded(tmp_path, langs=("en",))
    install_entry_point(tmp_path / "site", monkeypatch, name="weather")
    message = load_error(config)
    assert "two skills are named 'weather'" in message and "forecast_skill:Forecast" in message
