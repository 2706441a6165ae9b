"""Product-match benchmark: full user utterances against the demo households' histories.

Each case in bench/data/match_<lang>.yml is an utterance as spoken or typed, a category, and the
expected outcome: `sku: X` (that product is proposed), `ambiguous: [X, Y]` (exactly those are
offered), or `none: true` (nothing is proposed: the household never bought it). The product mention
is taken from the utterance by `parse` (text, lang → query) when given, else by the shopping skill's
command-word fallback (`product_query` on a parse with no entities).

    uv run --frozen python bench/match.py [--json] [--verbose]

`false_matches` counts proposals of a product that was not the one expected: any match or option on
a `none` case, and a match of the wrong product. Asking when a single product was expected is a
miss, not a false match: the user is asked, nothing is ordered.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.nlu.types import ParseResult  # noqa: E402
from skills.shopping.matching import Candidate, MatchResult, ProductMatcher  # noqa: E402
from skills.shopping.query import product_query  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
DEMO = ROOT / "data" / "demo"
LANGS = ("en", "fr")
Parse = Callable[[str, str], str]


def load_history(path: Path) -> list[Candidate]:
    """One Candidate per SKU of an order-history CSV: latest name, number of orders, last order date (UTC)."""
    orders: dict[str, set[str]] = {}
    latest: dict[str, tuple[str, str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            sku = row["sku"]
            orders.setdefault(sku, set()).add(row["order_id"])
            if sku not in latest or row["order_date"] >= latest[sku][0]:
                latest[sku] = (row["order_date"], row["product_name"], row["brand"])
    return [
        Candidate(sku, name, brand, len(orders[sku]), datetime.fromisoformat(day).replace(tzinfo=UTC))
        for sku, (day, name, brand) in latest.items()
    ]


def scaled_history(n: int) -> list[Candidate]:
    """`n` products for latency measurements: the demo shop's catalogue, then variants of its names."""
    with (DEMO / "catalogue.csv").open(encoding="utf-8", newline="") as f:
        base = list(csv.DictReader(f))
    variants = ("family size", "organic", "light", "value pack")
    when = datetime(2026, 11, 1, tzinfo=UTC)
    products = []
    for k in range(n):
        row, round_ = base[k % len(base)], k // len(base)
        name = row["name"] if round_ == 0 else f"{row['name']} {variants[(round_ - 1) % len(variants)]}"
        bought = when - timedelta(days=k % 90)
        products.append(Candidate(f"{row['sku']}~{round_}", name, row["brand"], 1 + k % 7, bought))
    return products


