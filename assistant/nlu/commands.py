"""`assistant nlu train | serve | status | stop | parse | test | eval`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..config import SUPPORTED_LANGUAGES, Config
from ..errors import NLUError
from .data import NLUSource
from .evaluate import evaluate, format_report, load_dataset, report_json, snips_slot_f1, strip_prefixes
from .heldout import held_out, parse_all
from .models import plan_models, train_models
from .runstate import RunPaths, ensure_token, read_state, run_lock, worker_alive
from .service import Supervisor, connect, status, stop
from .types import ParseResult
from .waiting import wait_ready

Sources = Callable[[Config], list[NLUSource]]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(subparsers: argparse._SubParsersAction, sources: Sources) -> None:  # type: ignore[type-arg]
    nlu = subparsers.add_parser("nlu", help="the NLU service: train, serve, status, stop, parse, test, eval")
    sub = nlu.add_subparsers(dest="nlu_command", metavar="COMMAND", required=True)
    p = sub.add_parser("train", help="train the models whose data or pipeline changed (cached by fingerprint)")
    p.add_argument("--lang", choices=SUPPORTED_LANGUAGES, action="append", help="only this language (repeatable)")
    p.add_argument("--force", action="store_true", help="retrain even if a cached model matches")
    p.set_defaults(func=lambda a, c: run_train(a, c, sources(c)), is_async=True)
    p = sub.add_parser("serve", help="run the NLU service in the foreground (e.g. on a household hub)")
    p.add_argument("--host", help="address to listen on (default: nlu.host; 0.0.0.0 serves the network)")
    p.add_argument("--port", type=int, help="port (default: nlu.port)")
    p.set_defaults(func=lambda a, c: run_serve(a, c, sources(c)), is_async=True)
    p = sub.add_parser("status", help="is the service up, which models it serves, which are trained")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=lambda a, c: run_status(a, c, sources(c)), is_async=True)
    p = sub.add_parser("stop", help="stop the local NLU service")
    p.set_defaults(func=run_stop, is_async=False)
    p = sub.add_parser("parse", help="parse one sentence and show intent, confidence and entities")
    p.add_argument("text", help="the sentence, quoted")
    p.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="language (default: config.yml's language)")
    p.add_argument("--json", action="store_true", help="print the parse as JSON")
    p.set_defaults(func=lambda a, c: run_parse(a, c, sources(c)), is_async=True)
    p = sub.add_parser("test", help="per-intent precision/recall/F1, entity F1, confusions on held-out examples")
    p.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="language (default: config.yml's language)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for skills without nlu_test.yml")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=lambda a, c: run_test(a, c, sources(c)), is_async=True)
    p = sub.add_parser("eval", help="evaluate the served model on an external data set (Rasa nlu.yml or Snips JSON)")
    p.add_argument("--data", required=True, help="folder of Rasa .yml files or Snips benchmark .json files")
    p.add_argument("--pattern", default="*", help="only files matching this glob (e.g. 'validate_*.json')")
    p.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="language (default: config.yml's language)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=lambda a, c: run_eval(a, c, sources(c)), is_async=True)


async def run_train(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    langs = args.lang or config.languages
    async with run_lock(RunPaths.of(config), progress):
        plans = plan_models(config, sources, langs)
        manifests = await train_models(config, plans, progress, force=args.force)
    fresh = {m.lang for m in manifests}
    for plan in plans:
        verb = "trained" if plan.lang in fresh else "up to date"
        print(
            f"{plan.lang}: {verb} · {plan.data.examples} examples, {len(plan.data.intents)} intents · "
            f"pipeline {plan.pipeline} · {plan.folder}"
        )
    return 0


async def run_serve(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    if config.nlu.url:
        raise NLUError(
            f"nlu.url is set ({config.nlu.url}): this machine uses that service",
            hint="set nlu.url: null in config.yml to serve from here",
        )
    paths = RunPaths.of(config)
    supervisor = Supervisor(config, sources, progress)
    async with run_lock(paths, progress):
        running = read_state(paths)
        if running is not None and worker_alive(running.pid):
            raise NLUError(
                f"an NLU service is already running (pid {running.pid}, {running.url})",
                hint="stop it first with `assistant nlu stop`",
            )
        plans = plan_models(config, sources)
        await train_models(config, plans, progress)
        state = supervisor.start(plans, ensure_token(paths), host=args.host, port=args.port, foreground=True)
    from .client import Endpoint, NLUClient

    client = NLUClient(Endpoint(state.url, ensure_token(paths)), timeout_s=config.nlu.request_timeout_s)
    assert supervisor.proc is not None
    proc = supervisor.proc
    try:
        health = await wait_ready(
            client,
            progress,
            config.nlu.start_timeout_s,
            pid=state.pid,
            alive=lambda: proc.poll() is None,
            log_file=paths.log,
        )
        await client.aclose()
        print(
            f"NLU service ready on http://{state.host}:{state.port} (languages {', '.join(health.languages)}; "
            f"pid {state.pid}; log {paths.log}).",
            flush=True,
        )
        print(
            f"Token: {paths.token}. Other machines set nlu.url: http://<this machine>:{state.port} and "
            f"ASSISTANT_NLU_TOKEN to that token. Ctrl-C stops the service.",
            flush=True,
        )
        return await asyncio.to_thread(proc.wait)
    finally:
        if proc.poll() is None:
            proc.terminate()
            await asyncio.to_thread(proc.wait)


async def run_status(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    found = await status(config, sources)
    h = found.health
    if args.json:
        print(
            json.dumps(
                {
                    "url": found.url,
                    "remote": found.remote,
                    "status": h.status if h else "stopped",
                    "pid": h.pid if h else None,
                    "languages": h.languages if h else {},
                    "rss_mb": h.rss_mb if h else None,
                    "uptime_s": h.uptime_s if h else None,
                    "log": found.log,
                    "models": {
                        p.lang: {"fingerprint": p.fingerprint, "trained": p.trained, "folder": str(p.folder)}
                        for p in found.plans
                    },
                },
                ensure_ascii=False,
            )
        )
        return 0
    where = "nlu.url" if found.remote else "local worker"
    if h is None:
        print(f"NLU service: stopped ({where} {found.url})")
    else:
        memory = f", {h.rss_mb:.0f} MB" if h.rss_mb else ""
        print(f"NLU service: {h.status} ({where} {found.url}, pid {h.pid}, up {h.uptime_s:.0f} s{memory})")
        if h.error:
            print(f"  error: {h.error}")
    for plan in found.plans:
        served = h.languages.get(plan.lang) if h else None
        state = "trained" if plan.trained else "not trained (next start trains it)"
        note = "" if h is None else " · served" if served == plan.fingerprint else " · NOT served (restart needed)"
        print(f"  {plan.lang}: model {plan.fingerprint} {state}{note}")
    if found.log:
        print(f"  log: {found.log}")
    return 0


def run_stop(args: argparse.Namespace, config: Config) -> int:
    if config.nlu.url:
        raise NLUError(f"nlu.url is set ({config.nlu.url}): stop that service on the machine serving it")
    print("NLU service stopped." if stop(config) else "No NLU service was running.")
    return 0


async def run_parse(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    lang = args.lang or config.language
    if lang not in config.languages:
        raise NLUError(f"language {lang!r} is not in config.yml's languages {config.languages}")
    client = await connect(config, sources, progress)
    try:
        result = await client.parse(args.text, lang)
    finally:
        await client.aclose()
    print(json.dumps(as_json(result), ensure_ascii=False) if args.json else describe(result))
    return 0


def _lang(args: argparse.Namespace, config: Config) -> str:
    lang = args.lang or config.language
    if lang not in config.languages:
        raise NLUError(f"language {lang!r} is not in config.yml's languages {config.languages}")
    return str(lang)


async def run_test(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    lang = _lang(args, config)
    pairs = await held_out(config, sources, lang, args.folds, progress)
    report = evaluate(pairs)
    if args.json:
        print(json.dumps({"lang": lang, **report_json(report)}, ensure_ascii=False))
    else:
        print(format_report(report, f"NLU test ({lang}, pipeline {config.nlu.pipeline}, held-out)"))
    return 0


async def run_eval(args: argparse.Namespace, config: Config, sources: list[NLUSource]) -> int:
    lang = _lang(args, config)
    examples = load_dataset(Path(args.data).expanduser(), args.pattern)
    progress(f"Evaluating {len(examples)} examples from {args.data}…")
    client = await connect(config, sources, progress)
    try:
        predictions = await parse_all(client, [e.text for e in examples], lang, progress)
    finally:
        await client.aclose()
    pairs = list(zip(examples, strip_prefixes(examples, predictions), strict=True))
    report = evaluate(pairs)
    slot_f1, _ = snips_slot_f1(pairs)
    if args.json:
        print(json.dumps({"lang": lang, **report_json(report), "slot_f1_snips": slot_f1}, ensure_ascii=False))
    else:
        print(format_report(report, f"NLU eval ({lang}, {args.data})"))
        print(f"slot F1 (Snips benchmark method): {slot_f1:.3f}")
    return 0


def as_json(result: ParseResult) -> dict[str, object]:
    intent = result.intent
    return {
        "text": result.text,
        "lang": result.lang,
        "intent": {"name": intent.name, "confidence": round(intent.confidence, 4)} if intent else None,
        "entities": [e.as_json() for e in result.entities],
        "ranking": [{"name": r.name, "confidence": round(r.confidence, 4)} for r in result.ranking],
    }


def describe(result: ParseResult) -> str:
    intent = f"{result.intent.name} ({result.intent.confidence:.2f})" if result.intent else "none"
    entities = ", ".join(f"{e.entity}={e.value!r} [{e.start}:{e.end}]" for e in result.entities) or "none"
    others = ", ".join(f"{r.name} {r.confidence:.2f}" for r in result.ranking[:3]) or "none"
    return f"intent: {intent}\nentities: {entities}\nother intents: {others}"
