"""pytest plugin (loaded by conftest.py): the real NLU service for the project's config.

`nlu_client` trains the models if their data changed, attaches to the running worker or starts one
(the same models/nlu/run/service.json that `python -m assistant chat` subprocesses attach to), and
stops the worker at the end of the session only if the session started it. Tests that use it are
marked slow automatically. Imports happen inside the fixtures, so collecting tests that do not use
the NLU never depends on it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from assistant.config import Config
    from assistant.nlu.client import NLUClient

SLOW_FIXTURES = {"nlu_client", "nlu_config"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _running_pid(config: Config) -> int | None:
    from assistant.nlu.runstate import RunPaths, read_state, worker_alive

    state = read_state(RunPaths.of(config))
    return state.pid if state is not None and worker_alive(state.pid) else None


def _progress(message: str) -> None:
    print(f"[nlu] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="session")
def nlu_config() -> Config:
    """The project's own config.yml (its models folder, port and languages)."""
    from assistant.config import PROJECT_ROOT, load_config

    return load_config(PROJECT_ROOT / "config.yml")


@pytest.fixture(scope="session")
def nlu_client(nlu_config: Config) -> Iterator[NLUClient]:
    """A client of the real NLU service, trained and started if needed, shared by the whole session."""
    from assistant.loader import nlu_sources
    from assistant.nlu.service import connect, stop

    before = _running_pid(nlu_config)

    async def attach() -> NLUClient:
        client = await connect(nlu_config, nlu_sources(nlu_config), _progress)
        await client.aclose()  # this event loop ends here; each test's loop opens its own connections
        return client

    client = asyncio.run(attach())
    yield client
    now = _running_pid(nlu_config)
    if now is not None and now != before:  # this session started it (or restarted it after a test killed it)
        stop(nlu_config)
