"""NLU evaluation, pure Python: labelled examples (Rasa `nlu.yml` or Snips JSON), predictions, and metrics.

Intent metrics are per-intent precision / recall / F1 plus accuracy and the confused pairs. Entity
metrics match spans exactly (same type, same start and end, surrounding whitespace ignored).
`snips_slot_f1` reproduces the Snips 2017 benchmark's slot score: a slot counts when its name and
its text are right; F1 per slot, averaged over the slots of each intent, then over the intents;
an undefined precision or recall counts as 0."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import NLUError
from .data import ANNOTATION, read_items
from .types import ParseResult


@dataclass(frozen=True)
class Span:
    """One entity in a text."""

    entity: str
    """Entity (slot) name."""
    start: int
    """Character offset where it starts."""
    end: int
    """Character offset just past its end."""
    value: str
    """The text it covers."""


@dataclass(frozen=True)
class Example:
    """A labelled utterance."""

    text: str
    """What the user says."""
    intent: str
    """The right intent."""
    entities: tuple[Span, ...] = ()
    """The right entities."""


@dataclass(frozen=True)
class Prediction:
    """What a model said about one utterance."""

    intent: str | None
    """Predicted intent, None when none."""
    entities: tuple[Span, ...] = ()
    """Predicted entities."""


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one class (undefined values count as 0)."""

    precision: float
    """Of the predictions, the share that were right."""
    recall: float
    """Of the right answers, the share that were found."""
    f1: float
    """Harmonic mean of precision and recall."""
    support: int
    """Number of true occurrences."""


@dataclass(frozen=True)
class Report:
    """Every metric of one evaluation."""

    examples: int
    """Number of utterances evaluated."""
    intent_accuracy: float
    """Share of utterances whose intent was right."""
    intents: dict[str, Scores]
    """Per-intent scores (true or predicted intents)."""
    entities: dict[str, Scores]
    """Per-entity-type scores, exact span match."""
    entity_micro: Scores
    """All entities together, exact span match."""
    confusions: tuple[tuple[str, str, int], ...]
    """(true intent, predicted intent, count), most frequent first."""


def prf(tp: int, fp: int, fn: int) -> Scores:
    """Scores from counts; a zero denominator gives 0 (the Snips benchmark's convention)."""
    precision = tp / (tp + fp) if tp else 0.0
    recall = tp / (tp + fn) if tp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return Scores(precision, recall, f1, tp + fn)


def annotated(line: str, intent: str) -> Example:
    """An example from a Rasa annotated line: `order [two](quantity) [oat milk](product)`."""
    text, spans, pos = "", [], 0
    for match in ANNOTATION.finditer(line):
        text += line[pos : match.start()]
        if match["name"] is not None:
            name = match["name"].split(":", 1)[0].strip()
        else:
            name = str(json.loads("{" + match["json"] + "}").get("entity", ""))
        spans.append(Span(name, len(text), len(text) + len(match["text"]), match["text"]))
        text += match["text"]
        pos = match.end()
    return Example(text + line[pos:], intent, tuple(spans))


def read_rasa(path: Path, prefix: str = "") -> list[Example]:
    """The intent examples of one Rasa `nlu.yml`, intents named `<prefix>.<intent>` when a prefix is given."""
    examples = []
    for item, _ in read_items(path):
        if item.kind == "intent":
            name = f"{prefix}.{item.name}" if prefix else item.name
            examples += [annotated(line, name) for line in item.examples]
    return examples


def read_snips(path: Path) -> list[Example]:
    """The queries of one Snips benchmark file: `{"Intent": [{"data": [{"text", "entity"?}, ...]}]}`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        examples = []
        for intent, queries in data.items():
            for query in queries:
                text, spans = "", []
                for chunk in query["data"]:
                    if "entity" in chunk:
                        value = chunk["text"].strip()  # a few chunks carry a stray space
                        start = len(text) + chunk["text"].index(value) if value else len(text)
                        spans.append(Span(str(chunk["entity"]), start, start + len(value), value))
                    text += chunk["text"]
                examples.append(Example(text, str(intent), tuple(s for s in spans if s.value)))
        return examples
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise NLUError(
            f"{path}: not a Snips benchmark file ({type(err).__name__}: {err})",
            hint='expected {"Intent": [{"data": [{"text": ...}, {"text": ..., "entity": ...}]}]}',
        ) from err


def load_dataset(folder: Path, pattern: str = "*") -> list[Example]:
    """Every example in `folder`'s files matching `pattern`: Rasa `.yml`/`.yaml` or Snips `.json`."""
    if not folder.is_dir():
        raise NLUError(f"{folder}: no such folder", hint="pass --data a folder of nlu.yml or Snips .json files")
    examples: list[Example] = []
    for path in sorted(folder.glob(pattern)):
        if path.suffix in (".yml", ".yaml"):
            examples += read_rasa(path)
        elif path.suffix == ".json":
            examples += read_snips(path)
    if not examples:
        raise NLUError(f"{folder}: no labelled examples in files matching {pattern!r}", hint="use .yml or .json files")
    return examples


def prediction(result: ParseResult) -> Prediction:
    """A model's parse as a prediction; entity values are the text they cover."""
    spans = tuple(Span(e.entity, e.start, e.end, result.text[e.start : e.end]) for e in result.entities)
    return Prediction(result.intent.name if result.intent else None, spans)


