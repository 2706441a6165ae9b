"""The catalogue of official speech models `assistant models pull` can install (catalogue.yml).

Each file carries its size and the hash its publisher gives (or, where only an MD5 is published,
that MD5): a download is accepted only if every hash listed for it matches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml

from ..errors import ConfigError
from ..typed import from_mapping

#: The committed catalogue.
CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")
#: Environment variable naming another catalogue file (tests, mirrors).
CATALOGUE_ENV = "ASSISTANT_MODEL_CATALOGUE"

Kind = Literal["vosk", "piper", "whisper"]
#: Folder under `models.dir` per kind of model.
KIND_DIRS: dict[str, str] = {"vosk": "vosk", "piper": "piper", "whisper": "whisper"}
#: What each kind is called in messages.
KIND_LABELS: dict[str, str] = {"vosk": "Vosk model", "piper": "Piper voice", "whisper": "Whisper model"}


@dataclass(frozen=True)
class RemoteFile:
    """One file of a model as its publisher serves it."""

    url: str
    """Where to download it (HTTP or HTTPS)."""
    size: int
    """Its size in bytes."""
    sha256: str | None = None
    """SHA-256 of the file, lowercase hex."""
    md5: str | None = None
    """MD5 of the file, lowercase hex (when that is the only hash the publisher gives)."""
    name: str | None = None
    """File name once installed; default: the last part of the URL."""

    @property
    def filename(self) -> str:
        """The installed file name."""
        return self.name or Path(urlsplit(self.url).path).name

    def validate(self, path: str) -> None:
        if not (self.sha256 or self.md5):
            raise ConfigError(f"{path}: a file needs a sha256 or an md5")
        for algo, length in (("sha256", 64), ("md5", 32)):
            value = getattr(self, algo)
            if value is not None and (len(value) != length or any(c not in "0123456789abcdef" for c in value)):
                raise ConfigError(f"{path}.{algo}: expected {length} lowercase hex digits")
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ConfigError(f"{path}.url: expected an http(s) URL")


@dataclass(frozen=True)
class CatalogueEntry:
    """A model that can be pulled."""

    kind: Kind
    """`vosk`, `piper` or `whisper`."""
    langs: tuple[str, ...]
    """Languages it serves; `*` for a multilingual Whisper model."""
    description: str
    """One line for `assistant models list`."""
    files: tuple[RemoteFile, ...]
    """What to download."""
    licence: str = ""
    """The model's licence."""
    archive_root: str | None = None
    """For a zip: the folder inside it that holds the model (unpacked as the model's folder)."""
    source: str = ""
    """Where the sizes and hashes come from."""
    name: str = ""
    """The model's name (the catalogue key; filled in when the catalogue is read)."""

    def validate(self, path: str) -> None:
        if not self.files:
            raise ConfigError(f"{path}.files: at least one file is needed")
        if self.archive_root is not None and (len(self.files) != 1 or not self.files[0].filename.endswith(".zip")):
            raise ConfigError(f"{path}.archive_root: only for a model that is a single .zip file")

    @property
    def size(self) -> int:
        """Bytes to download."""
        return sum(f.size for f in self.files)

    def serves(self, lang: str) -> bool:
        """True if the model works for `lang`."""
        return "*" in self.langs or lang in self.langs


@dataclass(frozen=True)
class _CatalogueFile:
    """catalogue.yml as written."""

    models: dict[str, CatalogueEntry]
    """Model name → entry."""


def catalogue_path() -> Path:
    """The catalogue in use: $ASSISTANT_MODEL_CATALOGUE, else the committed one."""
    env = os.environ.get(CATALOGUE_ENV)
    return Path(env) if env else CATALOGUE_PATH


def load_catalogue(path: Path | None = None) -> dict[str, CatalogueEntry]:
    """Read and check a catalogue file; name → entry, in file order."""
    path = Path(path or catalogue_path())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read the model catalogue ({err})") from err
    parsed = from_mapping(_CatalogueFile, data, path.name)
    return {name: replace(entry, name=name) for name, entry in parsed.models.items()}
