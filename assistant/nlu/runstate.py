"""The running NLU worker's state on disk (`models/nlu/run/`): service.json, the token, the log, the lock."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import NLUError

log = logging.getLogger(__name__)

#: Rotate the worker log when it grows past this.
MAX_LOG_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class RunPaths:
    """Where the worker's state lives."""

    root: Path
    """The models folder (`nlu.models_dir`)."""

    @classmethod
    def of(cls, config: Config) -> RunPaths:
        return cls(config.resolve(config.nlu.models_dir))

    @property
    def run(self) -> Path:
        """The folder of the running worker's files."""
        return self.root / "run"

    @property
    def state(self) -> Path:
        """service.json: pid, port, fingerprints of the running worker."""
        return self.run / "service.json"

    @property
    def token(self) -> Path:
        """The bearer token clients send (0600)."""
        return self.run / "token"

    @property
    def log(self) -> Path:
        """The worker's log."""
        return self.run / "worker.log"

    @property
    def train_log(self) -> Path:
        """The log of the last training run."""
        return self.run / "train.log"

    @property
    def lock(self) -> Path:
        """Held while training or starting, so two assistants starting together start one worker."""
        return self.run / "lock"


@dataclass(frozen=True)
class ServiceState:
    """What service.json records about the running worker."""

    pid: int
    """The worker's process id."""
    host: str
    """The address it listens on."""
    port: int
    """Its port."""
    fingerprints: dict[str, str]
    """Language → fingerprint of the model it serves."""
    started_at: float
    """Unix time it was started."""
    supervised: bool = True
    """True when an assistant started it in the background; False for `assistant nlu serve`."""
    log: str = ""
    """Its log file."""
    languages: list[str] = field(default_factory=list)
    """Languages it serves, in order."""

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "[::1]" if self.host == "::" else self.host
        return f"http://{host}:{self.port}"


def read_state(paths: RunPaths) -> ServiceState | None:
    """The recorded worker, or None if there is no (readable) record."""
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
        return ServiceState(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_state(paths: RunPaths, state: ServiceState) -> None:
    paths.run.mkdir(parents=True, exist_ok=True)
    tmp = paths.state.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    os.replace(tmp, paths.state)


def forget_state(paths: RunPaths, pid: int | None = None) -> None:
    """Remove service.json (only if it still names `pid`, when given)."""
    state = read_state(paths)
    if state is None or pid is None or state.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()


def ensure_token(paths: RunPaths) -> str:
    """The worker's bearer token, created once with 0600 permissions."""
    paths.run.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(paths.token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(paths.token, 0o600)
        token = paths.token.read_text(encoding="utf-8").strip()
        if token:
            return token
        fd = os.open(paths.token, os.O_WRONLY | os.O_TRUNC, 0o600)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def worker_alive(pid: int) -> bool:
    """True if `pid` is a live (not zombie) NLU worker process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X") and b"worker.py" in cmdline and b"serve" in cmdline


def open_log(path: Path) -> int:
    """Open the worker log for appending (rotating a big one); returns a file descriptor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
        os.replace(path, path.with_suffix(".log.1"))
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def log_tail(path: Path, lines: int = 3) -> str:
    """The last log lines, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    wanted = [line for line in text.splitlines() if line.strip() and "Warning" not in line][-lines:]
    return " | ".join(line.strip() for line in wanted)


@contextlib.asynccontextmanager
async def run_lock(paths: RunPaths, progress: Callable[[str], None], timeout_s: float = 600.0) -> AsyncIterator[None]:
    """Hold the run lock (another assistant may be training or starting the worker)."""
    paths.run.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not told:
                progress("Waiting for another assistant process that is training or starting the NLU service…")
                told = True
            if time.monotonic() > deadline:
                raise NLUError(
                    f"another process held {paths.lock} for {timeout_s:.0f} s",
                    hint="check for a stuck `assistant nlu train`, or delete the lock file",
                )
            await asyncio.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing releases the lock
