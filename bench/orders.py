"""Order placement benchmark: N confirmed orders against the reference store over loopback HTTP, healthy,
slow, and behind a proxy injecting faults (500/502/503/429 with Retry-After, slow answers, hangs past
the timeout, connections reset mid-body, truncated JSON), then a restart that reconciles.

    uv run --frozen python bench/orders.py [-n 60] [--fault-rate 0.3] [--seed 1]

Each order goes as the shopping skill does it: re-quote after the yes (a changed quote asks again),
commit `confirmed`, place with the order's idempotency key (timeouts, backoff, Retry-After). The time
measured is from the yes to the outcome the user hears: "ordered", "not ordered" or "I could not
confirm it yet". Every fifth proposal is declined: it must never reach the shop.

duplicates: shop orders beyond one per confirmed proposal (or for a declined one); lost: confirmed
proposals the shop does not have after the restart; false_done: "ordered" said while the shop did not
have it. All three must be 0; the exit status is 1 otherwise. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.errors import RetailerError, RetailerUnavailable  # noqa: E402
from assistant.retailers.base import OrderItem  # noqa: E402
from assistant.retailers.retry import RetryPolicy  # noqa: E402
from tests.retailer_faults_setup import Rig, make_rig  # noqa: E402

#: The adapter's timeout for one call in this bench (production default: 10 s), so hangs cost seconds.
TIMEOUT_S = 2.0


@dataclass
class Run:
    """What one scenario measured."""

    name: str
    confirmed: int = 0
    declined: int = 0
    told: dict[str, int] = field(default_factory=lambda: {"ordered": 0, "not ordered": 0, "unconfirmed": 0})
    latencies: list[float] = field(default_factory=list)
    faults: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    lost: int = 0
    false_done: int = 0
    restart_placed: int = 0


async def one_order(rig: Rig, run: Run, sku: str, decline: bool) -> str | None:
    """Propose, then say no or yes; on yes the outcome the user hears. The order id if confirmed."""
    items = [OrderItem(sku, 1)]
    saved, rig.proxy.paths = rig.proxy.paths, ()
    quote = await rig.retailer.quote(items)  # read aloud before the yes: not what is measured
    rig.proxy.paths = saved
    order = rig.book.propose(items, quote, "en")
    if decline:
        rig.book.decline(order.id)
        run.declined += 1
        return None
    started = time.perf_counter()
    try:
        if await rig.book.quote_changed(order.id) is not None:
            rig.book.decline(order.id, "quote changed")
            return None
    except RetailerError:  # "I couldn't reach the shop to check the price, so nothing was ordered"
        rig.book.decline(order.id, "shop unreachable")
        run.told["not ordered"] += 1
        run.latencies.append(time.perf_counter() - started)
        return None
    rig.book.confirm(order.id)
    run.confirmed += 1
    try:
        placed = await rig.book.place(order.id)
        told = "ordered"
        if rig.shop_orders(placed.idempotency_key) != 1:
            run.false_done += 1
    except RetailerUnavailable:
        told = "unconfirmed"
    except RetailerError:
        told = "not ordered"
    run.latencies.append(time.perf_counter() - started)
    run.told[told] += 1
    return order.id


async def scenario(name: str, n: int, rate: float, seed: int, slow_s: float) -> Run:
    run = Run(name)
    with tempfile.TemporaryDirectory() as tmp:
        rig = await make_rig(Path(tmp), timeout_s=TIMEOUT_S, policy=RetryPolicy(), slow_s=slow_s)
        try:
            if rate:
                rig.proxy.chaos(rate, seed)
            confirmed, declined = [], []
            proposal = 0
            while run.confirmed < n:
                decline = proposal % 5 == 4
                order_id = await one_order(rig, run, rig.skus[proposal % len(rig.skus)], decline)
                proposal += 1
                (declined if decline else confirmed).append(order_id)
            rig.proxy.calm()
            run.restart_placed = len(await rig.book.reconcile())
            await audit(rig, run, [i for i in confirmed if i])
            run.faults = sum(rig.proxy.injected.values())
            run.by_kind = dict(sorted(rig.proxy.injected.items()))
        finally:
            await rig.close()
    return run


async def audit(rig: Rig, run: Run, confirmed: list[str]) -> None:
    keys = {rig.book.get(i).idempotency_key for i in confirmed}
    with_shop = {k for k in keys if k and rig.shop_orders(k)}
    run.lost = len(keys - with_shop)
    run.duplicates = rig.shop_orders() - len(with_shop)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values or [0.0])[0]


def table(runs: list[Run]) -> None:
    head = f"{'scenario':<10} {'confirmed':>9} {'faults':>6} {'ordered':>7} {'not':>4} {'unconf':>6} "
    head += f"{'restart':>7} {'dup':>4} {'lost':>4} {'false':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
    print(head)
    for r in runs:
        ms = [x * 1000 for x in r.latencies]
        print(
            f"{r.name:<10} {r.confirmed:>9} {r.faults:>6} {r.told['ordered']:>7} {r.told['not ordered']:>4} "
            f"{r.told['unconfirmed']:>6} {r.restart_placed:>7} {r.duplicates:>4} {r.lost:>4} {r.false_done:>5} "
            f"{p(ms, 50):>7.0f} {p(ms, 95):>7.0f} {max(ms or [0]):>7.0f}"
        )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=60, help="confirmed orders per scenario (default 60)")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="share of shop calls given a fault")
    parser.add_argument("--slow-ms", type=int, default=400, help="delay of every answer of the slow store")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    runs = [
        await scenario("healthy", args.n, 0, args.seed, 0),
        await scenario("slow", args.n, 0, args.seed, args.slow_ms / 1000),
        await scenario("faults", args.n, args.fault_rate, args.seed, 0),
    ]
    table(runs)
    print("faults injected: " + ", ".join(f"{kind} {count}" for kind, count in runs[-1].by_kind.items()))
    bad = runs[-1]
    for r in runs[:-1]:
        bad.duplicates, bad.lost, bad.false_done = (
            bad.duplicates + r.duplicates,
            bad.lost + r.lost,
            bad.false_done + r.false_done,
        )
    print(
        f"orders confirmed={bad.confirmed} faults={bad.faults} duplicates={bad.duplicates} lost={bad.lost} "
        f"false_done={bad.false_done}"
    )
    return 1 if bad.duplicates or bad.lost or bad.false_done else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
