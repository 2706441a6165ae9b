"""`assistant listen`: the voice assistant, on the microphone or on recorded WAV files."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..chat import print_debug
from ..config import Config
from ..errors import ConfigError

if TYPE_CHECKING:  # the engines load only when `listen` runs, not for every command
    from .loop import Status, VoiceLoop
    from .respond import VoiceTurn
    from .setup import VoiceParts

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("listen", help="run the voice assistant (microphone, or WAV files with --from-file)")
    p.add_argument("--lang", choices=["en", "fr"], help="conversation language (default: config.yml's language)")
    p.add_argument(
        "--from-file",
        action="append",
        metavar="WAV",
        type=Path,
        help="a recorded utterance instead of the microphone; repeat for the answers that follow",
    )
    p.add_argument(
        "--realtime",
        action="store_true",
        help="with --from-file: feed the audio at the speed a microphone would (timings as on a live device)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per utterance on stdout")
    p.add_argument("--reply-wav", metavar="OUT.wav", type=Path, help="write the spoken replies to this WAV file")
    p.add_argument("--debug", action="store_true", help="show transcript, intent, skill, state and timings")
    p.add_argument("--turns", type=int, metavar="N", help="stop after N answered utterances")
    p.add_argument("--input", metavar="DEVICE", help="microphone (name part or index; overrides config.yml)")
    p.add_argument("--output", metavar="DEVICE", help="speaker (name part or index; overrides config.yml)")
    p.set_defaults(func=run_listen)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_listen(args: argparse.Namespace, config: Config) -> int:
    lang = args.lang or config.language
    if lang not in config.languages:
        raise ConfigError(f"--lang {lang}: not in config.yml's languages {config.languages}")
    if args.reply_wav and not args.from_file:
        raise ConfigError("--reply-wav works with --from-file (live replies go to the speaker)")
    from ..app import build_app
    from ..stt.wavfile import read_wav
    from .loop import VoiceLoop
    from .setup import build_voice

    for path in args.from_file or ():
        read_wav(path)  # an unreadable file stops here, before any model loads

    async with AsyncExitStack() as stack:
        app = await build_app(config, progress)
        stack.push_async_callback(app.close)
        parts = await build_voice(app, lang, args, progress)
        stack.push_async_callback(parts.close)
        loop = VoiceLoop(
            parts.responder,
            parts.wake,
            parts.endpointer,
            no_speech_timeout_s=config.listen.no_speech_timeout_s,
            earcons=config.audio.earcon and not args.from_file,
            on_turn=lambda turn: _on_turn(turn, args, parts),
            on_status=(lambda s: None) if args.from_file else _status(parts),
        )
        if args.from_file:
            await _from_files(loop, parts, args.from_file, args.realtime)
        else:
            progress(parts.describe())
            await loop.run(parts.microphone(args.input), max_turns=args.turns)
    return 0


async def _from_files(loop: VoiceLoop, parts: VoiceParts, files: list[Path], realtime: bool) -> None:
    """Each file is one utterance, as if push-to-talk had been pressed before it. The replies' openings
    are pinned first: a file arrives at once, where a user speaks seconds after start-up, and its
    timings would otherwise include the pinning's share of the CPU."""
    if parts.pinning is not None:
        await parts.pinning
    for path in files:
        source = parts.file_source(path, realtime)
        turns = loop.turns
        loop.listen_now("file")
        await loop.run(source, max_turns=turns + 1)
        if loop.turns == turns:  # nothing was said in the file
            await loop.respond_to_silence()


def _on_turn(turn: VoiceTurn, args: argparse.Namespace, parts: VoiceParts) -> None:
    parts.refresh_vocabulary(turn)
    _show(turn, args)


def _show(turn: VoiceTurn, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(turn.as_json(), ensure_ascii=False), flush=True)
        return
    t = turn.transcript
    print(f"you> {t.text or '(nothing heard)'}   [{t.engine} {t.confidence:.2f}]")
    if args.debug:
        if t.words:
            print("  words: " + "  ".join(f"{w.text} {w.probability:.2f}" for w in t.words))
        if t.alternatives:  # the recogniser's other readings, which a skill may look at
            print("  also heard: " + " | ".join(t.alternatives))
        print_debug(turn.result, {**turn.result.timings_ms, **turn.timings_ms})
    print(f"assistant> {turn.result.reply}", flush=True)


def _status(parts: VoiceParts) -> Callable[[Status], None]:
    from .loop import Mode

    def show(status: Status) -> None:
        if status.mode is Mode.LISTENING:
            progress(f"… listening ({status.reason})")
        elif status.mode is Mode.IDLE and status.reason in ("done", "no_speech", "barge_in"):
            progress(parts.describe())

    return show
