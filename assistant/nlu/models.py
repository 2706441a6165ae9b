"""Trained models, cached in `models/nlu/<lang>/<fingerprint>/`: what is stale, training it in the Rasa
environment (one subprocess for every stale language, TensorFlow imported once), manifests, pruning."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config import PROJECT_ROOT, Config
from ..errors import NLUError
from .data import MergedData, NLUSource, fingerprint, merge, rasa_python, rasa_version
from .pipelines import pipeline_config
from .runstate import RunPaths, log_tail

log = logging.getLogger(__name__)

WORKER = PROJECT_ROOT / "nlu_service" / "worker.py"
#: Quiets TensorFlow's C++ start-up log and the Python deprecation noise of Rasa's dependencies.
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
MODEL_FILE = "model.tar.gz"
MANIFEST = "manifest.json"
#: Models kept per language (the newest); older ones are deleted after training.
KEEP_MODELS = 2
#: Say something at least this often while a training step runs.
HEARTBEAT_S = 10.0


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about a trained model; written last, so its presence means complete."""

    lang: str
    """Language code."""
    fingerprint: str
    """Hash of merged data + pipeline config + Rasa version."""
    pipeline: str
    """Pipeline name (`light`, `diet`)."""
    rasa_version: str
    """Rasa version that trained it."""
    trained_at: str
    """When training finished (ISO 8601, UTC)."""
    examples: int
    """Number of intent examples."""
    intents: list[str]
    """Intent names it knows."""
    seconds: float
    """Training time."""


@dataclass(frozen=True)
class ModelPlan:
    """The model one language needs for the current data and pipeline."""

    lang: str
    """Language code."""
    pipeline: str
    """Pipeline name."""
    fingerprint: str
    """Its fingerprint."""
    data: MergedData
    """The merged training data."""
    pipeline_yaml: str
    """The Rasa config it is trained with."""
    rasa_version: str
    """Rasa version of the environment."""
    folder: Path
    """`models/nlu/<lang>/<fingerprint>/`."""

    @property
    def trained(self) -> bool:
        """True when the folder holds a complete model (its manifest is written last)."""
        return (self.folder / MANIFEST).is_file() and (self.folder / MODEL_FILE).is_file()


def plan_models(config: Config, sources: Iterable[NLUSource], langs: Iterable[str] | None = None) -> list[ModelPlan]:
    """The model each configured language needs (reads the NLU files; does not touch Rasa)."""
    env = config.resolve(config.nlu.rasa_env)
    version = rasa_version(env)
    root = RunPaths.of(config).root
    sources = list(sources)
    plans = []
    for lang in langs or config.languages:
        data = merge(sources, lang)
        pipeline_yaml = pipeline_config(config.nlu.pipeline, lang)
        fp = fingerprint(data, pipeline_yaml, version)
        plans.append(ModelPlan(lang, config.nlu.pipeline, fp, data, pipeline_yaml, version, root / lang / fp))
    return plans


def read_manifest(folder: Path) -> Manifest | None:
    try:
        return Manifest(**json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


async def train_models(
    config: Config, plans: list[ModelPlan], progress: Callable[[str], None], *, force: bool = False
) -> list[Manifest]:
    """Train the plans that have no complete model (all of them with `force`); returns their manifests.

    The caller holds the run lock."""
    stale = [p for p in plans if force or not p.trained]
    if not stale:
        return []
    paths = RunPaths.of(config)
    paths.run.mkdir(parents=True, exist_ok=True)
    jobs = []
    for p in stale:
        shutil.rmtree(p.folder, ignore_errors=True)
        p.folder.mkdir(parents=True)
        (p.folder / "nlu.yml").write_text(p.data.text, encoding="utf-8")
        (p.folder / "config.yml").write_text(p.pipeline_yaml, encoding="utf-8")
        jobs.append(
            {
                "lang": p.lang,
                "config": str(p.folder / "config.yml"),
                "data": str(p.folder / "nlu.yml"),
                "out": str(p.folder),
            }
        )
    jobs_file = paths.run / "train-jobs.json"
    jobs_file.write_text(json.dumps(jobs, indent=2), encoding="utf-8")
    python = rasa_python(config.resolve(config.nlu.rasa_env))
    progress(
        f"Training NLU models for {', '.join(p.lang for p in stale)} (Rasa {stale[0].rasa_version}); "
        "loading TensorFlow…"
    )
    with open(paths.train_log, "wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            str(python),
            str(WORKER),
            "train",
            "--jobs",
            str(jobs_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, **WORKER_ENV},
        )
        try:
            manifests = await _follow(proc, {p.lang: p for p in stale}, progress, paths)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
    for p in stale:
        prune(p.folder.parent, keep=p.folder)
    return manifests


async def _follow(
    proc: asyncio.subprocess.Process, stale: dict[str, ModelPlan], progress: Callable[[str], None], paths: RunPaths
) -> list[Manifest]:
    """Read the trainer's JSON event lines, report them, and write each manifest when its model is done."""
    assert proc.stdout is not None
    manifests: list[Manifest] = []
    current, since = "Rasa", time.monotonic()
    while True:
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=HEARTBEAT_S)
        except TimeoutError:
            progress(
                f"  … still {'loading ' + current if current == 'Rasa' else 'training ' + current}"
                f" ({time.monotonic() - since:.0f} s)"
            )
            continue
        if not line:
            break
        event = json.loads(line)
        kind, lang = event["event"], event.get("lang", "")
        if kind == "start":
            p = stale[lang]
            current, since = lang, time.monotonic()
            progress(f"Training NLU model for {lang} ({p.data.examples} examples, pipeline {p.pipeline})…")
        elif kind == "done":
            manifests.append(write_manifest(stale[lang], event["seconds"]))
            progress(f"  {lang} done in {event['seconds']:.0f} s")
        elif kind == "failed":
            raise NLUError(f"training the {lang} NLU model failed: {event['message']}", hint=f"see {paths.train_log}")
    if len(manifests) < len(stale):
        raise NLUError(
            f"NLU training stopped early: {log_tail(paths.train_log) or 'no output'}",
            hint=f"see {paths.train_log}; `make nlu-env` rebuilds the Rasa environment",
        )
    return manifests


def write_manifest(plan: ModelPlan, seconds: float) -> Manifest:
    """Write manifest.json atomically: from now on the folder counts as a complete model."""
    manifest = Manifest(
        lang=plan.lang,
        fingerprint=plan.fingerprint,
        pipeline=plan.pipeline,
        rasa_version=plan.rasa_version,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        examples=plan.data.examples,
        intents=list(plan.data.intents),
        seconds=seconds,
    )
    tmp = plan.folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, plan.folder / MANIFEST)
    return manifest


def prune(lang_dir: Path, keep: Path, count: int = KEEP_MODELS) -> list[Path]:
    """Delete all but the newest `count` complete models of a language (always keeping `keep`), and
    leftovers of interrupted trainings. The caller holds the run lock, so nothing is training here."""
    complete = [(m.trained_at, f) for f in lang_dir.iterdir() if f.is_dir() and (m := read_manifest(f))]
    newest = [f for _, f in sorted(complete, reverse=True)]
    kept = {keep, *[f for f in newest if f != keep][: count - 1]}
    removed = [f for f in lang_dir.iterdir() if f.is_dir() and f not in kept]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed old NLU model %s", folder)
    return removed