def _data(lang: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / f"match_{lang}.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def load_cases(lang: str) -> list[dict[str, Any]]:
    """The benchmark cases of one language."""
    return _data(lang)["cases"]  # type: ignore[no-any-return]


def never_bought(lang: str) -> list[str]:
    """Single product words the household of `lang` never bought: each must find nothing."""
    return str(_data(lang)["never_bought"]).split()


def fallback_query(text: str, lang: str) -> str:
    """The skill's own fallback: the utterance without its command words."""
    return product_query(ParseResult(text=text, lang=lang, intent=None), lang)


def outcome(result: MatchResult) -> dict[str, Any]:
    """A result in the benchmark's terms."""
    skus = [s.candidate.sku for s in result.best]
    if result.status == "match":
        return {"sku": skus[0]}
    if result.status == "ambiguous":
        return {"ambiguous": sorted(skus)}
    return {"none": True}


def judge(expected: dict[str, Any], got: dict[str, Any]) -> tuple[bool, bool]:
    """(correct, false match) for one case."""
    if "ambiguous" in expected:
        options = sorted(expected["ambiguous"])
        return options == got.get("ambiguous"), "sku" in got and got["sku"] not in options
    if "sku" in expected:
        return got.get("sku") == expected["sku"], "sku" in got and got["sku"] != expected["sku"]
    return "none" in got, "none" not in got


def run_language(lang: str, parse: Parse | None = None) -> dict[str, Any]:
    """Score every case of one language; returns totals, per-category results and the misses."""
    matcher = ProductMatcher(load_history(DEMO / f"history_{lang}.csv"), lang)
    extract = parse or fallback_query
    matcher.match(extract("warm up", lang))  # the first spaCy call pays one-off costs
    rows = []
    for case in load_cases(lang):
        expected: dict[str, Any] = {k: case[k] for k in ("sku", "ambiguous", "none") if k in case}
        started = time.perf_counter()
        result = matcher.match(extract(case["say"], lang))
        ms = (time.perf_counter() - started) * 1000
        got = outcome(result)
        correct, false = judge(expected, got)
        rows.append(
            {
                "say": case["say"],
                "category": case["category"],
                "expected": expected,
                "got": got,
                "query": result.query,
                "correct": correct,
                "false": false,
                "ms": ms,
            }
        )
    proposed = [w for w in never_bought(lang) if matcher.match(w).status != "none"]
    scaled = _latency(ProductMatcher(scaled_history(SCALED), lang), [extract(c["say"], lang) for c in load_cases(lang)])
    return {
        **_summary(rows),
        "categories": _by_category(rows),
        "misses": [r for r in rows if not r["correct"]],
        "scaled": scaled,
        "never_bought": {"n": len(never_bought(lang)), "false_matches": proposed},
    }


#: Products in the latency-only run (the brief: well under 10 ms per query at this size).
SCALED = 200


def _latency(matcher: ProductMatcher, queries: list[str]) -> dict[str, float]:
    matcher.match(queries[0])
    times = []
    for query in queries:
        started = time.perf_counter()
        matcher.match(query)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"products": SCALED, "mean_ms": statistics.fmean(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(r["ms"] for r in rows)
    return {
        "n": len(rows),
        "accuracy": sum(r["correct"] for r in rows) / len(rows),
        "false_matches": sum(r["false"] for r in rows),
        "mean_ms": statistics.fmean(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def _by_category(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    categories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        categories.setdefault(row["category"], []).append(row)
    return {name: _summary(group) for name, group in sorted(categories.items())}


def run(parse: Parse | None = None) -> dict[str, dict[str, Any]]:
    """Per language: n, accuracy, false_matches, mean_ms, p95_ms, categories (the same per category), misses,
    scaled (mean_ms, p95_ms of the same queries against 200 products) and never_bought (n, and the single
    never-bought words that found a product: false_matches)."""
    return {lang: run_language(lang, parse) for lang in LANGS}


def table(results: dict[str, dict[str, Any]]) -> str:
    """The results as a Markdown table, one row per language and category, then totals."""
    lines = [
        f"Product match · {time.strftime('%Y-%m-%d')} · {platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()}",
        "",
        "| lang | category | n | accuracy | false matches | mean ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for lang, result in results.items():
        groups = [*result["categories"].items(), ("**all**", result)]
        for name, r in groups:
            lines.append(
                f"| {lang} | {name} | {r['n']} | {r['accuracy']:.3f} | {r['false_matches']} | "
                f"{r['mean_ms']:.2f} | {r['p95_ms']:.2f} |"
            )
        never = result["never_bought"]
        lines.append(
            f"| {lang} | never-bought single words | {never['n']} | "
            f"{1 - len(never['false_matches']) / never['n']:.3f} | {len(never['false_matches'])} | | |"
        )
        scaled = result["scaled"]
        lines.append(
            f"| {lang} | latency with {scaled['products']} products | {result['n']} | | | "
            f"{scaled['mean_ms']:.2f} | {scaled['p95_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    args = parser.parse_args()
    results = run()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1, default=str))
        return
    print(table(results))
    if args.verbose:
        for lang, result in results.items():
            for miss in result["misses"]:
                print(
                    f"{lang} MISS [{miss['category']}] {miss['say']!r} (query {miss['query']!r}): "
                    f"expected {miss['expected']}, got {miss['got']}"
                )


if __name__ == "__main__":
    main()
