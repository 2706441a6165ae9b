"""The worker's HTTP service: answers /health at once, loads TensorFlow and the models in a thread, then parses.

Part of the standalone worker (Rasa's environment, Python 3.10): never imports `assistant`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import signal
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

log = logging.getLogger("nlu_worker")
PROTOCOL = 1
MAX_TEXT = 1000
MODEL_FILE = "model.tar.gz"
EXIT_PORT_IN_USE = 3
EXIT_BAD_ARGS = 2


@dataclass(frozen=True)
class ModelSpec:
    """One language's model, as given on the command line."""

    lang: str
    """Language code clients ask for."""
    archive: Path
    """The Rasa model archive."""
    fingerprint: str
    """The model's fingerprint (its folder name, or its manifest's)."""


@dataclass
class Service:
    """The worker's state, shared by the HTTP handlers."""

    models: dict[str, ModelSpec]
    """Language → model to serve."""
    token_file: Path
    """Where the bearer token clients must send is kept (re-read when it changes)."""
    token: str = ""
    """The token as last read."""
    token_mtime: float = -1.0
    """Modification time of the token file when it was last read."""
    agents: dict[str, Any] = field(default_factory=dict)
    """Language → loaded Rasa Agent."""
    status: str = "loading"
    """`loading`, `ready` or `failed`."""
    error: str | None = None
    """Why loading failed."""
    started: float = field(default_factory=time.monotonic)
    """When the process started (monotonic)."""
    ready_s: float | None = None
    """Seconds from start to ready."""
    last_activity: float = field(default_factory=time.monotonic)
    """Last parse request (monotonic), for the idle stop."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to shut the worker down."""


def model_spec(value: str) -> ModelSpec:
    """Parse `lang=PATH`, PATH being a model folder (with model.tar.gz and manifest.json) or an archive."""
    lang, sep, raw = value.partition("=")
    if not sep or not lang or not raw:
        raise argparse.ArgumentTypeError(f"expected LANG=PATH, got {value!r}")
    path = Path(raw).resolve()
    archive = path / MODEL_FILE if path.is_dir() else path
    if not archive.is_file():
        raise argparse.ArgumentTypeError(f"no Rasa model at {archive}")
    manifest = archive.parent / "manifest.json"
    fingerprint = archive.parent.name
    if manifest.is_file():
        fingerprint = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint", fingerprint)
    return ModelSpec(lang, archive, fingerprint)


def rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def to_json(value: Any) -> str:
    """JSON for Rasa's parse dicts, which can hold numpy numbers."""
    return json.dumps(value, ensure_ascii=False, default=lambda o: o.item() if hasattr(o, "item") else str(o))


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def current_token(svc: Service) -> str:
    """The token, re-read if the file changed (the supervisor may have replaced a deleted one)."""
    try:
        mtime = svc.token_file.stat().st_mtime
        if mtime != svc.token_mtime:
            svc.token, svc.token_mtime = svc.token_file.read_text(encoding="utf-8").strip(), mtime
    except OSError:
        pass
    return svc.token


def authorized(request: web.Request, svc: Service) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    token = current_token(svc)
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


async def health(request: web.Request) -> web.Response:
    svc: Service = request.app["svc"]
    return web.json_response(
        {
            "status": svc.status,
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "languages": {lang: spec.fingerprint for lang, spec in svc.models.items()},
            "error": svc.error,
            "uptime_s": round(time.monotonic() - svc.started, 1),
            "ready_s": svc.ready_s,
            "rss_mb": rss_mb(),
        }
    )


async def parse(request: web.Request) -> web.Response:
    svc: Service = request.app["svc"]
    if not authorized(request, svc):
        return error(401, "unauthorized", "missing or wrong bearer token (see the token file next to service.json)")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "bad_request", 'expected a JSON body {"text": ..., "lang": ...}')
    text, lang = (body.get("text"), body.get("lang")) if isinstance(body, dict) else (None, None)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return error(400, "bad_request", f"`text` must be a non-empty string of at most {MAX_TEXT} characters")
    if lang not in svc.models:
        served = ", ".join(sorted(svc.models)) or "none"
        return error(400, "unknown_language", f"no model for language {lang!r}; this service serves {served}")
    if svc.status == "loading":
        waited = time.monotonic() - svc.started
        return error(503, "loading", f"still loading models (TensorFlow), {waited:.0f} s so far")
    if svc.status != "ready":
        return error(500, "failed", f"models failed to load: {svc.error}")
    svc.last_activity = time.monotonic()
    # A leading "/" would make Rasa read the text as an intent payload; blank it, keeping offsets.
    cleaned = re.sub(r"^\s*/+", lambda m: " " * len(m.group(0)), text)
    result = await svc.agents[lang].parse_message(cleaned)
    result["text"] = text
    return web.json_response(result, dumps=to_json)


