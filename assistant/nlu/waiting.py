"""Waiting for a worker to load its models, saying what is happening every few seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import NLUError
from .client import Health, NLUClient
from .runstate import log_tail

#: How often the health endpoint is polled, and how often progress is reported.
POLL_S = 0.25
REPORT_EVERY_S = 5.0


async def wait_ready(
    client: NLUClient,
    progress: Callable[[str], None],
    timeout_s: float,
    *,
    pid: int | None = None,
    alive: Callable[[], bool] | None = None,
    log_file: Path | None = None,
) -> Health:
    """Poll `/health` until the worker is ready.

    For a local worker, `pid` and `alive` tell our process apart from anything else answering on the
    port and notice when it exits; for a remote one (`alive` None) an unreachable service fails at once.
    """
    started = time.monotonic()
    next_report = started + 2.0
    see = f"see {log_file}" if log_file else "check the machine serving it"
    while True:
        health: Health | None
        try:
            health = await client.health()
        except NLUError:
            if alive is None:
                raise
            health = None
        if health is not None and pid is not None and health.pid != pid:
            health = None  # another process answers on this port; ours is still binding, or has failed to
        if health is not None and health.status == "ready":
            return health
        if health is not None and health.status == "failed":
            raise NLUError(
                f"the NLU service could not load its models: {health.error}",
                hint=f"{see}; retrain with `assistant nlu train --force`",
            )
        if alive is not None and not alive():
            tail = log_tail(log_file) if log_file else ""
            raise NLUError(f"the NLU service exited while starting{': ' + tail if tail else ''}", hint=see)
        now = time.monotonic()
        loading_s = health.uptime_s if health is not None else now - started
        if now - started > timeout_s:
            raise NLUError(
                f"the NLU service was not ready after {timeout_s:.0f} s",
                hint=f"{see}, or raise nlu.start_timeout_s in config.yml",
            )
        if now >= next_report:
            progress(f"NLU service loading models (TensorFlow)… {loading_s:.0f} s")
            next_report = now + REPORT_EVERY_S
        await asyncio.sleep(POLL_S)
