"""Held-out NLU evaluation against real models: a skill's `nlu_test.yml` through the served model, and
k-fold cross-validation for the skills without one (fold models trained by the same trainer into a
temporary models folder, served by one temporary worker on a free loopback port)."""

from __future__ import annotations

import dataclasses
import logging
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from .client import Endpoint, NLUClient
from .data import NLUSource, fingerprint, merge, rasa_version, read_items
from .evaluate import Example, Prediction, annotated, prediction, read_rasa, stratified_folds
from .models import ModelPlan, train_models
from .pipelines import pipeline_config
from .runstate import RunPaths, ensure_token, run_lock, worker_alive
from .service import Supervisor, connect, stop
from .waiting import wait_ready

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
TEST_FILE = "nlu_test.yml"
Pairs = list[tuple[Example, Prediction]]


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold of one language."""

    sources: tuple[NLUSource, ...]
    """The training files of the fold (held-out examples removed)."""
    test: tuple[Example, ...]
    """Its held-out examples."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def scratch_config(config: Config, models_dir: Path) -> Config:
    """`config` with its own models folder and a free port: never touches the household's service."""
    nlu = dataclasses.replace(config.nlu, url=None, models_dir=str(models_dir), port=free_port())
    return dataclasses.replace(config, nlu=nlu)


async def parse_all(client: NLUClient, texts: Sequence[str], lang: str, progress: Progress) -> list[Prediction]:
    """Parse every text, reporting every 200."""
    found = []
    for i, text in enumerate(texts, 1):
        found.append(prediction(await client.parse(text, lang)))
        if i % 200 == 0:
            progress(f"  parsed {i}/{len(texts)}")
    return found


def split_sources(sources: Sequence[NLUSource], lang: str) -> tuple[list[NLUSource], list[NLUSource]]:
    """(sources with a `nlu_test.yml` beside them, sources without) in `lang`."""
    chosen = [s for s in sources if s.lang == lang]
    return [s for s in chosen if (s.path.parent / TEST_FILE).is_file()], [
        s for s in chosen if not (s.path.parent / TEST_FILE).is_file()
    ]


def make_folds(sources: Sequence[NLUSource], cv: Sequence[NLUSource], k: int, workdir: Path) -> list[Fold]:
    """Write `k` training sets: every source whole, except `cv` sources' intent examples of the fold."""
    items = {s: read_items(s.path) for s in sources}
    pool = [
        (s, j, line)
        for s in cv
        for j, (item, _) in enumerate(items[s])
        if item.kind == "intent"
        for line in item.examples
    ]
    labels = [f"{s.skill}.{items[s][j][0].name}" for s, j, _ in pool]
    folds = []
    for n, held in enumerate(stratified_folds(labels, k)):
        out = set(held)
        dropped = {(pool[i][0], pool[i][1], pool[i][2]) for i in out}
        fold_sources: list[NLUSource] = []
        for s in sources:
            lines = ['version: "3.1"', "nlu:"]
            for j, (item, _) in enumerate(items[s]):
                kept = [e for e in item.examples if (s, j, e) not in dropped]
                if kept:
                    lines += [f"- {item.kind}: {item.name}", "  examples: |", *[f"    - {e}" for e in kept]]
            path = workdir / f"fold{n}" / f"{len(fold_sources)}-{s.skill}" / "nlu.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            if len(lines) == 2:
                lines[1] = "nlu: []"  # every example of this file is held out
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            fold_sources.append(NLUSource(s.skill, s.lang, path))
        test = tuple(annotated(pool[i][2], labels[i]) for i in held)
        folds.append(Fold(tuple(fold_sources), test))
    return folds


def fold_plans(config: Config, folds: Sequence[Fold], lang: str, root: Path) -> list[ModelPlan]:
    """One model plan per fold, served under the name `<lang>-cv<n>`."""
    version = rasa_version(config.resolve(config.nlu.rasa_env))
    pipeline_yaml = pipeline_config(config.nlu.pipeline, lang)
    plans = []
    for n, fold in enumerate(folds):
        data = merge(fold.sources, lang)
        fp = fingerprint(data, pipeline_yaml, version)
        name = f"{lang}-cv{n}"
        plans.append(ModelPlan(name, config.nlu.pipeline, fp, data, pipeline_yaml, version, root / name / fp))
    return plans


async def serve_plans(config: Config, plans: list[ModelPlan], progress: Progress) -> NLUClient:
    """Train `plans` (stale ones) and start one worker serving them all on `config`'s own port."""
    paths = RunPaths.of(config)
    async with run_lock(paths, progress):
        await train_models(config, plans, progress)
        state = Supervisor(config, [], progress).start(plans, ensure_token(paths))
    client = NLUClient(Endpoint(state.url, ensure_token(paths)), timeout_s=config.nlu.request_timeout_s)
    await wait_ready(
        client,
        progress,
        config.nlu.start_timeout_s,
        pid=state.pid,
        alive=lambda: worker_alive(state.pid),
        log_file=paths.log,
    )
    return client


async def cross_validate(
    config: Config, sources: Sequence[NLUSource], cv: Sequence[NLUSource], lang: str, k: int, progress: Progress
) -> Pairs:
    """Predictions for every example of the `cv` sources, each by a model that never saw it."""
    with tempfile.TemporaryDirectory(prefix="assistant-nlu-cv-") as tmp:
        root = Path(tmp)
        scratch = scratch_config(config, root / "models")
        folds = make_folds([s for s in sources if s.lang == lang], cv, k, root / "data")
        plans = fold_plans(scratch, folds, lang, root / "models")
        progress(f"Cross-validation ({lang}, {k} folds): training {k} models in {root}…")
        client = await serve_plans(scratch, plans, progress)
        try:
            pairs: Pairs = []
            for fold, plan in zip(folds, plans, strict=True):
                predictions = await parse_all(client, [e.text for e in fold.test], plan.lang, progress)
                pairs += zip(fold.test, predictions, strict=True)
            return pairs
        finally:
            await client.aclose()
            stop(scratch)


async def held_out(config: Config, sources: Sequence[NLUSource], lang: str, k: int, progress: Progress) -> Pairs:
    """`assistant nlu test`: test files through the served model, cross-validation for the rest."""
    tested, cv = split_sources(sources, lang)
    pairs: Pairs = []
    if tested:
        examples = [e for s in tested for e in read_rasa(s.path.parent / TEST_FILE, s.skill)]
        progress(f"Testing {len(examples)} examples from {', '.join(s.skill + '/' + TEST_FILE for s in tested)}…")
        client = await connect(config, sources, progress)
        try:
            pairs += zip(examples, await parse_all(client, [e.text for e in examples], lang, progress), strict=True)
        finally:
            await client.aclose()
    if cv:
        pairs += await cross_validate(config, sources, cv, lang, k, progress)
    return pairs
