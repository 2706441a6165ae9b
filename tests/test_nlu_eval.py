"""NLU evaluation: metrics on hand-made cases, data formats, folds, and `assistant nlu test` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import NLUError
from assistant.loader import CORE_LOCALES
from assistant.nlu.data import NLUSource, read_items
from assistant.nlu.evaluate import (
    Example,
    Prediction,
    Span,
    annotated,
    evaluate,
    load_dataset,
    prf,
    read_rasa,
    read_snips,
    snips_slot_f1,
    stratified_folds,
    strip_prefixes,
)
from assistant.nlu.heldout import free_port, make_folds

TINY = """\
version: "3.1"
nlu:
- intent: forecast
  examples: |
    - what's the weather in [Paris](city)
    - weather for [London](city) please
    - weather tomorrow in [Berlin](city)
    - weather forecast for [Madrid](city)
    - is the weather sunny in [Rome](city)
    - how is the weather in [Lisbon](city)
    - tell me the weather in [Vienna](city)
    - weather forecast [Dublin](city)
    - what weather is expected in [Oslo](city)
    - the weather in [Prague](city) today
    - give me the weather for [Athens](city)
    - weather report for [Warsaw](city)
- intent: alarm
  examples: |
    - set an alarm
    - alarm for tomorrow morning
    - set an alarm for seven
    - alarm at six please
    - alarm for the morning please
    - I need an alarm
    - set my alarm
    - put an alarm on for eight
    - alarm at nine thirty
    - new alarm for five
    - create an alarm for noon
    - an alarm for ten please
- synonym: Paris
  examples: |
    - paname
"""


def span(text: str, entity: str, value: str) -> Span:
    start = text.index(value)
    return Span(entity, start, start + len(value), value)


def test_prf_counts_undefined_values_as_zero() -> None:
    assert prf(0, 0, 0).f1 == 0.0
    assert prf(0, 3, 0).precision == 0.0
    s = prf(3, 1, 2)
    assert (s.precision, s.recall, s.support) == (0.75, 0.6, 5)
    assert s.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_annotated_lines_give_plain_text_and_spans() -> None:
    ex = annotated('order [two](quantity) [oat milk](product:oatly) and [eggs]{"entity": "product"}', "shop.order")
    assert ex.text == "order two oat milk and eggs"
    assert [(s.entity, ex.text[s.start : s.end]) for s in ex.entities] == [
        ("quantity", "two"),
        ("product", "oat milk"),
        ("product", "eggs"),
    ]
    assert ex.intent == "shop.order"


def test_intent_metrics_accuracy_and_confused_pairs() -> None:
    gold = [Example("a", "x"), Example("b", "x"), Example("c", "y"), Example("d", "y")]
    preds = [Prediction("x"), Prediction("y"), Prediction("y"), Prediction(None)]
    report = evaluate(list(zip(gold, preds, strict=True)))
    assert report.intent_accuracy == 0.5
    assert report.intents["x"].precision == 1.0 and report.intents["x"].recall == 0.5
    assert report.intents["y"].precision == 0.5 and report.intents["y"].recall == 0.5
    assert report.intents["(none)"].f1 == 0.0
    assert report.confusions == (("x", "y", 1), ("y", "(none)", 1))


def test_entity_spans_must_match_exactly_but_edge_whitespace_is_ignored() -> None:
    text = "order two oat milk"
    gold = Example(text, "o", (span(text, "quantity", "two"), span(text, "product", "oat milk")))
    shifted = Span("product", text.index("milk"), len(text), "milk")  # right type, wrong boundary
    spaced = Span("quantity", text.index("two") - 1, text.index("two") + 3, " two")
    report = evaluate([(gold, Prediction("o", (shifted, spaced)))])
    assert report.entities["quantity"].f1 == 1.0
    assert (report.entities["product"].precision, report.entities["product"].recall) == (0.0, 0.0)
    assert report.entity_micro.precision == 0.5 and report.entity_micro.recall == 0.5
    wrong_type = Span("city", gold.entities[1].start, gold.entities[1].end, "oat milk")
    assert evaluate([(gold, Prediction("o", (gold.entities[0], wrong_type)))]).entities["product"].recall == 0.0


def test_snips_slot_f1_macro_over_slots_then_intents() -> None:
    t1 = "play jazz by miles"
    g1 = Example(t1, "Play", (span(t1, "genre", "jazz"), span(t1, "artist", "miles")))
    t2 = "rain in paris"
    g2 = Example(t2, "Weather", (span(t2, "city", "paris"),))
    p1 = Prediction("Play", (span(t1, "genre", "jazz"), span(t1, "artist", "by miles"), span(t1, "city", "jazz")))
    p2 = Prediction("Play", (span(t2, "city", "paris"),))  # wrong intent: slots still scored within Weather
    mean, per_intent = snips_slot_f1([(g1, p1), (g2, p2)])
    # Play: genre F1 1.0, artist F1 0 (value "by miles" != "miles"); "city" is not a Play slot: ignored.
    assert per_intent == {"Play": 0.5, "Weather": 1.0}
    assert mean == 0.75


def test_read_snips_strips_stray_spaces_from_slot_values(tmp_path: Path) -> None:
    path = tmp_path / "validate_GetWeather.json"
    chunks = [{"text": "weather in "}, {"text": "Paris ", "entity": "city"}, {"text": "today"}]
    path.write_text(json.dumps({"GetWeather": [{"data": chunks}]}), encoding="utf-8")
    [ex] = read_snips(path)
    assert ex.text == "weather in Paris today"
    assert ex.entities == (Span("city", 11, 16, "Paris"),)
    (tmp_path / "bad.json").write_text('{"X": [{"nodata": 1}]}', encoding="utf-8")
    with pytest.raises(NLUError, match="not a Snips benchmark file"):
        read_snips(tmp_path / "bad.json")


def test_load_dataset_reads_rasa_and_snips_files(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(TINY, encoding="utf-8")
    (tmp_path / "q.json").write_text(json.dumps({"Play": [{"data": [{"text": "play"}]}]}), encoding="utf-8")
    examples = load_dataset(tmp_path)
    assert len(examples) == 25
    assert {e.intent for e in examples} == {"forecast", "alarm", "Play"}
    assert len(load_dataset(tmp_path, "*.json")) == 1
    with pytest.raises(NLUError, match="no labelled examples"):
        load_dataset(tmp_path, "*.csv")


def test_strip_prefixes_only_when_labels_have_none() -> None:
    preds = [Prediction("snips.PlayMusic"), Prediction(None)]
    assert [p.intent for p in strip_prefixes([Example("a", "PlayMusic")], preds)] == ["PlayMusic", None]
    assert strip_prefixes([Example("a", "snips.PlayMusic")], preds) == preds


def test_stratified_folds_cover_everything_once_and_spread_each_label() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    folds = stratified_folds(labels, 5, seed=3)
    assert sorted(i for f in folds for i in f) == list(range(len(labels)))
    assert all(sum(labels[i] == "a" for i in f) == 2 for f in folds)
    assert all(sum(labels[i] == "b" for i in f) == 1 for f in folds)
    assert folds == stratified_folds(labels, 5, seed=3)
    with pytest.raises(NLUError):
        stratified_folds(labels, 1)


def test_folds_hold_out_examples_and_keep_other_items(tmp_path: Path) -> None:
    path = tmp_path / "tiny" / "nlu.yml"
    path.parent.mkdir()
    path.write_text(TINY, encoding="utf-8")
    core = NLUSource("core", "en", CORE_LOCALES / "en" / "nlu.yml")
    tiny = NLUSource("tiny", "en", path)
    folds = make_folds([core, tiny], [tiny], 4, tmp_path / "folds")
    assert len(folds) == 4 and all(len(f.test) == 6 for f in folds)
    assert sorted(e.text for f in folds for e in f.test) == sorted(e.text for e in read_rasa(path))
    for fold in folds:
        trained = {line for item, _ in read_items(fold.sources[1].path) for line in item.examples}
        assert not {e.text for e in fold.test} & {annotated(t, "").text for t in trained}
        assert "paname" in trained  # the synonym stays in every fold
        assert fold.sources[0].path.read_text(encoding="utf-8").count("- intent:") == sum(
            1 for item, _ in read_items(core.path) if item.kind == "intent"
        )
        assert {e.intent for e in fold.test} == {"tiny.forecast", "tiny.alarm"}


SKILL = """
from assistant.skill import Context, Skill, intent