async def shutdown(request: web.Request) -> web.Response:
    svc: Service = request.app["svc"]
    if not authorized(request, svc):
        return error(401, "unauthorized", "missing or wrong bearer token")
    log.info("shutdown requested")
    svc.stop.set()
    return web.json_response({"status": "stopping", "pid": os.getpid()})


def import_agent() -> Any:
    """Import Rasa's Agent (this imports TensorFlow), keeping utterances out of the log."""
    with warnings.catch_warnings():  # TensorFlow, Keras and SQLAlchemy deprecation noise
        warnings.simplefilter("ignore")
        from rasa.core.agent import Agent

    quiet_rasa()
    return Agent


def load_agent(agent_class: Any, archive: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return agent_class.load(str(archive))


def quiet_rasa() -> None:
    """Rasa logs every parsed text at debug level through structlog: a privacy leak into the log file."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


async def load_models(svc: Service) -> None:
    """Import Rasa and load every model in a thread, so /health keeps answering meanwhile."""
    try:
        log.info("importing Rasa (TensorFlow)")
        started = time.monotonic()
        agent_class = await asyncio.to_thread(import_agent)
        log.info("Rasa imported in %.1f s", time.monotonic() - started)
        for lang, spec in svc.models.items():
            t = time.monotonic()
            svc.agents[lang] = await asyncio.to_thread(load_agent, agent_class, spec.archive)
            quiet_rasa()
            log.info("loaded %s model %s in %.1f s", lang, spec.fingerprint, time.monotonic() - t)
        svc.ready_s = round(time.monotonic() - svc.started, 1)
        svc.last_activity = time.monotonic()  # the idle time counts from ready, not from start
        svc.status = "ready"
        log.info("ready in %.1f s (RSS %s MB)", svc.ready_s, rss_mb())
    except Exception as err:  # any load failure is reported through /health, not a crash
        log.exception("loading models failed")
        svc.error = f"{type(err).__name__}: {err}"
        svc.status = "failed"


async def watch_idle(svc: Service, idle_s: float) -> None:
    """Stop after `idle_s` seconds without a parse request."""
    while not svc.stop.is_set():
        # asyncio.TimeoutError, not the builtin: they are different classes on Python 3.10
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(svc.stop.wait(), timeout=min(30.0, max(idle_s / 4, 0.5)))
        if svc.status != "loading" and time.monotonic() - svc.last_activity >= idle_s:
            log.info("no parse request for %.0f s: stopping", idle_s)
            svc.stop.set()


async def serve(args: argparse.Namespace) -> int:
    svc = Service(models={spec.lang: spec for spec in args.model}, token_file=args.token_file)
    if not current_token(svc):
        log.error("no token in %s", args.token_file)
        return EXIT_BAD_ARGS
    app = web.Application(client_max_size=64 * 1024)
    app["svc"] = svc
    app.add_routes([web.get("/health", health), web.post("/parse", parse), web.post("/shutdown", shutdown)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, args.host, args.port).start()
    except OSError as err:
        log.error("cannot listen on %s:%d: %s (port in use? set nlu.port)", args.host, args.port, err.strerror)
        await runner.cleanup()
        return EXIT_PORT_IN_USE
    log.info("listening on http://%s:%d (pid %d), languages %s", args.host, args.port, os.getpid(), sorted(svc.models))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, svc.stop.set)
    tasks = [asyncio.create_task(load_models(svc))]
    if args.idle_stop_s:
        tasks.append(asyncio.create_task(watch_idle(svc, args.idle_stop_s)))
    try:
        await svc.stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await runner.cleanup()
        forget_state(args.state_file)
        log.info("stopped")
        if svc.status == "loading":  # a thread is still importing TensorFlow: do not wait for it
            logging.shutdown()
            os._exit(0)
    return 0


def forget_state(state_file: Path | None) -> None:
    """Remove the supervisor's state file if it still names this process."""
    if state_file is None or not state_file.is_file():
        return
    try:
        if json.loads(state_file.read_text(encoding="utf-8")).get("pid") == os.getpid():
            state_file.unlink()
    except (OSError, ValueError):
        pass
