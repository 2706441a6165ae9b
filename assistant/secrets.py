"""Secrets (API keys, OAuth client credentials, tokens): only from the environment or a 0600 secrets file.

Never from config.yml: `reject_secret_settings` refuses secret-looking keys in an adapter's settings.
The secrets file holds `NAME=value` lines (`#` comments, blank lines ignored); it lives at
`<household>/secrets.env` unless ASSISTANT_SECRETS_FILE names another. A file that group or others
can read is refused with the `chmod` that fixes it. A `Secret` never shows its value in `repr`,
`str` or f-strings, so it cannot leak into a log line or a turn's JSON by accident.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

log = logging.getLogger(__name__)
#: Environment variable naming the secrets file (default: `<household>/secrets.env`).
SECRETS_FILE_ENV = "ASSISTANT_SECRETS_FILE"
SECRETS_FILE_NAME = "secrets.env"
#: Setting names that look like secrets: they belong in the environment or the secrets file.
_SECRET_WORDS = re.compile(r"(api_?key|token|secret|passw(or)?d|credential|client_id)", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Secret:
    """A secret value that never prints itself."""

    name: str
    """Where it is looked up, e.g. `ASSISTANT_GROCY_API_KEY`."""
    value: str = field(repr=False)
    """The secret itself; read it with `reveal()` at the one place it is sent."""

    def reveal(self) -> str:
        return self.value

    def __str__(self) -> str:
        return f"<secret {self.name}>"

    def __format__(self, spec: str) -> str:
        return str(self)


def secrets_file(home: Path) -> Path:
    """The secrets file of this household (ASSISTANT_SECRETS_FILE wins)."""
    env = os.environ.get(SECRETS_FILE_ENV)
    return Path(os.path.expanduser(env)) if env else home / SECRETS_FILE_NAME


def check_private(path: Path, what: str = "secrets file") -> None:
    """Refuse a file that group or others can read or write, naming the chmod that fixes it."""
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(
            f"{what} {path} is readable by other users (mode {stat.S_IMODE(mode):o}); refusing to use it",
            hint=f"run: chmod 600 {path}",
        )


def read_secrets_file(path: Path) -> dict[str, str]:
    """`NAME=value` pairs of a private secrets file; a missing file gives none."""
    if not path.exists():
        return {}
    check_private(path)
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not sep or not _NAME.match(name):
            # The line itself may be a secret: name only its number.
            raise ConfigError(f"{path} line {number}: expected NAME=value")
        found[name] = _unquote(value.strip())
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def get_secret(name: str, home: Path) -> Secret | None:
    """The secret `name` from the environment, else from the secrets file; None if neither has it."""
    value = os.environ.get(name)
    if value:
        return Secret(name, value)
    value = read_secrets_file(secrets_file(home)).get(name)
    if value:
        log.debug("%s read from the secrets file", name)
        return Secret(name, value)
    return None


def require_secret(name: str, home: Path, purpose: str) -> Secret:
    """Like `get_secret`, but a missing secret fails with where to put it."""
    found = get_secret(name, home)
    if found is None:
        raise ConfigError(
            f"{purpose} needs the secret {name}, which is not set",
            hint=f"export {name}=... or add `{name}=...` to {secrets_file(home)} (chmod 600)",
        )
    return found


def reject_secret_settings(settings: Mapping[str, Any], path: str, env_names: tuple[str, ...] = ()) -> None:
    """Refuse secret-looking keys in config.yml, telling where the secret goes instead."""
    for key in settings:
        if _SECRET_WORDS.search(str(key)):
            where = " or ".join(env_names) if env_names else "an environment variable"
            raise ConfigError(
                f"{path}.{key}: secrets do not belong in config.yml (it is often shared or committed)",
                hint=f"remove it and set {where} in the environment or in the 0600 secrets file",
            )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from creation, replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by umask and ignored for an existing file
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