def _key(span: Span) -> tuple[str, int, int]:
    """Exact span identity, ignoring whitespace at either edge."""
    lead = len(span.value) - len(span.value.lstrip())
    trail = len(span.value) - len(span.value.rstrip())
    return span.entity, span.start + lead, span.end - trail


def evaluate(pairs: Sequence[tuple[Example, Prediction]]) -> Report:
    """Intent and entity metrics of predictions against the right answers."""
    if not pairs:
        raise NLUError("nothing to evaluate: no examples")
    intent_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    entity_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    confused: Counter[tuple[str, str]] = Counter()
    for gold, pred in pairs:
        got = pred.intent or "(none)"
        if got == gold.intent:
            intent_counts[got][0] += 1
        else:
            intent_counts[got][1] += 1
            intent_counts[gold.intent][2] += 1
            confused[(gold.intent, got)] += 1
        want, found = {_key(s) for s in gold.entities}, {_key(s) for s in pred.entities}
        for key in want | found:
            entity_counts[key[0]][0 if key in want and key in found else 2 if key in want else 1] += 1
    totals = [sum(c[i] for c in entity_counts.values()) for i in range(3)]
    return Report(
        examples=len(pairs),
        intent_accuracy=sum(c[0] for c in intent_counts.values()) / len(pairs),
        intents={name: prf(*c) for name, c in sorted(intent_counts.items())},
        entities={name: prf(*c) for name, c in sorted(entity_counts.items())},
        entity_micro=prf(*totals),
        confusions=tuple((a, b, n) for (a, b), n in sorted(confused.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def snips_slot_f1(pairs: Sequence[tuple[Example, Prediction]]) -> tuple[float, dict[str, float]]:
    """The Snips benchmark's mean slot F1, and each intent's. Slots are scored within the true intent,
    whatever intent was predicted; a predicted slot the true intent never has (in these examples) is
    ignored, as a skill reads only its own slots."""
    schema: dict[str, set[str]] = defaultdict(set)
    for gold, _ in pairs:
        schema[gold.intent].update(s.entity for s in gold.entities)
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for gold, pred in pairs:
        rows = counts[gold.intent]
        want = [(s.entity, s.value.strip()) for s in gold.entities]
        found = [(s.entity, s.value.strip()) for s in pred.entities if s.entity in schema[gold.intent]]
        for slot in want:
            rows[slot[0]][0 if slot in found else 2] += 1
        for slot in found:
            if slot not in want:
                rows[slot[0]][1] += 1
    per_intent = {
        intent: sum(prf(*c).f1 for c in rows.values()) / len(rows) if rows else 0.0
        for intent, rows in sorted(counts.items())
    }
    return (sum(per_intent.values()) / len(per_intent) if per_intent else 0.0), per_intent


def stratified_folds(labels: Sequence[str], k: int, seed: int = 0) -> list[list[int]]:
    """Indices of `labels` dealt into `k` folds, each label spread evenly; deterministic for a seed."""
    if k < 2:
        raise NLUError(f"cross-validation needs at least 2 folds, not {k}")
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    rng, turn = random.Random(seed), 0
    folds: list[list[int]] = [[] for _ in range(k)]
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for i in indices:
            folds[turn % k].append(i)
            turn += 1
    return [sorted(f) for f in folds]


def format_report(report: Report, title: str, top: int = 10) -> str:
    """A plain-text table of a report."""
    lines = [f"{title}: {report.examples} utterances, intent accuracy {report.intent_accuracy:.3f}", ""]
    lines += _table("intent", report.intents)
    if report.entities:
        lines += ["", *_table("entity (exact span)", report.entities)]
        micro = report.entity_micro
        lines.append(f"entity F1 (micro, exact span): {micro.f1:.3f} (P {micro.precision:.3f}, R {micro.recall:.3f})")
    lines += ["", "confused pairs (true → predicted):"]
    lines += [f"  {n:>4} × {a} → {b}" for a, b, n in report.confusions[:top]] or ["  none"]
    return "\n".join(lines)


def _table(head: str, rows: dict[str, Scores]) -> list[str]:
    width = max([len(head), *map(len, rows)])
    out = [f"{head:<{width}}  precision  recall     f1  support"]
    out += [f"{n:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}" for n, s in rows.items()]
    return out


def report_json(report: Report) -> dict[str, object]:
    """The report as plain JSON values."""

    def scores(rows: dict[str, Scores]) -> dict[str, dict[str, float]]:
        return {
            n: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support} for n, s in rows.items()
        }

    micro = report.entity_micro
    return {
        "examples": report.examples,
        "intent_accuracy": report.intent_accuracy,
        "intents": scores(report.intents),
        "entities": scores(report.entities),
        "entity_f1": micro.f1,
        "confusions": [{"true": a, "predicted": b, "count": n} for a, b, n in report.confusions],
    }


def strip_prefixes(examples: Iterable[Example], predictions: Iterable[Prediction]) -> list[Prediction]:
    """Predictions with the skill prefix dropped (`snips.PlayMusic` → `PlayMusic`) when the labels have none."""
    prefixed = any("." in e.intent for e in examples)
    if prefixed:
        return list(predictions)
    return [Prediction(p.intent.split(".", 1)[-1] if p.intent else None, p.entities) for p in predictions]
