"""Edit config.yml's `skills:` lists in place, keeping its comments and layout (used by `assistant skill new`).

Only two shapes of list are edited, the ones config.yml uses: a flow list on one line
(`enabled: [shopping]  # comment`) and a block list (`enabled:` then `- shopping` lines). Anything else
is left alone and the caller is told which line to add by hand.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .config import Config, load_config
from .errors import AssistantError, ConfigError

TOP_SKILLS = re.compile(r"^skills:\s*(#.*)?$")
TOP_LEVEL = re.compile(r"^[^\s#]")


def enable_skill(config_path: Path, config: Config, name: str, path_entry: str | None) -> str:
    """Add `name` to skills.enabled (and `path_entry` to skills.paths) in `config_path`; says what changed."""
    original = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    lines = original.splitlines()
    changes = []
    if path_entry is not None:
        lines = _add_item(lines, "paths", path_entry, list(config.skills.paths))
        changes.append(f"skills.paths += {path_entry}")
    if name not in config.skills.enabled:
        lines = _add_item(lines, "enabled", name, list(config.skills.enabled))
    changes.insert(0, f"skills.enabled: [{', '.join([*config.skills.enabled, name])}]")
    text = "\n".join(lines) + "\n"
    tmp = config_path.with_name(config_path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        check = load_config(tmp)
        if name not in check.skills.enabled:
            raise ConfigError("the edit did not take")
    except AssistantError as err:
        tmp.unlink(missing_ok=True)
        raise ConfigError(
            f"could not add {name!r} to skills.enabled in {config_path} ({err.message})",
            hint="add it by hand, or run again with --no-enable; the skill folder was created",
        ) from err
    os.replace(tmp, config_path)
    return "; ".join(changes)


def _add_item(lines: list[str], key: str, item: str, current: list[str]) -> list[str]:
    """`lines` with `item` appended to `skills.<key>`, creating the key (with `current`) or section if needed."""
    start = next((i for i, line in enumerate(lines) if TOP_SKILLS.match(line)), None)
    if start is None:
        return [*lines, "", "skills:", f"  {key}: [{', '.join([*current, item])}]"]
    end = next((i for i in range(start + 1, len(lines)) if TOP_LEVEL.match(lines[i])), len(lines))
    key_re = re.compile(rf"^(?P<indent>\s+){key}:(?P<rest>.*)$")
    for i in range(start + 1, end):
        match = key_re.match(lines[i])
        if match is None:
            continue
        flow = re.match(r"^\s*\[(?P<inner>[^\]]*)\](?P<tail>\s*(#.*)?)$", match["rest"])
        if flow:
            inner = flow["inner"].strip()
            joined = f"{inner}, {item}" if inner else item
            return [*lines[:i], f"{match['indent']}{key}: [{joined}]{flow['tail']}", *lines[i + 1 :]]
        if re.match(r"^\s*(#.*)?$", match["rest"]):
            return _add_block_item(lines, i, end, item)
        raise ConfigError(f"skills.{key} in config.yml is written in a form this command does not edit")
    indent = _child_indent(lines, start, end)
    return [*lines[: start + 1], f"{indent}{key}: [{', '.join([*current, item])}]", *lines[start + 1 :]]


def _add_block_item(lines: list[str], key_line: int, end: int, item: str) -> list[str]:
    last, dash = key_line, None
    for i in range(key_line + 1, end):
        match = re.match(r"^(\s*)-\s", lines[i])
        if match:
            last, dash = i, match[1]
        elif lines[i].strip() and not lines[i].lstrip().startswith("#"):
            break
    indent = dash if dash is not None else " " * (len(lines[key_line]) - len(lines[key_line].lstrip()) + 2)
    return [*lines[: last + 1], f"{indent}- {item}", *lines[last + 1 :]]


def _child_indent(lines: list[str], start: int, end: int) -> str:
    for i in range(start + 1, end):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    return "  "
