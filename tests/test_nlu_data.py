"""NLU data: merging skills' nlu.yml files, errors with file and line, fingerprints, the model cache (no Rasa run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.errors import NLUError, SkillError
from assistant.loader import CORE_LOCALES
from assistant.nlu.client import to_parse_result
from assistant.nlu.data import NLUSource, fingerprint, merge, plain_text, rasa_version, read_items
from assistant.nlu.models import MANIFEST, MODEL_FILE, plan_models, prune
from assistant.nlu.pipelines import pipeline_config
from assistant.nlu.runstate import RunPaths, ensure_token

SHOPPING = """\
version: "3.1"
nlu:
- intent: reorder
  examples: |
    - reorder the [coffee beans](product)
    - order [two](quantity) [oat milk](product)
- synonym: oat milk
  examples: |
    - oatly
- lookup: quantity
  examples: |
    - two
- regex: size
  examples: |
    - \\d+ ?(g|kg|ml|l)
"""
CORE = """\
nlu:
- intent: affirm
  examples: |
    - yes
    - yes please
"""


def project_sources(config: Config) -> list[NLUSource]:
    """The framework's and the project skills' NLU files, found without importing the skills."""
    found = []
    for lang in config.languages:
        found.append(NLUSource("core", lang, CORE_LOCALES / lang / "nlu.yml"))
        files = sorted(PROJECT_ROOT.glob(f"skills/*/locales/{lang}/nlu.yml"))
        found += [NLUSource(path.parents[2].name, lang, path) for path in files]
    return found


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name / "nlu.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sources(tmp_path: Path) -> list[NLUSource]:
    return [
        NLUSource("core", "en", write(tmp_path, "core", CORE)),
        NLUSource("shopping", "en", write(tmp_path, "shopping", SHOPPING)),
    ]


def test_merge_prefixes_intents_and_keeps_entities_synonyms_lookups_regexes(sources: list[NLUSource]) -> None:
    merged = merge(sources, "en")
    assert merged.intents == ("core.affirm", "shopping.reorder")
    assert merged.examples == 4
    data = yaml.safe_load(merged.text)
    items = {
        (next(k for k in item if k != "examples"), item[next(k for k in item if k != "examples")]): item
        for item in data["nlu"]
    }
    assert "order [two](quantity) [oat milk](product)" in items["intent", "shopping.reorder"]["examples"]
    assert "- oatly" in items["synonym", "oat milk"]["examples"]
    assert ("lookup", "quantity") in items and ("regex", "size") in items
    assert merged.sources == tuple(s.path for s in sources)


def test_merge_of_a_language_without_files_names_the_fix(sources: list[NLUSource]) -> None:
    with pytest.raises(NLUError, match="no NLU examples for language 'fr'"):
        merge(sources, "fr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nlu:\n- intent: reorder\n  examples: |\n    - order it\n   - bad: [\n", r"line 5: not valid YAML"),
        ("nlu:\n- examples: |\n    - order it\n", r"line 2: item has no `intent`"),
        (
            "nlu:\n- intent: reorder\n  examples:\n    - order it\n",
            r"line 2: `examples` of intent 'reorder' must be a block string",
        ),
        (
            "nlu:\n- intent: reorder\n  examples: |\n    - order it\n- intent: x\n",
            r"line 5: intent 'x' has no `examples`",
        ),
        ("version: '3.1'\nstories: []\n", r"line 2: unknown top-level key 'stories'"),
        (
            "nlu:\n- intent: reorder\n  examples: |\n    - order it\n    - order [two(quantity) milk\n",
            r"line 5: unbalanced entity brackets in 'order \[two\(quantity\) milk'",
        ),
        (
            "nlu:\n- intent: reorder\n  examples: |\n    - order it\n    order that\n",
            r"line 5: example of intent 'reorder' must start with `- `",
        ),
        ("nlu:\n- intent: reorder\n  colour: red\n  examples: |\n    - order\n", r"line 2: unknown key 'colour'"),
        ("nlu:\n- intent: re order\n  examples: |\n    - order\n", r"line 2: intent name 're order' must be a word"),
    ],
)
def test_malformed_file_is_reported_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "broken", text)
    with pytest.raises(SkillError) as caught:
        merge([NLUSource("broken", "en", path)], "en")
    assert str(path) in caught.value.message
    assert re.search(expected, caught.value.message), caught.value.message


def test_fingerprint_follows_data_pipeline_and_rasa_version(tmp_path: Path, sources: list[NLUSource]) -> None:
    light = pipeline_config("light", "en")
    base = fingerprint(merge(sources, "en"), light, "3.6.21")
    assert fingerprint(merge(sources, "en"), light, "3.6.21") == base
    # Comments and layout of a source file are not data.
    sources[1].path.write_text("# a comment\n" + SHOPPING.replace('version: "3.1"\n', ""), encoding="utf-8")
    assert fingerprint(merge(sources, "en"), light, "3.6.21") == base
    assert fingerprint(merge(sources, "en"), pipeline_config("diet", "en"), "3.6.21") != base
    assert fingerprint(merge(sources, "en"), light, "3.6.20") != base
    sources[0].path.write_text(CORE + "    - sure\n", encoding="utf-8")
    assert fingerprint(merge(sources, "en"), light, "3.6.21") != base


def test_pipelines_per_language() -> None:
    light = yaml.safe_load(pipeline_config("light", "fr"))
    assert light["language"] == "fr"
    names = [c["name"] for c in light["pipeline"]]
    assert names[0] == "WhitespaceTokenizer"
    assert {"LogisticRegressionClassifier", "CRFEntityExtractor", "EntitySynonymMapper"} <= set(names)
    diet = [c["name"] for c in yaml.safe_load(pipeline_config("diet", "en"))["pipeline"]]
    assert "DIETClassifier" in diet and "LogisticRegressionClassifier" not in diet
    assert "&id" not in pipeline_config("light", "en")  # no YAML anchors
    with pytest.raises(NLUError, match=r"set nlu\.pipeline to one of light, intent_crf, diet"):
        pipeline_config("bert", "en")


def test_rasa_version_is_read_from_the_environment_without_importing_it() -> None:
    assert rasa_version(PROJECT_ROOT / "nlu_service") == "3.6.21"
    with pytest.raises(NLUError, match="make nlu-env"):
        rasa_version(PROJECT_ROOT / "no-such-env")


def test_project_data_is_rich_enough_and_spans_are_clean() -> None:
    config = load_config(PROJECT_ROOT / "config.yml")
    articles = {
        "the",
        "a",
        "an",
        "some",
        "more",
        "my",
        "our",
        "du",
        "de",
        "la",
        "le",
        "les",
        "des",
        "l",
        "d",
        "un",
        "une",
        "mon",
        "ma",
        "mes",
        "nos",
    }
    numbers = {"one", "two", "three", "four", "deux", "trois", "quatre"}
    for lang in config.languages:
        counts: dict[str, int] = {}
        for source in project_sources(config):
            if source.lang != lang:
                continue
            for item, _ in read_items(source.path):
                if item.kind != "intent":
                    continue
                counts[f"{source.skill}.{item.name}"] = len(item.examples)
                for example in item.examples:
                    for m in re.finditer(r"\[([^\]]+)\]\(product\)", example):
                        first = re.split(r"[\s']", m[1].lower())[0]
                        assert first not in articles | numbers, f"{lang}: product span {m[1]!r} in {example!r}"
        assert counts["shopping.reorder"] >= 60, (lang, counts)
        assert min(counts.values()) >= 15, (lang, counts)


def test_plan_knows_a_model_is_complete_only_once_its_manifest_is_written(tmp_path: Path) -> None:
    config = load_config(PROJECT_ROOT / "config.yml", overrides={"nlu": {"models_dir": str(tmp_path / "m")}})
    plans = plan_models(config, project_sources(config))
    assert [p.lang for p in plans] == config.languages
    assert all(p.folder.parent.parent == tmp_path / "m" and not p.trained for p in plans)
    plan = plans[0]
    plan.folder.mkdir(parents=True)
    (plan.folder / MODEL_FILE).write_bytes(b"half")  # an interrupted training leaves this behind
    assert not plan.trained
    (plan.folder / MANIFEST).write_text("{}", encoding="utf-8")
    assert plan.trained


def _model(lang_dir: Path, name: str, trained_at: str | None) -> Path:
    folder = lang_dir / name
    folder.mkdir(parents=True)
    if trained_at:
        manifest = {
            "lang": "en",
            "fingerprint": name,
            "pipeline": "light",
            "rasa_version": "3.6.21",
            "trained_at": trained_at,
            "examples": 1,
            "intents": ["core.affirm"],
            "seconds": 1.0,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_prune_keeps_the_newest_two_and_drops_interrupted_trainings(tmp_path: Path) -> None:
    old = _model(tmp_path, "aaa", "2026-01-01T00:00:00+00:00")
    newer = _model(tmp_path, "bbb", "2026-02-01T00:00:00+00:00")
    newest = _model(tmp_path, "ccc", "2026-03-01T00:00:00+00:00")
    broken = _model(tmp_path, "ddd", None)
    removed = prune(tmp_path, keep=newest)
    assert sorted(removed) == sorted([old, broken])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bbb", "ccc"]
    assert newer.exists()


def test_token_is_created_once_with_0600(tmp_path: Path) -> None:
    config: Config = load_config(PROJECT_ROOT / "config.yml", overrides={"nlu": {"models_dir": str(tmp_path)}})
    paths = RunPaths.of(config)
    token = ensure_token(paths)
    assert len(token) >= 32 and ensure_token(paths) == token
    assert paths.token.stat().st_mode & 0o777 == 0o600


def test_rasa_parse_is_mapped_onto_frozen_types() -> None:
    text = "commande deux laits d'avoine"
    rasa = {
        "text": text,
        "intent": {"name": "shopping.reorder", "confidence": 0.97},
        "entities": [
            {"entity": "product", "start": 14, "end": 28, "value": "laits d'avoine", "confidence_entity": 0.9},
            {"entity": "quantity", "start": 9, "end": 13, "value": "deux", "extractor": "CRFEntityExtractor"},
        ],
        "intent_ranking": [{"name": "shopping.reorder", "confidence": 0.97}, {"name": "core.deny", "confidence": 0.02}],
    }
    result = to_parse_result(text, "fr", rasa)
    assert result.intent is not None and (result.intent.name, result.intent.confidence) == ("shopping.reorder", 0.97)
    assert [(e.entity, e.value, text[e.start : e.end]) for e in result.entities] == [
        ("quantity", "deux", "deux"),
        ("product", "laits d'avoine", "laits d'avoine"),
    ]
    assert [r.name for r in result.ranking] == ["core.deny"]
    assert to_parse_result("", "fr", {"intent": {"name": None, "confidence": 0.0}}).intent is None


def test_examples_without_annotations() -> None:
    assert plain_text('order [two](quantity) [oat milk]{"entity": "product"}') == "order two oat milk"
