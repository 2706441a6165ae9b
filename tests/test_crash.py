"""A process killed between "yes" and the shop's answer loses no order and doubles none after restart.

The demo shop's simulated network latency opens the window: `request_delay_ms` holds the request before
the shop commits it, `response_delay_ms` holds the answer after it has. The assistant is a real
`assistant chat --script - --json` process, killed with SIGKILL once the order is confirmed in SQLite.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from assistant.config import PROJECT_ROOT
from assistant.nlu.client import NLUClient
from tests.household import household

DEADLINE_S = 120


def write_config(tmp_path: Path, **retailer: object) -> Path:
    """The project's config with absolute paths and the given demo-shop settings."""
    data = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    data["skills"]["paths"] = [str(PROJECT_ROOT / "skills")]
    data["nlu"]["models_dir"] = str(PROJECT_ROOT / "models" / "nlu")
    data["nlu"]["rasa_env"] = str(PROJECT_ROOT / "nlu_service")
    data["retailer"]["settings"] = {**data["retailer"]["settings"], **retailer}
    data["retailer"]["settings"]["catalogue"] = str(PROJECT_ROOT / data["retailer"]["settings"]["catalogue"])
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )


def wait_until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # table not created yet
            return []


def chat_until_killed(config: Path, home: Path, shop_has_it: bool) -> None:
    """Propose, say yes, and SIGKILL the process inside the shop call."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(config), "chat", "--script", "-", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write("reorder the coffee beans\n")
    proc.stdin.flush()
    proposal = json.loads(proc.stdout.readline())
    assert proposal["expecting"] == "confirmation", proposal
    proc.stdin.write("yes\n")
    proc.stdin.flush()
    household_db, shop_db = home / "assistant.sqlite", home / "demo_retailer.sqlite"
    wait_until(lambda: rows(household_db, "select id from 'order' where state = 'confirmed'"), "the confirmed order")
    if shop_has_it:
        wait_until(lambda: rows(shop_db, "select * from shop_order"), "the shop to record the order")
    else:
        assert not rows(shop_db, "select * from shop_order")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize(
    "shop_has_it", [False, True], ids=["killed before the shop got it", "killed before the shop answered"]
)
def test_kill_between_yes_and_the_shop(
    shop_has_it: bool, nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, "en")
    delay = {"response_delay_ms": 60_000} if shop_has_it else {"request_delay_ms": 60_000}
    chat_until_killed(write_config(tmp_path, **delay), config.home, shop_has_it)

    # Restart with a healthy shop: start-up reconciles the interrupted order.
    healthy = write_config(tmp_path)
    restart = run(healthy, "chat", "--script", "-", stdin="")
    assert restart.returncode == 0, restart.stderr
    assert "Resumed interrupted order" in restart.stderr
    listed = run(healthy, "orders", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    orders = json.loads(listed.stdout)
    assert len(orders) == 1, orders
    assert orders[0]["state"] == "placed"
    assert orders[0]["retailer_order_id"].startswith("D-")
    assert len(rows(config.home / "demo_retailer.sqlite", "select * from shop_order")) == 1

    # A second restart changes nothing: no duplicate.
    again = json.loads(run(healthy, "orders", "list", "--json").stdout)
    assert again == orders


# --- kill -9 at each step of placement, many times -------------------------------------------
#: Where the process dies: before the request leaves, while the shop holds it uncommitted, after the shop
#: committed but before it answered, and after the answer but before the household recorded it.
STEPS = ("before_send", "in_flight", "after_commit", "before_record")
ROUNDS = 3


def driver(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_driver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )


def read_until(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdout is not None
    while True:
        got = proc.stdout.readline()
        if not got:
            raise AssertionError(f"driver exited before {line!r}: {proc.stderr.read() if proc.stderr else ''}")
        if got.strip() == line:
            return


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_of_placement(step: str, tmp_path: Path) -> None:
    from assistant.retailers.demo_catalogue import load_catalogue
    from assistant.retailers.demo_shop import DemoShop
    from assistant.retailers.demo_store import ShopStore

    catalogue = load_catalogue(PROJECT_ROOT / "data" / "demo" / "catalogue.csv", "EUR")
    delays = {"in_flight": {"request_delay_ms": 800}, "after_commit": {"response_delay_ms": 60_000}}.get(step, {})
    shop = DemoShop(catalogue, ShopStore(tmp_path / "store.sqlite"), clock=_now, token="crash-token", **delays)
    url, db = shop.start(), str(tmp_path / "assistant.sqlite")
    skus = [p.sku for p in catalogue.values() if p.in_stock]
    try:
        for n in range(ROUNDS):
            proc = driver("place", step, db, url, "crash-token", skus[n], skus[-1 - n])
            read_until(proc, "at in_flight" if step in ("in_flight", "after_commit") else f"at {step}")
            if step == "after_commit":
                wait_until(lambda n=n: shop.store.count() == n + 1, "the shop to commit the order")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL
            restart = subprocess.run(
                [sys.executable, "-m", "tests.crash_driver", "reconcile", db, url, "crash-token"],
                capture_output=True,
                text=True,
                timeout=DEADLINE_S,
                cwd=PROJECT_ROOT,
                check=False,
            )
            assert restart.returncode == 0, restart.stderr
            orders = json.loads(restart.stdout)
            confirmed = [o for o in orders if any(e["state"] == "confirmed" for e in o["events"])]
            declined = [o for o in orders if o not in confirmed]
            assert len(confirmed) == n + 1 and len(declined) == n + 1, orders
            assert {o["state"] for o in confirmed} == {"placed"}, confirmed
            assert {o["state"] for o in declined} == {"cancelled"}
            wait_until(lambda n=n: shop.store.count() == n + 1, "in-flight requests to land")
            for o in confirmed:
                assert shop.store.by_key(o["key"]) is not None
            for o in declined:
                assert shop.store.by_key(o["key"]) is None
    finally:
        shop.close()


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
