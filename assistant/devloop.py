"""The skill developer's loop in the chat REPL: what is loaded (`/skills`, `/intents`) and `/reload`.

`/reload` re-reads config.yml's skills, re-imports the skills' code, re-runs the load-time checks,
re-reads the NLU examples and retrains only the languages whose examples changed (models are cached
by fingerprint), then swaps the new skills and NLU in. If anything fails, the old skills and NLU stay
in place and keep answering.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .config import Config, load_config
from .loader import LoadedSkill, discover, load_skills, nlu_sources

if TYPE_CHECKING:
    from .app import App
    from .dialogue import Parser
    from .nlu.data import NLUSource

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
#: Builds the NLU for new sources: trains what changed and attaches (the real one is `nlu.service.connect`).
NLUConnector = Callable[[Config, "Sequence[NLUSource]", Progress], Awaitable["Parser"]]


@dataclass(frozen=True)
class IntentInfo:
    """One intent as `/intents` shows it."""

    intent: str
    """Published name (`shopping.reorder`)."""
    skill: str
    """The skill that handles it."""
    examples: dict[str, int]
    """Language → number of NLU examples."""


def skill_lines(skills: Sequence[LoadedSkill], langs: Sequence[str], lang: str) -> list[str]:
    """`/skills`: each enabled skill, where it lives, its languages and intents."""
    lines = []
    for s in skills:
        have = [code for code in langs if (s.folder / "locales" / code / "nlu.yml").exists()]
        intents = ", ".join(sorted(i.split(".", 1)[1] for i in s.handlers)) or "none"
        lines.append(f"{s.name}  ({s.folder})  languages: {', '.join(have) or 'none'}")
        about = type(s.skill).description.get(lang)
        if about:
            lines.append(f"  {about}")
        lines.append(f"  intents: {intents}")
    return lines or ["no skills enabled (skills.enabled in config.yml)"]


def intents(skills: Sequence[LoadedSkill], langs: Sequence[str]) -> list[IntentInfo]:
    """Every skill intent with its example count per language."""
    from .nlu.data import read_items

    found = []
    for s in skills:
        counts: dict[str, dict[str, int]] = {}
        for code in langs:
            path = s.folder / "locales" / code / "nlu.yml"
            for item, _ in read_items(path) if path.exists() else []:
                if item.kind == "intent":
                    counts.setdefault(f"{s.name}.{item.name}", {})[code] = len(item.examples)
        for name in sorted(s.handlers):
            found.append(IntentInfo(name, s.name, {code: counts.get(name, {}).get(code, 0) for code in langs}))
    return found


def intent_lines(skills: Sequence[LoadedSkill], langs: Sequence[str]) -> list[str]:
    """`/intents`: intent → skill, examples per language."""
    rows = intents(skills, langs)
    if not rows:
        return ["no intents"]
    width = max(len(r.intent) for r in rows)
    return [
        f"{r.intent:<{width}}  {r.skill:<12} " + "  ".join(f"{code} {n:>3}" for code, n in r.examples.items())
        for r in rows
    ]


async def reload(app: App, progress: Progress) -> None:
    """Reload config.yml's skills section, the skills' code and NLU; on failure nothing changes."""
    config = load_config(app.config_path) if app.config_path else app.config
    snapshot = _forget_skill_modules(app.skills)
    try:
        available = discover(config)
        _report_code(app, available, progress)
        skills = load_skills(config, app.services)
        for loaded in skills:
            await loaded.skill.setup()
        sources = nlu_sources(config, available)
        if app.connect_nlu is None:
            progress("NLU: kept (this app was given its parser; nothing to retrain)")
            nlu = app.nlu
        else:
            _report_nlu(config, sources, progress)
            nlu = await app.connect_nlu(config, sources, progress)
    except BaseException:
        _restore_modules(snapshot)
        raise
    old = app.nlu
    app.config, app.skills, app.nlu = config, skills, nlu
    app.code_stamps = code_stamps(available)
    if old is not nlu:
        closer = getattr(old, "aclose", None)
        if closer is not None:
            await closer()
    progress(f"Reloaded: {', '.join(s.name for s in skills) or 'no skills'}")


def code_stamps(available: dict[str, tuple[Path, type]]) -> dict[Path, float]:
    """Modification time of every Python file of the given skills (to say what changed on reload)."""
    return {
        path: path.stat().st_mtime
        for folder, _ in available.values()
        for path in folder.rglob("*.py")
        if "tests" not in path.relative_to(folder).parts
    }


def _report_code(app: App, available: dict[str, tuple[Path, type]], progress: Progress) -> None:
    changed = sorted(
        f"{name}/{path.relative_to(folder)}"
        for name, (folder, cls) in available.items()
        if name in {s.name for s in app.skills}
        for path, stamp in code_stamps({name: (folder, cls)}).items()
        if app.code_stamps.get(path) != stamp
    )
    added = sorted(set(available) - {s.name for s in app.skills})
    removed = sorted({s.name for s in app.skills} - set(available))
    if added:
        progress(f"New skills: {', '.join(added)}")
    if removed:
        progress(f"No longer enabled: {', '.join(removed)}")
    if changed:
        progress(f"Code changed: {', '.join(changed)}")
    elif not added:
        progress("Code unchanged (re-imported anyway)")


def _report_nlu(config: Config, sources: Sequence[NLUSource], progress: Progress) -> None:
    if config.nlu.url:
        progress(f"NLU: served by {config.nlu.url}; its host retrains it (`assistant nlu serve` there)")
        return
    from .nlu.models import plan_models

    for plan in plan_models(config, sources):
        state = "trained model cached" if plan.trained else "examples changed: will train"
        progress(f"NLU {plan.lang}: {plan.data.examples} examples, {len(plan.data.intents)} intents; {state}")


def _skill_modules(skills: Sequence[LoadedSkill]) -> set[str]:
    """Top-level module names of the skills' code: `assistant_skills.<name>` or an installed package."""
    tops = set()
    for s in skills:
        module = type(s.skill).__module__
        tops.add(".".join(module.split(".")[:2]) if module.startswith("assistant_skills.") else module.split(".")[0])
    return tops


def _forget_skill_modules(skills: Sequence[LoadedSkill]) -> dict[str, ModuleType]:
    """Drop the skills' modules from sys.modules so the next import reads the files again; returns them."""
    tops = _skill_modules(skills) | {n for n in list(sys.modules) if n.startswith("assistant_skills.")}
    tops = {t for t in tops if t.startswith("assistant_skills.") or t not in ("assistant", "")}
    dropped = {
        name: module
        for name, module in list(sys.modules.items())
        if any(name == t or name.startswith(t + ".") for t in tops)
    }
    for name in dropped:
        del sys.modules[name]
    return dropped


def _restore_modules(snapshot: dict[str, ModuleType]) -> None:
    for name in [n for n in list(sys.modules) if n.startswith("assistant_skills.")]:
        del sys.modules[name]
    sys.modules.update(snapshot)
