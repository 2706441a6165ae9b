"""Find, import and check skills: folders under `skills.paths`, or packages in the `assistant.skills` entry points."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import yaml

from .config import Config
from .errors import SkillError
from .skill import Skill, SkillEnv
from .templates import Templates
from .typed import from_mapping

if TYPE_CHECKING:
    from .nlu.data import NLUSource

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "assistant.skills"
#: The framework's own dialogue data (yes / no / never mind) and sentences.
CORE_LOCALES = Path(__file__).parent / "locales"
CORE_SKILL = "core"


@dataclass(frozen=True)
class LoadedSkill:
    """A skill ready to handle turns."""

    name: str
    """Skill name, the prefix of its intents."""
    skill: Skill
    """The skill instance."""
    folder: Path
    """Where its code and `locales/` live."""
    handlers: dict[str, Any]
    """Fully qualified intent name (`shopping.reorder`) → bound handler."""
    templates: Templates
    """Its response templates."""


def discover(config: Config) -> dict[str, tuple[Path, type[Skill]]]:
    """Every skill available: folder skills first, then entry-point packages; name → (folder, class)."""
    found: dict[str, tuple[Path, type[Skill]]] = {}
    for base in config.skills.paths:
        root = config.resolve(base)
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
            if folder.name in config.skills.enabled:
                found[folder.name] = (folder, _skill_class(_import_folder(folder), folder))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found or ep.name not in config.skills.enabled:
            continue
        cls = ep.load()
        if not (inspect.isclass(cls) and issubclass(cls, Skill)):
            raise SkillError(f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP} is not a Skill subclass")
        found[ep.name] = (Path(inspect.getfile(cls)).parent, cls)
    return found


def _import_folder(folder: Path) -> ModuleType:
    """Import `skills/<name>/` as package `assistant_skills.<name>` so relative imports work."""
    name = f"assistant_skills.{folder.name}"
    if name in sys.modules:
        return sys.modules[name]
    sys.modules.setdefault("assistant_skills", ModuleType("assistant_skills"))
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise SkillError(f"cannot import skill folder {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SkillError:
        raise
    except Exception as err:
        del sys.modules[name]
        raise SkillError(f"skill {folder.name!r} failed to import: {err}", hint=f"see {folder}") from err
    return module


def _skill_class(module: ModuleType, folder: Path) -> type[Skill]:
    classes = [
        obj for obj in vars(module).values() if inspect.isclass(obj) and issubclass(obj, Skill) and obj is not Skill
    ]
    if len(classes) != 1:
        raise SkillError(
            f"skill folder {folder} must export exactly one Skill subclass from __init__.py, found {len(classes)}"
        )
    return classes[0]


def nlu_sources(config: Config, available: dict[str, tuple[Path, type[Skill]]] | None = None) -> list[NLUSource]:
    """The NLU example files of the framework and of every enabled skill, for every configured language."""
    from .nlu.data import NLUSource

    available = available if available is not None else discover(config)
    sources = []
    for lang in config.languages:
        sources.append(NLUSource(CORE_SKILL, lang, CORE_LOCALES / lang / "nlu.yml"))
        for name, (folder, _) in available.items():
            path = folder / "locales" / lang / "nlu.yml"
            if path.exists():
                sources.append(NLUSource(name, lang, path))
    return sources


def _nlu_intents(path: Path) -> set[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return set()  # reported with file and line by the NLU data merge
    return {str(item["intent"]) for item in data.get("nlu", []) or [] if isinstance(item, dict) and "intent" in item}


def check_skill(name: str, folder: Path, cls: type[Skill], langs: Sequence[str]) -> None:
    """Load-time checks: every handler has examples in every language, every intent has a handler."""
    handled = set(cls.handlers())
    for lang in langs:
        path = folder / "locales" / lang / "nlu.yml"
        declared = _nlu_intents(path) if path.exists() else set()
        missing = sorted(handled - declared)
        if missing:
            raise SkillError(
                f"skill {name!r}: intent {missing[0]!r} has a handler but no NLU examples for {lang!r}",
                hint=f"add examples to {path}",
            )
        orphans = sorted(declared - handled)
        if orphans:
            raise SkillError(
                f"skill {name!r}: intent {orphans[0]!r} in {path} has no handler",
                hint=f"add an @intent({orphans[0]!r}) method to {cls.__name__}",
            )


def load_skills(config: Config, services: dict[str, Any]) -> list[LoadedSkill]:
    """Import, check and instantiate the enabled skills, in `skills.enabled` order."""
    available = discover(config)
    missing = [n for n in config.skills.enabled if n not in available]
    if missing:
        raise SkillError(
            f"skills.enabled: no skill named {missing[0]!r}",
            hint=f"available: {', '.join(sorted(available)) or 'none'}; skill folders go under {config.skills.paths}",
        )
    loaded = []
    for name in config.skills.enabled:
        folder, cls = available[name]
        check_skill(name, folder, cls, config.languages)
        raw = config.skills.settings.get(name, {})
        settings = from_mapping(cls.Settings, raw, f"skills.settings.{name}") if cls.Settings else raw
        skill = cls(SkillEnv(config=config, settings=settings, services=services))
        handlers = {f"{name}.{intent}": getattr(skill, attr) for intent, attr in cls.handlers().items()}
        templates = Templates.load(name, folder / "locales", config.languages)
        loaded.append(LoadedSkill(name, skill, folder, handlers, templates))
    unknown = set(config.skills.settings) - set(config.skills.enabled)
    if unknown:
        raise SkillError(f"skills.settings.{sorted(unknown)[0]}: settings for a skill that is not enabled")
    return loaded
