"""Build the voice path's parts from config.yml: speech-to-text biased by the household, Piper, the
endpointer, the wake word, the microphone or files, and the speaker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..app import App
from ..audio.capture import Microphone
from ..audio.offline import NullSpeaker, WavSpeaker
from ..audio.playback import Speaker, SpeakerLike
from ..audio.source import FileSource
from ..dialogue import Conversation
from ..speech import SpeechToText
from ..stt import build_stt, household_vocabulary
from ..tts import PiperTTS
from ..vad import Endpointer, SileroVAD
from ..wake import WakeSetup, build_wake
from .respond import Responder, VoiceTurn

log = logging.getLogger(__name__)

#: Turn events after which the household's words may have changed.
_HISTORY_EVENTS = frozenset({"order_placed", "order_confirmed", "order_cancelled"})


@dataclass
class VoiceParts:
    """Everything `assistant listen` runs on, for one conversation."""

    app: App
    """The text path (database, skills, NLU)."""
    conversation: Conversation
    """The conversation spoken to."""
    stt: SpeechToText
    """Speech-to-text, biased toward the household's words."""
    tts: PiperTTS
    """Piper, voices kept loaded."""
    speaker: SpeakerLike
    """Where replies are played (or written)."""
    wake: WakeSetup
    """Wake word, wake phrase and push-to-talk triggers."""
    responder: Responder = field(init=False)
    """Utterance → reply."""
    pinning: asyncio.Task[None] | None = None
    """Pinning the replies' fixed first words (`pin_openings`), in the background after start-up."""

    def __post_init__(self) -> None:
        self.responder = Responder(self.conversation, self.stt, self.tts, self.speaker)

    @property
    def lang(self) -> str:
        return self.conversation.lang

    def endpointer(self) -> Endpointer:
        listen = self.app.config.listen
        return Endpointer(
            SileroVAD(),
            threshold=listen.speech_threshold,
            trailing_silence_ms=listen.trailing_silence_ms,
            max_utterance_s=listen.max_utterance_s,
            no_speech_timeout_s=listen.no_speech_timeout_s,
        )

    def microphone(self, device: str | None = None) -> Microphone:
        audio = self.app.config.audio
        return Microphone(device if device is not None else audio.input_device, block_ms=audio.block_ms)

    def file_source(self, path: Path, realtime: bool = False) -> FileSource:
        return FileSource.from_wav(path, block_ms=self.app.config.audio.block_ms, realtime=realtime)

    def refresh_vocabulary(self, turn: VoiceTurn | None = None) -> None:
        """Bias speech-to-text toward the household's words again when an order may have changed them."""
        if turn is not None and not any(e.get("type") in _HISTORY_EVENTS for e in turn.result.events):
            return
        if self.app.config.stt.bias:
            self.stt.set_vocabulary(household_vocabulary(self.app.engine, self.app.config, self.lang))

    def describe(self) -> str:
        """What wakes the assistant, for the status line."""
        ways = []
        if self.wake.detector is not None:
            ways.append(f"say “{self.wake.detector.name.replace('_', ' ')}”")
        if self.wake.phrase is not None:
            ways.append(f"say “{self.wake.phrase.phrase}”")
        if self.wake.triggers is not None:
            ways.append("press the push-to-talk button")
        return "Ready: " + (" or ".join(ways) or "nothing can wake me (check wake: in config.yml)") + "."

    async def pin_openings(self) -> None:
        """Synthesise and pin the fixed first words of every reply template (`PiperTTS.openings`): one clip
        at a time, about 60 ms each here, so a reply waits for at most one of them."""
        sources = [self.conversation.core, *(loaded.templates for loaded in self.app.skills)]
        templates = [t for src in sources for variants in src.by_lang.get(self.lang, {}).values() for t in variants]
        started = time.perf_counter()
        openings = self.tts.openings(templates, self.lang)
        await self.tts.cache_prompts(openings, self.lang)
        log.info("pinned %d reply openings in %.1f s", len(openings), time.perf_counter() - started)

    async def close(self) -> None:
        if self.pinning is not None:
            self.pinning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pinning
        await self.conversation.close()
        if self.wake.triggers is not None:
            self.wake.triggers.close()
        closer = getattr(self.speaker, "close", None)
        if closer is not None:
            closer()


async def build_voice(app: App, lang: str, args: argparse.Namespace, progress: Callable[[str], None]) -> VoiceParts:
    """Load and warm every engine (in parallel), so the first utterance is answered at full speed."""
    started = time.perf_counter()
    config = app.config
    stt = build_stt(config)
    tts = PiperTTS.from_config(config)
    if args.from_file:
        speaker: SpeakerLike = WavSpeaker(args.reply_wav) if args.reply_wav else NullSpeaker()
        wake = WakeSetup(None, None, None)
    else:
        speaker = Speaker(
            args.output if args.output is not None else config.audio.output_device,
            latency_ms=config.audio.output_latency_ms,
        )
        wake = build_wake(config.wake, lang)
    parts = VoiceParts(app, app.conversation(lang), stt, tts, speaker, wake)
    progress("Loading speech models…")
    await asyncio.gather(
        _warm(stt, lang),
        tts.warm_up((lang,)),
        asyncio.to_thread(parts.refresh_vocabulary),
        *(loaded.skill.ready(lang) for loaded in app.skills),
    )
    progress(f"Speech ready in {time.perf_counter() - started:.1f} s ({stt.name} speech-to-text, Piper voice).")
    parts.pinning = asyncio.create_task(parts.pin_openings())
    return parts


async def _warm(stt: SpeechToText, lang: str) -> None:
    warm_up = getattr(stt, "warm_up", None)
    if warm_up is not None:
        await warm_up((lang,))
