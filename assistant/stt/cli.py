"""`assistant transcribe FILE.wav ...`: speech-to-text of WAV files, biased like `assistant listen`."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Literal, cast

from ..config import Config
from ..speech import SpeechToText, Transcript
from .build import build_stt
from .wavfile import read_wav

log = logging.getLogger(__name__)

EngineName = Literal["auto", "vosk", "whisper"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("transcribe", help="speech-to-text of WAV files (any rate, width, channels)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE.wav", help="WAV files to transcribe")
    p.add_argument("--lang", help="language spoken (default: config language)")
    p.add_argument("--engine", choices=("auto", "vosk", "whisper"), help="override stt.engine")
    p.add_argument("--json", action="store_true", help="one JSON object per file, with timings")
    p.add_argument("--no-bias", action="store_true", help="do not bias toward the household's words")
    p.set_defaults(func=transcribe_files)


def effective_config(config: Config, engine: str | None, no_bias: bool) -> Config:
    """`config` with the command line's engine and biasing choices."""
    stt = replace(config.stt, bias=config.stt.bias and not no_bias)
    if engine is not None:
        stt = replace(stt, engine=cast(EngineName, engine))
    return replace(config, stt=stt)


def bias_from_household(stt: SpeechToText, config: Config, lang: str) -> bool:
    """Bias `stt` toward the household's words; False (unbiased) when there is no household database."""
    if not config.stt.bias:
        return False
    if not config.db_path.exists():
        log.info("no household database at %s: transcribing unbiased", config.db_path)
        return False
    from ..storage.db import open_db
    from .vocabulary import household_vocabulary

    stt.set_vocabulary(household_vocabulary(open_db(config.db_path), config, lang))
    return True


async def transcribe_files(args: argparse.Namespace, config: Config) -> int:
    """Read every file first (a bad one fails before any model loads), then transcribe them in order."""
    config = effective_config(config, args.engine, args.no_bias)
    lang = args.lang or config.language
    audio = [(path, read_wav(path)) for path in args.files]
    stt = build_stt(config)
    biased = bias_from_household(stt, config, lang)
    warm = getattr(stt, "warm_up", None)
    if warm is not None:
        await warm((lang,))
    for path, pcm in audio:
        started = time.perf_counter()
        transcript = await stt.transcribe(pcm, lang)
        wall_ms = (time.perf_counter() - started) * 1000
        print(_render(path, transcript, wall_ms, biased, len(audio) > 1, args.json), flush=True)
    return 0


def _render(path: Path, t: Transcript, wall_ms: float, biased: bool, many: bool, as_json: bool) -> str:
    if not as_json:
        return f"{path}: {t.text}" if many else t.text
    row = {
        "file": str(path),
        "text": t.text,
        "confidence": t.confidence,
        "words": [[w.text, w.probability] for w in t.words],
        "alternatives": list(t.alternatives),
        "lang": t.lang,
        "engine": t.engine,
        "biased": biased,
        "audio_s": round(t.audio_s, 3),
        "elapsed_ms": round(wall_ms, 1),
        "rtf": round(wall_ms / 1000 / t.audio_s, 4) if t.audio_s else None,
    }
    return json.dumps(row, ensure_ascii=False)
