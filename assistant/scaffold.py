"""`assistant skill new NAME`: a working skill folder from `assistant/skill_template/`, enabled in config.yml.

The template's files end in `.tmpl` (so the linters and pytest leave them alone) and are filled with
`string.Template`: `$name` (the identifier), `$title` (it in words), `$Title`, `$Class`, `$tests_path`.
"""

from __future__ import annotations

import argparse
import keyword
import logging
import os
import re
import shutil
import string
import tempfile
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from .config import SUPPORTED_LANGUAGES, Config, default_config_path
from .errors import SkillError
from .loader import CORE_SKILL, ENTRY_POINT_GROUP

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).parent / "skill_template"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names a skill may not take: the framework's own intents, and packages a skill folder would shadow.
RESERVED = {CORE_SKILL, "assistant", "skills", "tests", "test", "assistant_skills"}


@dataclass(frozen=True)
class Created:
    """What `new_skill` made."""

    folder: Path
    """The new skill folder."""
    files: tuple[Path, ...]
    """Every file written, relative to `folder`."""
    enabled: str | None
    """What changed in config.yml, or None when it was left alone."""
    config_line: str
    """The `skills:` lines config.yml needs for this skill (to add by hand with --no-enable)."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("skill", help="create skills (see docs/writing-skills.md)")
    sub = p.add_subparsers(dest="skill_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="create a working skill folder: handlers, NLU examples, replies, a test")
    new.add_argument("name", help="skill name: lower case letters, digits and _, e.g. weather or pet_food")
    new.add_argument("--dir", help="folder to create it in (default: the first of config.yml's skills.paths)")
    new.add_argument(
        "--lang",
        action="append",
        choices=list(SUPPORTED_LANGUAGES),
        help="a language to write examples for; repeat it (default: config.yml's languages)",
    )
    new.add_argument(
        "--no-enable",
        action="store_true",
        help="leave config.yml alone (by default the skill is added to skills.enabled, comments kept)",
    )
    new.set_defaults(func=run_new)


def run_new(args: argparse.Namespace, config: Config) -> int:
    config_path = Path(args.config) if args.config else default_config_path()
    created = new_skill(
        args.name,
        config,
        config_path,
        folder=Path(args.dir) if args.dir else None,
        langs=args.lang or list(config.languages),
        enable=not args.no_enable,
    )
    print(f"Created {created.folder}/")
    for path in created.files:
        print(f"  {path}")
    if created.enabled:
        print(f"Enabled it in {config_path}: {created.enabled}")
    else:
        print(f"Not enabled: add this to {config_path} to load it:\n{created.config_line}")
    tests = created.folder / "tests" / f"test_{args.name}.py"
    chat = f"assistant --config {args.config} chat" if args.config else "assistant chat"
    print(
        "Next:\n"
        f"  {chat}   then say: hello {_title(args.name)}\n"
        f"  .venv/bin/pytest {_display(tests)}\n"
        "  edit, then /reload in the chat (docs/writing-skills.md walks through it)"
    )
    return 0


def new_skill(
    name: str, config: Config, config_path: Path, *, folder: Path | None, langs: list[str], enable: bool
) -> Created:
    """Write the skill `name` under `folder` (default: the first skills path) and enable it if asked."""
    base = (folder or config.resolve(config.skills.paths[0])).expanduser().resolve()
    check_name(name, config, base)
    missing = [lang for lang in config.languages if lang not in langs]
    if enable and missing:
        raise SkillError(
            f"--lang {' --lang '.join(langs)}: config.yml also serves {', '.join(missing)}, and an enabled skill "
            "needs examples in each of its languages",
            hint=f"add --lang {' --lang '.join(missing)}, or use --no-enable",
        )
    target = base / name
    values = _values(name, target)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=base))
    try:
        files = _render(staging, values, langs)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    path_entry = _path_entry(config, base)
    line = _config_snippet(config, name, path_entry)
    changed = None
    if enable:
        from .config_edit import enable_skill

        changed = enable_skill(config_path, config, name, path_entry)
    return Created(target, files, changed, line)


def check_name(name: str, config: Config, base: Path) -> None:
    """Refuse a name that is not a lower-case identifier, or that another skill already has."""
    if not NAME.match(name) or keyword.iskeyword(name):
        hint = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "weather"
        if hint[0].isdigit():
            hint = f"skill_{hint}"
        raise SkillError(
            f"skill name {name!r} must be a lower-case Python identifier (letters, digits, _; not a keyword)",
            hint=f"try `assistant skill new {hint}`",
        )
    if name in RESERVED:
        raise SkillError(f"skill name {name!r} is reserved by the framework", hint="choose another name")
    if (base / name).exists():
        raise SkillError(f"{base / name} already exists", hint="choose another name, or remove that folder first")
    for entry in config.skills.paths:
        other = config.resolve(entry) / name
        if (other / "__init__.py").exists():
            raise SkillError(f"a skill named {name!r} already exists in {other}", hint="choose another name")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            raise SkillError(
                f"skill name {name!r} is taken by the installed package skill {ep.value} "
                f"(entry point group {ENTRY_POINT_GROUP})",
                hint="choose another name",
            )


def _title(name: str) -> str:
    return name.replace("_", " ")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _values(name: str, target: Path) -> dict[str, str]:
    title = _title(name)
    return {
        "name": name,
        "title": title,
        "Title": title[:1].upper() + title[1:],
        "Class": "".join(part.capitalize() for part in name.split("_") if part) + "Skill",
        "tests_path": _display(target / "tests"),
    }


def _render(out: Path, values: dict[str, str], langs: list[str]) -> tuple[Path, ...]:
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE)
        if relative.parts[0] == "locales" and relative.parts[1] not in langs:
            continue
        name = relative.name.removesuffix(".tmpl")
        if name == "test_skill.py":
            name = f"test_{values['name']}.py"
        dest = out / relative.parent / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(string.Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(dest.relative_to(out))
    os.chmod(out, 0o755)  # mkdtemp makes it 0700
    return tuple(written)


def _path_entry(config: Config, base: Path) -> str | None:
    """The `skills.paths` entry to add for `base`, or None when it is already listed."""
    if any(config.resolve(p).resolve() == base for p in config.skills.paths):
        return None
    root = Path(config.base_dir).resolve() if config.base_dir else None
    if root is not None and base.is_relative_to(root):
        return str(base.relative_to(root))
    return str(base)


def _config_snippet(config: Config, name: str, path_entry: str | None) -> str:
    enabled = [*config.skills.enabled, name]
    lines = ["skills:"]
    if path_entry:
        lines.append(f"  paths: [{', '.join([*config.skills.paths, path_entry])}]")
    lines.append(f"  enabled: [{', '.join(enabled)}]")
    return "\n".join(lines)