class Tiny(Skill):
    @intent("forecast")
    async def forecast(self, ctx: Context) -> None:
        ctx.say("ok")

    @intent("alarm")
    async def alarm(self, ctx: Context) -> None:
        ctx.say("ok")
"""


COMMAND = [sys.executable, "-m", "assistant"]


@pytest.mark.slow
def test_nlu_test_cross_validates_a_skill_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "tiny"
    (folder / "locales" / "en").mkdir(parents=True)
    (folder / "__init__.py").write_text(SKILL, encoding="utf-8")
    (folder / "locales" / "en" / "nlu.yml").write_text(TINY, encoding="utf-8")
    (folder / "locales" / "en" / "responses.yml").write_text('ok: "OK."\n', encoding="utf-8")
    models = tmp_path / "models"
    config = {
        "language": "en",
        "languages": ["en"],
        "skills": {"paths": [str(tmp_path / "skills")], "enabled": ["tiny"]},
        "nlu": {"port": free_port(), "models_dir": str(models), "rasa_env": str(PROJECT_ROOT / "nlu_service")},
    }
    (tmp_path / "config.yml").write_text(json.dumps(config), encoding="utf-8")
    proc = subprocess.run(
        [*COMMAND, "--config", str(tmp_path / "config.yml"), "nlu", "test", "--folds", "2", "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Cross-validation (en, 2 folds)" in proc.stderr
    report = json.loads(proc.stdout)
    core_examples = sum(len(i.examples) for i, _ in read_items(CORE_LOCALES / "en" / "nlu.yml") if i.kind == "intent")
    assert report["examples"] == 24 + core_examples  # every example held out exactly once
    tiny = [report["intents"][f"tiny.{name}"] for name in ("forecast", "alarm")]
    assert [s["support"] for s in tiny] == [12, 12]
    # "weather" and "alarm" mark their intents: predictions that did not line up with their
    # examples (or models that did not see the other half) would score far lower.
    assert sum(s["recall"] for s in tiny) / 2 >= 0.6, report["confusions"]
    assert report["entities"]["city"]["support"] == 12
    assert 0.0 <= report["entity_f1"] <= 1.0
    assert not models.exists()  # folds train in their own temp folder; nothing of the household's is touched
