"""NLU training data: read every skill's `locales/<lang>/nlu.yml`, check it, and merge one language's
files into one Rasa training file with intents prefixed by the skill name (`reorder` → `shopping.reorder`)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import NLUError, SkillError

log = logging.getLogger(__name__)

#: Bump when the way models are trained changes without the data, pipeline or Rasa version changing.
FORMAT_VERSION = "1"
#: Rasa's training-data format version written at the top of the merged file.
RASA_DATA_VERSION = "3.1"
#: Item kinds of Rasa's `nlu:` list this project reads, and the key that names each one.
ITEM_KINDS = ("intent", "synonym", "lookup", "regex")
ALLOWED_ITEM_KEYS = {*ITEM_KINDS, "examples", "metadata"}
TOP_LEVEL_KEYS = {"version", "nlu"}
#: `[text](entity)`, `[text](entity:value)` or `[text]{"entity": ..., "value": ...}`.
ANNOTATION = re.compile(r"\[(?P<text>[^\[\]\n]+)\](?:\((?P<name>[^()\n]+)\)|\{(?P<json>[^{}\n]+)\})")
NAME = re.compile(r"^[A-Za-z_][\w-]*$")


@dataclass(frozen=True)
class NLUSource:
    """One skill's NLU examples in one language."""

    skill: str
    """Skill name; its intents are published as `<skill>.<intent>`."""
    lang: str
    """Language code of the examples."""
    path: Path
    """The `nlu.yml` file."""


@dataclass(frozen=True)
class NLUItem:
    """One checked entry of an `nlu:` list."""

    kind: str
    """`intent`, `synonym`, `lookup` or `regex`."""
    name: str
    """Its name as published (intents prefixed with the skill name)."""
    examples: tuple[str, ...]
    """The example lines, without their `- ` bullet."""


@dataclass(frozen=True)
class MergedData:
    """Every source of one language merged into one Rasa training file."""

    lang: str
    """Language code."""
    text: str
    """The merged file, in Rasa's `nlu.yml` format."""
    examples: int
    """Number of intent examples."""
    intents: tuple[str, ...]
    """Published intent names, sorted."""
    sources: tuple[Path, ...]
    """The files merged, in order."""


