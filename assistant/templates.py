"""Per-language response templates: `locales/<lang>/responses.yml`, one key per sentence."""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import SkillError

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
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SkillError(f"{path}{where}: not valid YAML") from err
    if not isinstance(data, dict):
        raise SkillError(f"{path}: expected a mapping of response keys to sentences")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        variants = [value] if isinstance(value, str) else value
        if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
            raise SkillError(f"{path}: response {key!r} must be a sentence or a list of sentences")
        out[str(key)] = variants
    return out
