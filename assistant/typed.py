"""Build frozen dataclasses from plain YAML/JSON data, rejecting unknown keys and wrong types with their path.

Used for config.yml and for each skill's own settings, so every error reads like
`nlu.port: expected an integer, got 'abc'`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from .errors import ConfigError

T = TypeVar("T")

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _fail(path: str, expected: str, value: Any) -> ConfigError:
    where = path or "(top level)"
    return ConfigError(f"{where}: expected {expected}, got {value!r}")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def convert(tp: Any, value: Any, path: str) -> Any:
    """Check `value` against type `tp` and convert it (dataclasses, lists, dicts, literals, optionals)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, path)
            except ConfigError as err:
                errors.append(err)
        raise errors[0] if len(errors) == 1 else _fail(path, " or ".join(_describe(o) for o in options), value)
    if origin is Literal:
        if value not in get_args(tp):
            return _raise(_fail(path, "one of " + ", ".join(repr(a) for a in get_args(tp)), value))
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise _fail(path, "a list", value)
        item_tp = get_args(tp)[0] if get_args(tp) else Any
        items = [convert(item_tp, item, _join(path, i)) for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(path, "a mapping", value)
        _, val_tp = get_args(tp) or (str, Any)
        return {str(k): convert(val_tp, v, _join(path, str(k))) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, path)
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(path, _NAMES[bool], value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, _NAMES[int], value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(path, _NAMES[float], value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(path, _NAMES[str], value)
        return value
    raise TypeError(f"unsupported config type {tp!r} at {path}")


def _raise(err: ConfigError) -> typing.NoReturn:
    raise err


def _describe(tp: Any) -> str:
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if get_origin(tp) is list:
        return "a list"
    return _NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _public(fields: dict[str, dataclasses.Field[Any]]) -> list[str]:
    return [name for name, f in fields.items() if not f.metadata.get("internal")]


def from_mapping(cls: type[T], data: Any, path: str = "") -> T:
    """Build dataclass `cls` from a mapping; missing keys take the field defaults."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _fail(path, "a mapping", data)
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        key = unknown[0]
        raise ConfigError(f"{_join(path, key)}: unknown key (expected one of: {', '.join(sorted(_public(fields)))})")
    kwargs = {}
    for name, field in fields.items():
        if name in data:
            kwargs[name] = convert(hints[name], data[name], _join(path, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{_join(path, name)}: missing required key")
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate(path)
    return obj
