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

from .config import Config
from .errors import SkillError
from .skill import Skill, SkillEnv
from .skill_checks import check_claims, check_intents, check_responses
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
    """Every enabled skill available: folder skills first, then entry-point packages; name → (folder, class).

    Two skills of one name (in two skills.paths folders, or a folder and an installed package) is an
    error: both would publish the same `<name>.<intent>` intents."""
    found: dict[str, tuple[Path, type[Skill]]] = {}
    for base in config.skills.paths:
        root = config.resolve(base)
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
            if folder.name in config.skills.enabled:
                _claim(found, folder.name, str(folder))
                found[folder.name] = (folder, _checked_name(_skill_class(_import_folder(folder), folder), folder.name))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in config.skills.enabled:
            continue
        _claim(found, ep.name, f"the installed package skill {ep.value}")
        try:
            cls = ep.load()
        except Exception as err:
            raise SkillError(f"skill {ep.name!r} ({ep.value}, entry point) failed to import: {err}") from err
        if not (inspect.isclass(cls) and issubclass(cls, Skill)):
            raise SkillError(f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP} is not a Skill subclass")
        found[ep.name] = (Path(inspect.getfile(cls)).parent, _checked_name(cls, ep.name))
    return found


def _claim(found: dict[str, tuple[Path, type[Skill]]], name: str, where: str) -> None:
    if name in found:
        raise SkillError(
            f"two skills are named {name!r}: {found[name][0]} and {where}; both would claim the intents {name}.*",
            hint="rename one (its folder or entry-point name) or remove it from skills.paths",
        )


def _checked_name(cls: type[Skill], name: str) -> type[Skill]:
    """A class's `name` must match the folder (or entry point) it is loaded as: intents are published under it."""
    if cls.name and cls.name != name:
        raise SkillError(
            f"skill {name!r}: {cls.__qualname__}.name is {cls.name!r}, but it is loaded as {name!r} "
            f"(its intents would clash with skill {cls.name!r})",
            hint=f"set name = {name!r} in {inspect.getfile(cls)}",
        )
    return cls


def _import_folder(folder: Path) -> ModuleType:
    """Import `skills/<name>/` as package `assistant_skills.<name>` so relative imports work."""
    name = f"assistant_skills.{folder.name}"
    cached = sys.modules.get(name)
    if cached is not None and Path(cached.__file__ or "").parent == folder:
        return cached
    # list() copies the keys at once: a background thread (the language warm-up) may be importing meanwhile
    for stale in [n for n in list(sys.modules) if n == name or n.startswith(name + ".")]:
        del sys.modules[stale]  # a skill of the same name from another folder (another config)
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


def check_skill(name: str, folder: Path, cls: type[Skill], langs: Sequence[str]) -> None:
    """Load-time checks of one skill's intents: every handler has examples in every language, every
    intent has a handler, no intent has two handlers. Errors name the file and line."""
    check_intents(name, folder, cls, langs)


def load_skills(config: Config, services: dict[str, Any]) -> list[LoadedSkill]:
    """Import, check and instantiate the enabled skills, in `skills.enabled` order."""
    available = discover(config)
    missing = [n for n in config.skills.enabled if n not in available]
    if missing:
        raise SkillError(
            f"skills.enabled: no skill named {missing[0]!r}",
            hint=f"available: {', '.join(sorted(available)) or 'none'}; skill folders go under {config.skills.paths}",
        )
    check_claims({n: available[n] for n in config.skills.enabled}, config.languages, CORE_LOCALES)
    loaded = []
    for name in config.skills.enabled:
        folder, cls = available[name]
        check_skill(name, folder, cls, config.languages)
        raw = config.skills.settings.get(name, {})
        settings = from_mapping(cls.Settings, raw, f"skills.settings.{name}") if cls.Settings else raw
        skill = cls(SkillEnv(config=config, settings=settings, services=services))
        handlers = {f"{name}.{intent}": getattr(skill, attr) for intent, attr in cls.handlers().items()}
        templates = Templates.load(name, folder / "locales", config.languages)
        check_responses(name, folder, templates, config.languages)
        loaded.append(LoadedSkill(name, skill, folder, handlers, templates))
    unknown = set(config.skills.settings) - set(config.skills.enabled)
    if unknown:
        raise SkillError(f"skills.settings.{sorted(unknown)[0]}: settings for a skill that is not enabled")
    return loaded
