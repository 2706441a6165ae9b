"""Load-time checks of a skill, so a mistake fails at start with its file and line, not mid-conversation.

Per skill: every handler has NLU examples in every enabled language and every intent has a handler
(`check_intents`); every response key its code uses, found statically with `ast`, is defined in every
language (`check_responses`). Across skills: no two skills claim one intent name or one example
sentence (`check_claims`). Malformed `nlu.yml` / `responses.yml` are reported by their readers
(`nlu.data.read_items`, `templates.Templates.load`) with file and line.
"""

from __future__ import annotations

import ast
import inspect
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import SkillError
from .skill import Skill
from .templates import Templates

log = logging.getLogger(__name__)

#: Context methods whose first argument is a response key.
KEY_METHODS = {"say", "confirm", "choose", "ask", "render"}


@dataclass(frozen=True)
class KeyUse:
    """A response key used in a skill's code."""

    key: str
    """The response key."""
    path: Path
    """The source file."""
    line: int
    """Its line number."""


def check_intents(name: str, folder: Path, cls: type[Skill], langs: Sequence[str]) -> None:
    """Every `@intent` handler has examples in every language, every NLU intent has a handler."""
    from .nlu.data import read_items

    handled = _handlers(name, cls)
    for lang in langs:
        path = folder / "locales" / lang / "nlu.yml"
        declared = (
            {item.name: line for item, line in read_items(path) if item.kind == "intent"} if path.exists() else {}
        )
        missing = sorted(set(handled) - set(declared))
        if missing:
            raise SkillError(
                f"skill {name!r}: intent {missing[0]!r} has a handler ({_where(cls, handled[missing[0]])}) "
                f"but no NLU examples for {lang!r}",
                hint=f"add `- intent: {missing[0]}` with examples to {path}",
            )
        orphans = sorted(set(declared) - set(handled), key=lambda intent: declared[intent])
        if orphans:
            raise SkillError(
                f"{path} line {declared[orphans[0]]}: intent {orphans[0]!r} of skill {name!r} has no handler",
                hint=f"add an `@intent({orphans[0]!r})` async method to {cls.__name__}, or remove the intent",
            )


def _handlers(name: str, cls: type[Skill]) -> dict[str, str]:
    """Intent → method name; two methods claiming one intent is an error (one would silently win)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for attr, member in vars(klass).items():
            intent = getattr(member, "__assistant_intent__", None)
            if intent is None or getattr(cls, attr, None) is not member:
                continue
            if intent in found and found[intent] != attr:
                raise SkillError(
                    f"skill {name!r}: intent {intent!r} is claimed by two handlers, "
                    f"{_where(cls, found[intent])} and {_where(cls, attr)}",
                    hint="keep one `@intent` per intent name",
                )
            found[intent] = attr
    return found


def _where(cls: type[Skill], attr: str) -> str:
    func = getattr(cls, attr)
    try:
        return f"{cls.__name__}.{attr} at {inspect.getsourcefile(func)}:{inspect.getsourcelines(func)[1]}"
    except (OSError, TypeError):
        return f"{cls.__name__}.{attr}"


def check_responses(name: str, folder: Path, templates: Templates, langs: Sequence[str]) -> None:
    """Every response key the skill's code uses is defined in every language."""
    for use in used_keys(folder):
        for lang in langs:
            if use.key not in templates.keys(lang):
                raise SkillError(
                    f"{use.path}:{use.line}: skill {name!r} uses response {use.key!r}, not defined for {lang!r}",
                    hint=f'add `{use.key}: "..."` to {folder / "locales" / lang / "responses.yml"}',
                )


def used_keys(folder: Path) -> list[KeyUse]:
    """Response keys passed as a literal to `say`/`confirm`/`choose`/`ask`/`render` in the skill's code."""
    uses: list[KeyUse] = []
    for path in _sources(folder):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError) as err:
            raise SkillError(f"{path}: cannot read the skill's code ({err})") from err
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEY_METHODS:
                first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "key"), None)
                uses.extend(KeyUse(key, path, node.lineno) for key in _literals(first))
    return uses


def _sources(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if not any(p in ("tests", "test") or p.startswith(".") for p in parts[:-1]):
            yield path


def _literals(node: ast.expr | None) -> Iterable[str]:
    """The string constants an argument can be: `"key"`, or `"a" if cond else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return [*_literals(node.body), *_literals(node.orelse)]
    return []


def check_claims(folders: dict[str, tuple[Path, type[Skill]]], langs: Sequence[str], core: Path) -> None:
    """No two skills claim one example sentence (the NLU could not tell them apart)."""
    from .nlu.data import plain_text, read_items

    for lang in langs:
        owner: dict[str, tuple[str, str, Path, int]] = {}
        sources = [("core", core / lang / "nlu.yml")]
        sources += [(n, f / "locales" / lang / "nlu.yml") for n, (f, _) in folders.items()]
        for skill, path in sources:
            if not path.exists():
                continue
            for item, line in read_items(path):
                if item.kind != "intent":
                    continue
                for example in item.examples:
                    key = " ".join(plain_text(example).lower().split())
                    seen = owner.setdefault(key, (skill, item.name, path, line))
                    if seen[0] != skill:
                        raise SkillError(
                            f"{path} line {line}: intent {skill}.{item.name} has the example {plain_text(example)!r}, "
                            f"also an example of {seen[0]}.{seen[1]} ({seen[2]} line {seen[3]})",
                            hint="two skills cannot claim one sentence: reword or remove one of them",
                        )
