"""config.yml parsed into typed, frozen objects; invalid or unknown keys fail at start with their path."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError
from .typed import from_mapping
from .voice_config import AudioConfig, ListenConfig, ModelsConfig, STTConfig, TTSConfig, WakeConfig

#: Languages the framework ships dialogue data (yes / no / never mind) for.
SUPPORTED_LANGUAGES = ("en", "fr")
#: Project root: where config.yml, skills/, models/ and data/ live in a checkout.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Environment variable that overrides `data_dir` (isolates a household for tests and tools).
HOME_ENV = "ASSISTANT_HOME"
#: Environment variable that points at another config file.
CONFIG_ENV = "ASSISTANT_CONFIG"


@dataclass(frozen=True)
class SkillsConfig:
    """Where skills are found and which ones run."""

    paths: list[str] = field(default_factory=lambda: ["skills"])
    """Folders holding one sub-folder per skill (relative to the config file)."""
    enabled: list[str] = field(default_factory=lambda: ["shopping"])
    """Skill names to load, in routing order."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Per-skill settings, keyed by skill name; each skill validates its own."""


@dataclass(frozen=True)
class NLUConfig:
    """The Rasa NLU service: how to train, where to run it, how to reach it."""

    url: str | None = None
    """Use an NLU service already running at this URL instead of starting one (e.g. a household hub)."""
    host: str = "127.0.0.1"
    """Loopback address the assistant starts its own service on."""
    port: int = 5905
    """Port of the service the assistant starts."""
    pipeline: Literal["light", "intent_crf", "diet"] = "light"
    """`light`: LogisticRegression + CRF (fast load, low memory); `diet`: Rasa's DIET transformer."""
    confidence_threshold: float = 0.45
    """Below this intent confidence the utterance counts as not understood."""
    start_timeout_s: float = 180.0
    """How long to wait for a starting service to load its models."""
    request_timeout_s: float = 10.0
    """Timeout of one parse request."""
    rasa_env: str = "nlu_service"
    """Folder of the Rasa Python 3.10 environment (relative to the config file)."""
    models_dir: str = "models/nlu"
    """Where trained models are cached by fingerprint (relative to the config file)."""
    idle_stop_s: float = 1800.0
    """A worker the assistant started stops after this long without a parse request (0: never)."""

    def validate(self, path: str) -> None:
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ConfigError(f"{path}.confidence_threshold: expected a number between 0 and 1")
        if not 0 < self.port < 65536:
            raise ConfigError(f"{path}.port: expected a port number between 1 and 65535")
        if self.idle_stop_s < 0:
            raise ConfigError(f"{path}.idle_stop_s: expected 0 or more seconds")


@dataclass(frozen=True)
class RetailerConfig:
    """Which retailer adapter places orders, and its settings."""

    adapter: str = "demo"
    """Adapter name (`demo`)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Adapter settings, validated by the adapter."""


@dataclass(frozen=True)
class DialogueConfig:
    """Multi-turn behaviour."""

    timeout_s: float = 120.0
    """A question left unanswered this long is dropped; the next utterance starts afresh."""


@dataclass(frozen=True)
class Config:
    """The whole of config.yml."""

    language: Literal["en", "fr"] = "en"
    """Default conversation language."""
    languages: list[Literal["en", "fr"]] = field(default_factory=lambda: ["en", "fr"])
    """Languages whose NLU models are trained and served."""
    data_dir: str = "~/.local/share/assistant"
    """The household's data (database, demo retailer state); env ASSISTANT_HOME overrides it."""
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    """Skills."""
    nlu: NLUConfig = field(default_factory=NLUConfig)
    """NLU service."""
    retailer: RetailerConfig = field(default_factory=RetailerConfig)
    """Retailer adapter."""
    dialogue: DialogueConfig = field(default_factory=DialogueConfig)
    """Dialogue manager."""
    audio: AudioConfig = field(default_factory=AudioConfig)
    """Microphone and speaker."""
    listen: ListenConfig = field(default_factory=ListenConfig)
    """End of speech, answer windows, transcript confidence."""
    wake: WakeConfig = field(default_factory=WakeConfig)
    """Wake word and push-to-talk."""
    stt: STTConfig = field(default_factory=STTConfig)
    """Speech-to-text."""
    tts: TTSConfig = field(default_factory=TTSConfig)
    """Text-to-speech."""
    models: ModelsConfig = field(default_factory=ModelsConfig)
    """Downloaded speech models."""
    base_dir: str = field(default="", metadata={"internal": True})
    """Folder relative paths are resolved against (set from the config file's location, not from YAML)."""

    def validate(self, path: str) -> None:
        if self.language not in self.languages:
            raise ConfigError(f"language: {self.language!r} is not listed in languages {self.languages}")

    def resolve(self, relative: str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(os.path.expanduser(relative))
        return p if p.is_absolute() else Path(self.base_dir or PROJECT_ROOT) / p

    @property
    def home(self) -> Path:
        """The household data directory (ASSISTANT_HOME wins over data_dir)."""
        env = os.environ.get(HOME_ENV)
        return Path(os.path.expanduser(env)).resolve() if env else self.resolve(self.data_dir)

    @property
    def db_path(self) -> Path:
        """The household's SQLite file."""
        return self.home / "assistant.sqlite"


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else PROJECT_ROOT / "config.yml"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate config.yml; a missing file gives the defaults."""
    cfg_path = Path(path) if path else default_config_path()
    data: Any = {}
    if cfg_path.exists():
        try:
            data = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{cfg_path}{where}: not valid YAML ({getattr(err, 'problem', err)})") from err
        except UnicodeDecodeError as err:
            raise ConfigError(f"{cfg_path}: not UTF-8 text") from err
    elif path:
        raise ConfigError(f"{cfg_path}: no such config file")
    if not isinstance(data, dict):
        raise ConfigError(f"{cfg_path}: expected a mapping of settings at the top level")
    if "base_dir" in data:
        raise ConfigError("base_dir: unknown key (it is set from the config file's location)")
    data = {**data, **(overrides or {}), "base_dir": str(cfg_path.resolve().parent)}
    try:
        return from_mapping(Config, data)
    except ConfigError as err:
        raise ConfigError(
            f"{cfg_path.name}: {err.message}", hint="fix config.yml or see docs/configuration.md"
        ) from err
