"""`assistant say "text" [--lang fr] [--out FILE.wav]`: speak with the configured Piper voice."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import SpeechError
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

    def line(self) -> str:
        pieces = f"{self.clips} clip" + ("s" if self.clips != 1 else "")
        return (
            f"first audio {self.first_audio_ms:.0f} ms, total {self.total_ms:.0f} ms "
            f"({pieces}, {self.audio_s:.1f} s of speech; voice loaded in {self.load_ms:.0f} ms)"
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
    out = None if args.out is not None else _Output(config.audio.output_device)
    tts = PiperTTS.from_config(config)
    started = time.perf_counter()
    await tts.load(lang)
    load_ms = (time.perf_counter() - started) * 1000
    clips, timing = await speak(tts.synthesize(args.text, lang, speed=speed), out, load_ms)
    if args.out is not None:
        print(clips_to_wav(clips, args.out))
    print(timing.line(), file=sys.stderr)
    return 0


async def speak(
    clips: AsyncIterator[SpeechClip], out: _Output | None, load_ms: float = 0.0
) -> tuple[list[SpeechClip], SayTiming]:
    """Consume the clips (playing each as it comes when `out` is given) and time them."""
    started = time.perf_counter()
    first_ms = 0.0
    got: list[SpeechClip] = []
    try:
        async for clip in clips:
            if not got:
                first_ms = (time.perf_counter() - started) * 1000
            got.append(clip)
            if out is not None:
                await asyncio.to_thread(out.play, clip)
    finally:
        if out is not None:
            await asyncio.to_thread(out.close)
    audio_s = sum(len(c.pcm) / 2 / c.rate for c in got)
    return got, SayTiming(load_ms, first_ms, (time.perf_counter() - started) * 1000, audio_s, len(got))


class _Output:
    """The speaker, through sounddevice (imported only when playing); checked before any voice loads."""

    def __init__(self, device: str | int | None) -> None:
        self.device = device
        self.sd = _sounddevice()
        try:
            self.sd.query_devices(device, kind="output")
        except (ValueError, self.sd.PortAudioError) as err:
            raise SpeechError(f"no audio output device ({err})", hint=NO_DEVICE_FIX) from err
        self.stream: Any = None

    def play(self, clip: SpeechClip) -> None:
        """Queue a clip (blocks until PortAudio has room for it, so the next clip is synthesised meanwhile)."""
        if self.stream is not None and self.stream.samplerate != clip.rate:
            self.close()
        try:
            if self.stream is None:
                self.stream = self.sd.RawOutputStream(
                    samplerate=clip.rate, channels=1, dtype="int16", device=self.device
                )
                self.stream.start()
            self.stream.write(clip.pcm)
        except (ValueError, self.sd.PortAudioError) as err:
            raise SpeechError(f"cannot play through the audio output ({err})", hint=NO_DEVICE_FIX) from err

    def close(self) -> None:
        """Let the queued audio finish, then release the device."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            stream.stop()
            stream.close()


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as err:  # the PortAudio system library is missing
        raise SpeechError(f"no audio output ({err})", hint=NO_DEVICE_FIX) from err
    return sounddevice
