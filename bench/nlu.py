"""NLU benchmark: cold start and attach time of the chat REPL, parse latency through the service,
peak memory of both processes, and product-match accuracy (matcher alone, and end to end through the
real NLU: utterance → Rasa's product slot → matcher). Prints a table; `--json` for machines.

    uv run --frozen python bench/nlu.py [--parses 200] [--skip-cold] [--verbose]

"Cold" stops the NLU worker first, so it includes starting Rasa and loading both models (training
is done before timing). "Attach" is the same command with the worker already up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import load_config  # noqa: E402
from assistant.history import import_history  # noqa: E402
from assistant.loader import nlu_sources  # noqa: E402
from assistant.nlu.client import NLUClient  # noqa: E402
from assistant.nlu.service import connect, stop  # noqa: E402
from assistant.storage.db import open_db  # noqa: E402
from bench import match  # noqa: E402
from skills.shopping.query import product_query  # noqa: E402

UTTERANCES = {
    "en": [
        "reorder the coffee",
        "order two oat milk",
        "yes",
        "never mind",
        "what did I order last",
        "where is my order",
        "get me 3 bags of dog food",
        "cancel my order",
    ],
    "fr": [
        "recommande du café",
        "commande deux laits d'avoine",
        "oui",
        "laisse tomber",
        "qu'est-ce que j'ai commandé la dernière fois",
        "où en est ma commande",
        "annule ma commande",
    ],
}


def first_reply_seconds(home: Path) -> tuple[float, int]:
    """Wall time of `assistant chat --script - --json` answering one line; and its peak RSS (KiB)."""
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "chat", "--script", "-", "--json"],
        input="what did I order last\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    elapsed = time.perf_counter() - started
    json.loads(proc.stdout.splitlines()[0])
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def worker_peak_kib(config) -> int:  # type: ignore[no-untyped-def]
    state = config.resolve(config.nlu.models_dir) / "run" / "service.json"
    pid = json.loads(state.read_text())["pid"]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def parse_latency(nlu: NLUClient, n: int) -> tuple[float, float]:
    texts = [(lang, t) for lang, ts in UTTERANCES.items() for t in ts]
    times = []
    for i in range(n):
        lang, text = texts[i % len(texts)]
        started = time.perf_counter()
        await nlu.parse(text, lang)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


async def nlu_queries(nlu: NLUClient) -> dict[tuple[str, str], str]:
    """The product query the shopping skill would match for every benchmark utterance, via the real NLU."""
    queries = {}
    for lang in match.LANGS:
        for case in match.load_cases(lang):
            parsed = await nlu.parse(case["say"], lang)
            queries[(lang, case["say"])] = product_query(parsed, lang)
    return queries


async def through_service(config, parses: int) -> tuple[float, float, dict[tuple[str, str], str]]:  # type: ignore[no-untyped-def]
    nlu = await connect(config, nlu_sources(config), lambda m: None)
    try:
        p50, p95 = await parse_latency(nlu, parses)
        return p50, p95, await nlu_queries(nlu)
    finally:
        await nlu.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parses", type=int, default=200)
    parser.add_argument("--skip-cold", action="store_true", help="do not stop a running NLU worker first")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the product-match misses")
    args = parser.parse_args()
    config = load_config()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["ASSISTANT_HOME"] = str(home)
        import_history(open_db(load_config().db_path), ROOT / "data" / "demo" / "history_en.csv")
        # Train first, so "cold" measures start-up, not training.
        asyncio.run(connect(config, nlu_sources(config), lambda m: print(m, file=sys.stderr)))
        if not args.skip_cold:
            stop(config)
            cold, _ = first_reply_seconds(home)
            rows.append(("cold start → first reply (no NLU service running)", f"{cold:.2f} s"))
        warm, chat_rss = first_reply_seconds(home)
        rows.append(("attach → first reply (NLU service running)", f"{warm:.2f} s"))
        p50, p95, queries = asyncio.run(through_service(config, args.parses))
        rows.append(
            (f"parse latency through the service, p50 / p95 ({args.parses} parses)", f"{p50:.1f} / {p95:.1f} ms")
        )
        rows.append(("peak RSS, assistant chat process", f"{chat_rss / 1024:.0f} MiB"))
        rows.append(("peak RSS, NLU worker (en + fr models)", f"{worker_peak_kib(config) / 1024:.0f} MiB"))
    results = {
        "matcher alone (command-word fallback)": match.run(),
        "end to end (Rasa product slot → matcher)": match.run(parse=lambda text, lang: queries.get((lang, text), text)),
    }
    for mode, by_lang in results.items():
        for lang, result in by_lang.items():
            rows.append((f"product match, {mode}, {lang} ({result['n']} utterances)", f"{result['accuracy']:.3f}"))
            rows.append((f"  false matches, {mode}, {lang}", str(result["false_matches"])))
    print(
        f"NLU benchmark · {time.strftime('%Y-%m-%d')} · {platform.machine()} · {os.cpu_count()} cores · "
        f"pipeline {config.nlu.pipeline}"
    )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"| {key:<{width}} | {value:>14} |")
    if args.verbose:
        for mode, by_lang in results.items():
            for lang, result in by_lang.items():
                for miss in result["misses"]:
                    print(
                        f"{mode} {lang} MISS {miss['say']!r} (query {miss['query']!r}): "
                        f"expected {miss['expected']}, got {miss['got']}"
                    )
    if args.json:
        print(json.dumps(dict(rows), ensure_ascii=False))


if __name__ == "__main__":
    main()
