"""Per-language response templates: `locales/<lang>/responses.yml`, one key per sentence."""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import SkillError
from .nlu.data import compose_yaml

_FORMATTER = string.Formatter()


class Templates:
    """The response templates of one skill, for every language it ships."""

    def __init__(self, owner: str, by_lang: dict[str, dict[str, list[str]]]) -> None:
        self.owner = owner
        self.by_lang = by_lang

    @classmethod
    def load(cls, owner: str, locales_dir: Path, langs: Sequence[str]) -> Templates:
        """Read `<locales_dir>/<lang>/responses.yml` for each language (a missing file is an empty set)."""
        by_lang = {lang: _read(locales_dir / lang / "responses.yml") for lang in langs}
        return cls(owner, by_lang)

    def keys(self, lang: str) -> set[str]:
        return set(self.by_lang.get(lang, {}))

    def render(self, lang: str, key: str, values: dict[str, Any], variant: int = 0) -> str:
        """Fill template `key`; a list of variants rotates with `variant`."""
        variants = self.by_lang.get(lang, {}).get(key)
        if not variants:
            raise SkillError(
                f"skill {self.owner!r} has no response {key!r} for language {lang!r}",
                hint=f"add it to locales/{lang}/responses.yml",
            )
        template = variants[variant % len(variants)]
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as err:
            raise SkillError(
                f"skill {self.owner!r} response {key!r} ({lang}): cannot fill {template!r}: {err}"
            ) from err


def placeholders(template: str) -> set[str]:
    """The `{name}` fields a template uses."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(template) if name}


def _read(path: Path) -> dict[str, list[str]]:
    """The templates of one responses.yml; YAML and structure errors name the file and line."""
    if not path.exists():
        return {}
    root = compose_yaml(path, "responses")
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise SkillError(
            f"{path} line {_line(root)}: expected a mapping of response keys to sentences",
            hint='write one `key: "sentence"` per line',
        )
    out: dict[str, list[str]] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        variants = _variants(value_node)
        if variants is None:
            raise SkillError(
                f"{path} line {_line(value_node)}: response {key!r} must be a sentence or a list of sentences",
                hint='quote it: `key: "sentence"`, or list variants as `- "sentence"` lines',
            )
        if key in out:
            raise SkillError(f"{path} line {_line(key_node)}: response {key!r} is defined twice")
        out[key] = variants
    return out


def _variants(node: yaml.Node) -> list[str] | None:
    """The sentences of one response: a string scalar, or a non-empty list of them."""
    if isinstance(node, yaml.ScalarNode):
        return [str(node.value)] if node.tag == "tag:yaml.org,2002:str" and str(node.value).strip() else None
    if isinstance(node, yaml.SequenceNode) and node.value:
        found = [_variants(item) for item in node.value]
        if all(f is not None and isinstance(item, yaml.ScalarNode) for f, item in zip(found, node.value, strict=True)):
            return [f[0] for f in found if f]
    return None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
