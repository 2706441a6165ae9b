"""`assistant say "text" [--lang fr] [--out FILE.wav]`: speak with the configured Piper voice."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from ..audio.devices import resolve_device, sounddevice
from ..audio.playback import Speaker
from ..config import Config
from ..errors import AudioError, SpeechError
from ..speech import SpeechClip
from .piper import PiperTTS, clips_to_wav

#: The fix named when there is no speaker to play through.
NO_DEVICE_FIX = 'write the speech to a file instead: assistant say "TEXT" --out FILE.wav'


@dataclass(frozen=True)
class SayTiming:
    """How long one `say` took."""

    load_ms: float
    """Loading the voice (0 when it was already loaded)."""
    first_audio_ms: float
    """From asking for speech to the first clip being ready."""
    total_ms: float
    """From asking for speech to the last clip being ready (and, when playing, played)."""
    audio_s: float
    """Length of the speech."""
    clips: int
    """Pieces the text was spoken in."""
    played_s: float | None = None
    """Seconds of it handed to the speaker (None when it was not played)."""

    def line(self) -> str:
        pieces = f"{self.clips} clip" + ("s" if self.clips != 1 else "")
        played = "" if self.played_s is None else f", {self.played_s:.1f} s played"
        return (
            f"first audio {self.first_audio_ms:.0f} ms, total {self.total_ms:.0f} ms "
            f"({pieces}, {self.audio_s:.1f} s of speech{played}; voice loaded in {self.load_ms:.0f} ms)"
        )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("say", help="speak text with the configured Piper voice (or write it to a WAV file)")
    p.add_argument("text", help="what to say")
    p.add_argument("--lang", help="language of the text (default: config language)")
    p.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV file instead of playing")
    p.add_argument("--speed", type=float, help="speaking rate, 0.5 to 2.0 (default: tts.speed)")
    p.set_defaults(func=say)


async def say(args: argparse.Namespace, config: Config) -> int:
    """Speak `args.text`; print the WAV path (with --out) and a timing line on stderr."""
    lang = args.lang or config.language
    speed = args.speed if args.speed is not None else config.tts.speed
    if not 0.5 <= speed <= 2.0:
        raise SpeechError(f"--speed {speed}: expected between 0.5 and 2.0")
    speaker = None if args.out is not None else _speaker(config)
    tts = PiperTTS.from_config(config)
    started = time.perf_counter()
    await tts.load(lang)
    load_ms = (time.perf_counter() - started) * 1000
    clips, timing = await speak(tts.synthesize(args.text, lang, speed=speed), speaker, load_ms)
    if args.out is not None:
        print(clips_to_wav(clips, args.out))
    print(timing.line(), file=sys.stderr)
    return 0


async def speak(
    clips: AsyncIterator[SpeechClip], speaker: Speaker | None, load_ms: float = 0.0
) -> tuple[list[SpeechClip], SayTiming]:
    """Consume the clips (played by `speaker` as they come, the way `assistant listen` plays its replies,
    when one is given) and time them."""
    started = time.perf_counter()
    first_ms = 0.0
    got: list[SpeechClip] = []

    async def timed() -> AsyncIterator[SpeechClip]:
        nonlocal first_ms
        async for clip in clips:
            if not got:
                first_ms = (time.perf_counter() - started) * 1000
            got.append(clip)
            yield clip

    played_s = None
    if speaker is None:
        async for _ in timed():
            pass
    else:
        try:
            played_s = (await speaker.play(timed())).played_s
        except AudioError as err:
            raise SpeechError(f"cannot play through the audio output ({err})", hint=NO_DEVICE_FIX) from err
    audio_s = sum(len(c.pcm) / 2 / c.rate for c in got)
    total_ms = (time.perf_counter() - started) * 1000
    return got, SayTiming(load_ms, first_ms, total_ms, audio_s, len(got), played_s)


def _speaker(config: Config) -> Speaker:
    """The configured speaker, checked before any voice loads: without one, name `--out`."""
    try:
        sd = sounddevice()
    except AudioError as err:
        raise SpeechError(f"no audio output ({err})", hint=NO_DEVICE_FIX) from err
    try:
        sd.query_devices(resolve_device(config.audio.output_device, "output"), kind="output")
    except (AudioError, ValueError, sd.PortAudioError) as err:
        raise SpeechError(f"no audio output device ({err})", hint=NO_DEVICE_FIX) from err
    return Speaker(config.audio.output_device, config.audio.output_latency_ms)