def _mark(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def compose_yaml(path: Path, what: str = "NLU examples") -> yaml.Node | None:
    """The YAML node tree of a skill's file (line numbers kept for errors); a SkillError naming the file and
    line when it is not valid YAML, not UTF-8 or cannot be read (`what` it holds, for that message)."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise SkillError(
            f"{path}{where}: not valid YAML ({problem})", hint="fix the indentation or quoting there"
        ) from err
    except UnicodeDecodeError as err:
        raise SkillError(f"{path}: not UTF-8 text") from err
    except OSError as err:
        raise SkillError(f"{path}: cannot read {what} ({err.strerror})") from err


def read_items(path: Path) -> list[tuple[NLUItem, int]]:
    """The checked items of one `nlu.yml` (names not yet prefixed), each with its line number."""
    root = compose_yaml(path)
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise SkillError(f"{path} line {_mark(root)}: expected a mapping with an `nlu:` list at the top level")
    items: list[tuple[NLUItem, int]] = []
    for key_node, value_node in root.value:
        key = key_node.value
        if key not in TOP_LEVEL_KEYS:
            raise SkillError(
                f"{path} line {_mark(key_node)}: unknown top-level key {key!r}",
                hint=f"an NLU file holds only {' and '.join(sorted(TOP_LEVEL_KEYS))}",
            )
        if key != "nlu":
            continue
        if not isinstance(value_node, yaml.SequenceNode):
            raise SkillError(f"{path} line {_mark(value_node)}: `nlu:` must be a list of items (`- intent: ...`)")
        items.extend((_read_item(path, node), _mark(node)) for node in value_node.value)
    return items


def _read_item(path: Path, node: yaml.Node) -> NLUItem:
    where = f"{path} line {_mark(node)}"
    if not isinstance(node, yaml.MappingNode):
        raise SkillError(f"{where}: expected an item like `- intent: name` with `examples: |`")
    fields = {k.value: v for k, v in node.value}
    unknown = sorted(set(fields) - ALLOWED_ITEM_KEYS)
    if unknown:
        raise SkillError(
            f"{where}: unknown key {unknown[0]!r} in an NLU item",
            hint=f"an item has one of {', '.join(ITEM_KINDS)} and `examples`",
        )
    kinds = [k for k in ITEM_KINDS if k in fields]
    if len(kinds) != 1:
        raise SkillError(
            f"{where}: item has no `intent` (or `synonym`, `lookup`, `regex`) name"
            if not kinds
            else f"{where}: item names both {kinds[0]!r} and {kinds[1]!r}"
        )
    kind = kinds[0]
    name_node = fields[kind]
    name = str(name_node.value) if isinstance(name_node, yaml.ScalarNode) else ""
    if not (name.strip() if kind == "synonym" else NAME.match(name)):  # a synonym names a value, spaces allowed
        raise SkillError(f"{where}: {kind} name {name!r} must be a word (letters, digits, _ or -)")
    examples_node = fields.get("examples")
    if examples_node is None:
        raise SkillError(f"{where}: {kind} {name!r} has no `examples`")
    if not (isinstance(examples_node, yaml.ScalarNode) and examples_node.style in ("|", ">")):
        raise SkillError(
            f"{where}: `examples` of {kind} {name!r} must be a block string",
            hint="write `examples: |` and then one `- example` per line",
        )
    examples = _read_examples(path, examples_node, kind, name)
    return NLUItem(kind, name, examples)


def _read_examples(path: Path, node: yaml.ScalarNode, kind: str, name: str) -> tuple[str, ...]:
    found: list[str] = []
    first_line = node.start_mark.line + 2  # a block string starts on the line after `|`
    for offset, raw in enumerate(str(node.value).splitlines()):
        line = raw.strip()
        if not line:
            continue
        where = f"{path} line {first_line + offset}"
        if not line.startswith("- "):
            raise SkillError(f"{where}: example of {kind} {name!r} must start with `- `: {line!r}")
        example = line[2:].strip()
        if kind == "intent":
            _check_annotations(where, example)
        elif kind == "regex":
            try:
                re.compile(example)
            except re.error as err:
                raise SkillError(f"{where}: regex {name!r} does not compile ({err})") from err
        if example:
            found.append(example)
    if not found:
        raise SkillError(f"{path} line {node.start_mark.line + 1}: {kind} {name!r} has no examples")
    return tuple(dict.fromkeys(found))


def _check_annotations(where: str, example: str) -> None:
    for match in ANNOTATION.finditer(example):
        if match["name"] is not None:
            entity = match["name"].split(":", 1)[0].strip()
        else:
            try:
                entity = str(json.loads("{" + match["json"] + "}").get("entity", ""))
            except (json.JSONDecodeError, AttributeError) as err:
                raise SkillError(f"{where}: entity annotation {match[0]!r} is not valid JSON") from err
        if not NAME.match(entity):
            raise SkillError(f"{where}: entity name {entity!r} in {match[0]!r} must be a word")
    rest = ANNOTATION.sub("", example)
    if any(c in rest for c in "[]"):
        raise SkillError(
            f"{where}: unbalanced entity brackets in {example!r}",
            hint="annotate entities as [text](entity), e.g. order [two](quantity) [oat milk](product)",
        )


def plain_text(example: str) -> str:
    """An example without its entity annotations: what the user would say."""
    return ANNOTATION.sub(lambda m: m["text"], example)


def merge(sources: Iterable[NLUSource], lang: str) -> MergedData:
    """Merge the `lang` sources into one training file; intents are prefixed with their skill's name."""
    chosen = [s for s in sources if s.lang == lang]
    if not chosen:
        raise NLUError(f"no NLU examples for language {lang!r}", hint="check `languages` in config.yml")
    merged: dict[tuple[str, str], list[str]] = {}
    seen: dict[str, str] = {}
    for source in chosen:
        for item, line in read_items(source.path):
            name = f"{source.skill}.{item.name}" if item.kind == "intent" else item.name
            bucket = merged.setdefault((item.kind, name), [])
            for example in item.examples:
                if item.kind == "intent":
                    key = plain_text(example).lower()
                    if key in seen and seen[key] != name:
                        log.warning("%s line %d: %r is also an example of %s", source.path, line, example, seen[key])
                    seen[key] = name
                if example not in bucket:
                    bucket.append(example)
    intents = tuple(sorted(name for kind, name in merged if kind == "intent"))
    if not intents:
        raise NLUError(f"the {lang!r} NLU files define no intents", hint="add `- intent:` items to a skill's nlu.yml")
    return MergedData(
        lang=lang,
        text=_render(merged),
        examples=sum(len(v) for (kind, _), v in merged.items() if kind == "intent"),
        intents=intents,
        sources=tuple(s.path for s in chosen),
    )


def _render(merged: dict[tuple[str, str], list[str]]) -> str:
    lines = [f'version: "{RASA_DATA_VERSION}"', "nlu:"]
    for (kind, name), examples in sorted(merged.items(), key=lambda kv: (ITEM_KINDS.index(kv[0][0]), kv[0][1])):
        lines += [f"- {kind}: {name}", "  examples: |"]
        lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"


def fingerprint(data: MergedData, pipeline_yaml: str, rasa_version: str) -> str:
    """A short hash naming the model trained from exactly this data, pipeline config and Rasa version."""
    digest = hashlib.sha256()
    for part in (FORMAT_VERSION, rasa_version, pipeline_yaml, data.text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def rasa_python(env: Path) -> Path:
    """The Python interpreter of the Rasa environment in `env` (its `.venv`, or `env` itself)."""
    for candidate in (env / ".venv" / "bin" / "python", env / "bin" / "python"):
        if candidate.exists():
            return candidate
    raise NLUError(f"no Rasa environment in {env}", hint="run `make nlu-env` (or set nlu.rasa_env in config.yml)")


@lru_cache(maxsize=8)
def rasa_version(env: Path) -> str:
    """Rasa's version in the environment, read from its `rasa-*.dist-info` folder (no import)."""
    venv = rasa_python(env).parent.parent
    for info in sorted(venv.glob("lib/python3*/site-packages/rasa-*.dist-info")):
        return info.name.removeprefix("rasa-").removesuffix(".dist-info")
    raise NLUError(f"Rasa is not installed in {venv}", hint="run `make nlu-env`")
