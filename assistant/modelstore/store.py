"""Where speech models live: pulled ones under `models.dir`, packaged ones in site-packages.

A pulled model is a folder `models/<kind>/<name>/` with a `manifest.json` (written last, inside a
temporary folder that is then renamed into place), listing every file with its size and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelCorrupt, ModelError
from .catalogue import KIND_DIRS, KIND_LABELS, CatalogueEntry, load_catalogue
from .packaged import InstalledModel, packaged_models

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelStatus:
    """One line of `assistant models list`."""

    name: str
    """Model name."""
    kind: str
    """`vosk`, `piper` or `whisper`."""
    langs: tuple[str, ...]
    """Languages it serves (`*`: any)."""
    state: str
    """`packaged`, `installed`, `partial` (a download to resume) or `not installed`."""
    size: int
    """Download size in bytes (installed size for packaged models outside the catalogue)."""
    description: str
    """What it is."""
    path: Path | None
    """Where it is, when on disk."""


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of re-hashing one model."""

    name: str
    """Model name."""
    ok: bool
    """True when every file is present with the recorded size and hash."""
    problems: tuple[str, ...]
    """What is wrong, one line each."""
    fix: str
    """The command that repairs it (empty when ok)."""


def file_digest(path: Path, algo: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.new(algo)
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def pull_command(name: str, force: bool = False) -> str:
    return f"assistant models pull {name}" + (" --force" if force else "")


class ModelStore:
    """Finds, lists and verifies speech models."""

    def __init__(
        self,
        root: Path,
        catalogue: dict[str, CatalogueEntry] | None = None,
        packaged: dict[str, InstalledModel] | None = None,
    ) -> None:
        self.root = Path(root)
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.packaged = packaged if packaged is not None else packaged_models()

    @classmethod
    def from_config(cls, config: Config) -> ModelStore:
        return cls(config.resolve(config.models.dir))

    @property
    def downloads(self) -> Path:
        """Where partial downloads wait to be resumed."""
        return self.root / "downloads"

    def folder(self, entry: CatalogueEntry) -> Path:
        """Where a pulled model is installed."""
        return self.root / KIND_DIRS[entry.kind] / entry.name

    def installed(self, name: str) -> InstalledModel | None:
        """The model by that name if it is on disk (pulled first, then packaged)."""
        entry = self.catalogue.get(name)
        if entry is not None and (self.folder(entry) / MANIFEST).exists():
            path = self.folder(entry)
            if entry.kind == "piper":
                path = path / next(f.filename for f in entry.files if f.filename.endswith(".onnx"))
            return InstalledModel(name, entry.kind, entry.langs, path, "pulled")
        return self.packaged.get(name)

    def require(self, kind: str, name_or_path: str) -> InstalledModel:
        """A model named in config (a name or a path); one-line error naming the fix when it is missing."""
        label = KIND_LABELS[kind]
        found = self.installed(name_or_path)
        if found is not None:
            if found.kind != kind:
                raise ModelError(f"{name_or_path} is a {KIND_LABELS[found.kind]}, not a {label}")
            return found
        if name_or_path in self.catalogue:
            raise ModelError(f"{label} {name_or_path} is not installed (run: {pull_command(name_or_path)})")
        path = Path(name_or_path).expanduser()
        if ("/" in name_or_path or path.suffix) and path.exists():
            return InstalledModel(str(path), kind, ("*",), path.resolve(), "path")
        known = ", ".join(n for n, e in self.catalogue.items() if e.kind == kind)
        raise ModelError(f"unknown {label} {name_or_path!r} (known: {known}; see: assistant models list)")

    def available(self, kind: str, lang: str) -> list[InstalledModel]:
        """Installed models of a kind that serve `lang`: pulled in catalogue order, then packaged."""
        models = [self.installed(name) for name, e in self.catalogue.items() if e.kind == kind and e.serves(lang)]
        models += [m for m in self.packaged.values() if m.kind == kind and m.serves(lang)]
        unique = {m.path: m for m in models if m is not None}
        return list(unique.values())

    def statuses(self) -> list[ModelStatus]:
        """Every catalogue and packaged model with its state."""
        rows = []
        for name, entry in self.catalogue.items():
            model = self.installed(name)
            state = model.source.replace("pulled", "installed") if model else "not installed"
            if model is None and (self.downloads / name).exists():
                state = "partial"
            rows.append(
                ModelStatus(
                    name, entry.kind, entry.langs, state, entry.size, entry.description, model.path if model else None
                )
            )
        for name, model in self.packaged.items():
            if name not in self.catalogue:
                size = _tree_size(model.path)
                rows.append(
                    ModelStatus(
                        name, model.kind, model.langs, "packaged", size, "ships in a Python package", model.path
                    )
                )
        return rows

    def verify(self, names: Iterable[str] | None = None) -> list[VerifyResult]:
        """Re-hash installed models against their manifests (packaged ones against the catalogue)."""
        chosen = list(names) if names is not None else [s.name for s in self.statuses() if s.state != "not installed"]
        return [self._verify_one(name) for name in chosen]

    def _verify_one(self, name: str) -> VerifyResult:
        entry = self.catalogue.get(name)
        if entry is not None and (self.folder(entry) / MANIFEST).exists():
            problems = check_manifest(self.folder(entry))
            return VerifyResult(name, not problems, tuple(problems), pull_command(name, True) if problems else "")
        packaged = self.packaged.get(name)
        if packaged is not None:
            problems = _check_packaged(packaged, entry)
            fix = "reinstall the package that ships it: uv sync --reinstall" if problems else ""
            return VerifyResult(name, not problems, tuple(problems), fix)
        if entry is None:
            return VerifyResult(name, False, (f"unknown model {name!r}",), "see: assistant models list")
        return VerifyResult(name, False, ("not installed",), pull_command(name))


def read_manifest(folder: Path) -> dict[str, dict[str, int | str]]:
    """The files a manifest lists: relative path → {size, sha256}."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return dict(data["files"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelCorrupt(f"{folder / MANIFEST} is unreadable ({err})") from err


def check_manifest(folder: Path) -> list[str]:
    """Problems with a pulled model's files (empty when every file matches its manifest)."""
    try:
        files = read_manifest(folder)
    except ModelCorrupt as err:
        return [str(err)]
    problems = []
    for rel, meta in files.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != meta["size"]:
            problems.append(f"{rel}: {path.stat().st_size} bytes, expected {meta['size']}")
        elif file_digest(path) != meta["sha256"]:
            problems.append(f"{rel}: SHA-256 does not match the manifest")
    return problems


def _check_packaged(model: InstalledModel, entry: CatalogueEntry | None) -> list[str]:
    if not model.path.exists():
        return [f"{model.path}: missing"]
    if entry is None:
        empty = [p.name for p in ([model.path] if model.path.is_file() else model.path.iterdir()) if _is_empty(p)]
        return [f"{name}: empty" for name in empty]
    problems = []
    for remote in entry.files:
        path = model.path.parent / remote.filename
        algo, expected = ("sha256", remote.sha256) if remote.sha256 else ("md5", remote.md5)
        if not path.is_file():
            problems.append(f"{remote.filename}: missing")
        elif file_digest(path, algo) != expected:
            problems.append(f"{remote.filename}: {algo.upper()} does not match the catalogue")
    return problems


def _is_empty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size == 0


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
