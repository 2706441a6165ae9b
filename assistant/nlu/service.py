"""The NLU service: train what is stale, then attach to the running worker or start one, and keep it alive.

One worker process (in Rasa's environment) serves every language. It is started detached, so it
outlives `assistant chat` and the next start attaches in about a second; it stops itself after
`idle_stop_s` without requests. With `nlu.url` set, nothing is trained or started here: the assistant
only attaches to that service (e.g. a household hub running `assistant nlu serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from ..config import Config
from ..errors import NLUError
from .client import Endpoint, Health, NLUClient
from .data import NLUSource, rasa_python
from .models import WORKER, WORKER_ENV, ModelPlan, plan_models, train_models
from .runstate import (
    RunPaths,
    ServiceState,
    ensure_token,
    forget_state,
    open_log,
    read_state,
    run_lock,
    worker_alive,
    write_state,
)
from .waiting import wait_ready

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

#: Environment variable holding the token of a service reached through `nlu.url`.
TOKEN_ENV = "ASSISTANT_NLU_TOKEN"
#: A worker the assistant started stops after this long without a parse (config `nlu.idle_stop_s` when present).
DEFAULT_IDLE_STOP_S = 1800.0
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def idle_stop_s(config: Config) -> float:
    return float(getattr(config.nlu, "idle_stop_s", DEFAULT_IDLE_STOP_S))


async def connect(config: Config, sources: Sequence[NLUSource], progress: Progress) -> NLUClient:
    """A client of a ready NLU service: `nlu.url` if set, else the local worker (trained and started if needed)."""
    if config.nlu.url:
        return await attach_remote(config, progress)
    supervisor = Supervisor(config, list(sources), progress)
    endpoint = await supervisor.ensure_running()
    return NLUClient(endpoint, timeout_s=config.nlu.request_timeout_s, restart=supervisor.restart)


async def attach_remote(config: Config, progress: Progress) -> NLUClient:
    """Attach to the service at `nlu.url`, waiting while it loads; never trains or starts anything."""
    url = str(config.nlu.url).rstrip("/")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise NLUError(
            f"nlu.url is {url} but {TOKEN_ENV} is not set",
            hint=f"export {TOKEN_ENV}=<the content of models/nlu/run/token on the machine serving it>",
        )
    client = NLUClient(Endpoint(url, token), timeout_s=config.nlu.request_timeout_s, where=f"nlu.url {url}")
    health = await wait_ready(client, progress, config.nlu.start_timeout_s, alive=None, log_file=None)
    missing = sorted(set(config.languages) - set(health.languages))
    if missing:
        raise NLUError(
            f"the NLU service at {url} has no model for {', '.join(missing)}",
            hint="add the language to `languages` in the serving machine's config.yml and restart it",
        )
    return client


class Supervisor:
    """Trains, starts and restarts the local worker, holding the run lock while it does."""

    def __init__(self, config: Config, sources: list[NLUSource], progress: Progress) -> None:
        self.config = config
        self.sources = sources
        self.progress = progress
        self.paths = RunPaths.of(config)
        self.proc: subprocess.Popen[bytes] | None = None

    async def ensure_running(self) -> Endpoint:
        """Train stale models, then attach to a worker serving exactly them, or start one; wait until ready."""
        async with run_lock(self.paths, self.progress):
            plans = plan_models(self.config, self.sources)
            await train_models(self.config, plans, self.progress)
            token = ensure_token(self.paths)
            state = await self._reusable_worker({p.lang: p.fingerprint for p in plans})
            if state is None:
                state = self.start(plans, token)
        client = NLUClient(Endpoint(state.url, token), timeout_s=self.config.nlu.request_timeout_s)
        try:
            await wait_ready(
                client,
                self.progress,
                self.config.nlu.start_timeout_s,
                pid=state.pid,
                alive=lambda: self._alive(state.pid),
                log_file=self.paths.log,
            )
        finally:
            await client.aclose()
        return client.endpoint

    async def _reusable_worker(self, wanted: dict[str, str]) -> ServiceState | None:
        """The running worker if it serves exactly `wanted`; a stale supervised one is stopped."""
        state = read_state(self.paths)
        if state is None or not worker_alive(state.pid):
            return None
        # The port is not compared: a supervised worker may sit on a fallback port (see `_port`).
        if state.fingerprints == wanted:
            log.debug("attaching to NLU worker %d at %s", state.pid, state.url)
            return state
        if not state.supervised:
            raise NLUError(
                f"`assistant nlu serve` (pid {state.pid}) is serving older NLU models",
                hint="stop it (Ctrl-C or `assistant nlu stop`) and start it again to load the new ones",
            )
        self.progress("The NLU models changed: restarting the NLU service…")
        await asyncio.to_thread(stop, self.config)
        return None

    async def restart(self) -> Endpoint:
        """Called by the client when the worker stopped answering: attach to, or start, a fresh one."""
        self.progress("The NLU service stopped answering: restarting it…")
        return await self.ensure_running()

    def _alive(self, pid: int) -> bool:
        if self.proc is not None and self.proc.pid == pid:
            return self.proc.poll() is None
        return worker_alive(pid)

    def _port(self, host: str) -> int:
        """nlu.port if it is free, else a free port chosen by the system. Connections of a worker that just
        stopped may linger in TIME_WAIT for a minute: the worker binds with SO_REUSEADDR (asyncio's default)
        and may take the port all the same, so the probe does too."""
        wanted = self.config.nlu.port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, wanted))
                return wanted
            except OSError:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
        self.progress(f"Port {wanted} is in use (another NLU service?): starting this one on port {port}.")
        return port

    def start(
        self,
        plans: list[ModelPlan],
        token: str,
        *,
        host: str | None = None,
        port: int | None = None,
        foreground: bool = False,
    ) -> ServiceState:
        """Start the worker (detached unless `foreground`) and record it in service.json."""
        host = host or self.config.nlu.host
        if not foreground and host not in LOOPBACK:
            raise NLUError(
                f"nlu.host is {host}, not a loopback address: the assistant starts its own NLU "
                "service on loopback only",
                hint="set nlu.host: 127.0.0.1, or serve a hub with `assistant nlu serve`",
            )
        # A hub (`nlu serve`) must be where its clients look; a worker of our own may move if the
        # port is taken, e.g. by another checkout's worker, since service.json records where it is.
        port = port or (self.config.nlu.port if foreground else self._port(host))
        python = rasa_python(self.config.resolve(self.config.nlu.rasa_env))
        command = [
            str(python),
            str(WORKER),
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            "--token-file",
            str(self.paths.token),
            "--log-file",
            str(self.paths.log),
            "--state-file",
            str(self.paths.state),
            "--idle-stop-s",
            "0" if foreground else f"{idle_stop_s(self.config):g}",
        ]
        command += [arg for p in plans for arg in ("--model", f"{p.lang}={p.folder}")]
        if host not in LOOPBACK:
            command.append("--allow-remote")
        log_fd = open_log(self.paths.log)
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                cwd=self.paths.run,
                start_new_session=not foreground,
                env={**os.environ, **WORKER_ENV},
            )
        finally:
            os.close(log_fd)
        state = ServiceState(
            pid=self.proc.pid,
            host=host,
            port=port,
            fingerprints={p.lang: p.fingerprint for p in plans},
            started_at=time.time(),
            supervised=not foreground,
            log=str(self.paths.log),
            languages=[p.lang for p in plans],
        )
        write_state(self.paths, state)
        self.progress(f"Starting the NLU service ({', '.join(state.languages)}) on {state.url}…")
        return state


def stop(config: Config, timeout_s: float = 15.0) -> bool:
    """Stop the local worker recorded in service.json; False if none was running."""
    paths = RunPaths.of(config)
    state = read_state(paths)
    if state is None or not worker_alive(state.pid):
        forget_state(paths)
        return False
    try:
        httpx.post(
            f"{state.url}/shutdown",
            headers={"Authorization": f"Bearer {ensure_token(paths)}"},
            timeout=3.0,
            trust_env=False,
        )
    except httpx.HTTPError as err:
        log.info("shutdown request failed (%s): sending SIGTERM", err)
        _signal(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while worker_alive(state.pid):
        if time.monotonic() > deadline:
            log.warning("NLU worker %d did not stop in %.0f s: killing it", state.pid, timeout_s)
            _signal(state.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
        time.sleep(0.05)
    forget_state(paths, state.pid)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass(frozen=True)
class ServiceStatus:
    """What `assistant nlu status` reports."""

    url: str
    """Where the service is (or would be)."""
    remote: bool
    """True when `nlu.url` points at a service elsewhere."""
    health: Health | None
    """Its health, or None when nothing answers."""
    state: ServiceState | None
    """The local worker's record, if any."""
    plans: tuple[ModelPlan, ...]
    """The models the current data and pipeline need (empty for a remote service)."""
    log: str
    """The worker log (local only)."""


async def status(config: Config, sources: Sequence[NLUSource]) -> ServiceStatus:
    """The service's state and the models it needs, without starting or training anything."""
    paths = RunPaths.of(config)
    if config.nlu.url:
        url, token, state = str(config.nlu.url).rstrip("/"), os.environ.get(TOKEN_ENV, ""), None
        plans: tuple[ModelPlan, ...] = ()
    else:
        state = read_state(paths)
        state = state if state is not None and worker_alive(state.pid) else None
        url = state.url if state else f"http://{config.nlu.host}:{config.nlu.port}"
        token, plans = "", tuple(plan_models(config, sources))
    client = NLUClient(Endpoint(url, token), timeout_s=config.nlu.request_timeout_s)
    try:
        health: Health | None = await client.health()
    except NLUError:
        health = None
    finally:
        await client.aclose()
    return ServiceStatus(url, bool(config.nlu.url), health, state, plans, "" if config.nlu.url else str(paths.log))
