"""What an adapter's harness gives the conformance suite, and how harnesses are found.

A harness module is `tests/retailer_conformance/harness_<name>.py` exporting
`async def make(tmp_path: Path) -> Harness`: the adapter ready to use against a shop it controls
(a local server that follows the shop's API), plus the levers the suite needs to move that shop.
Dropping a new module here is all it takes to run the suite on another adapter.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from assistant.retailers.base import Retailer

PREFIX = "harness_"


@dataclass
class Harness:
    """One adapter wired to a shop the suite can steer."""

    name: str
    """Adapter name (the module is harness_<name>.py; the pytest id is the same)."""
    retailer: Retailer
    """The adapter under test."""
    skus: list[str]
    """At least 3 distinct in-stock ids that can be quoted and placed."""
    advance: Callable[[timedelta], None] | None
    """Moves the shop's clock (order lifecycle); None if the shop has none."""
    set_price: Callable[[str, int], None] | None
    """Changes a product's price (minor units) in the shop; None if that is impossible."""
    close: Callable[[], Awaitable[None]]
    """Releases the adapter and stops the shop."""


MakeHarness = Callable[[Path], Awaitable[Harness]]


def harness_modules() -> dict[str, ModuleType]:
    """Every `harness_*` module of this package, by adapter name (the part after `harness_`)."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith(PREFIX):
            module = importlib.import_module(f"{__package__}.{info.name}")
            if not callable(getattr(module, "make", None)):
                raise TypeError(f"{module.__name__} must define `async def make(tmp_path: Path) -> Harness`")
            found[info.name.removeprefix(PREFIX)] = module
    return found
