"""The worker's `train` command: trains every stale language in one process (TensorFlow imported once).

Progress goes to the real stdout as JSON lines; everything Rasa and TensorFlow print goes to stderr.
Part of the standalone worker (Rasa's environment, Python 3.10): never imports `assistant`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import Any

log = logging.getLogger("nlu_worker")
MODEL_FILE = "model.tar.gz"


def train(args: argparse.Namespace) -> int:
    """Train every job in the jobs file; progress as JSON lines on the real stdout."""
    events = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # Rasa and TensorFlow print freely: keep that off the event stream
    sys.stdout = sys.stderr

    def emit(event: str, **values: Any) -> None:
        events.write(json.dumps({"event": event, **values}) + "\n")

    jobs = json.loads(args.jobs.read_text(encoding="utf-8"))
    emit("importing")
    started = time.monotonic()
    from rasa.model_training import train_nlu

    emit("imported", seconds=round(time.monotonic() - started, 1))
    failed = 0
    for job in jobs:
        emit("start", lang=job["lang"])
        t = time.monotonic()
        try:
            model = train_nlu(job["config"], job["data"], job["out"], fixed_model_name=MODEL_FILE)
        except (Exception, SystemExit) as err:  # Rasa exits on bad data; the other languages still train
            log.exception("training %s failed", job["lang"])
            model, message = None, f"{type(err).__name__}: {err}"
        else:
            message = "Rasa produced no model (see the training log)"
        if model:
            emit("done", lang=job["lang"], model=str(model), seconds=round(time.monotonic() - t, 1))
        else:
            failed += 1
            emit("failed", lang=job["lang"], message=message)
    return 1 if failed else 0
