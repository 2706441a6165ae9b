"""The listening loop of `assistant listen`: wake → listen → transcribe → answer aloud → follow up.

It runs on the audio source's chunks, one at a time, in three modes:

- idle: waiting for the wake word (a micro-wake-word model, or the wake phrase spotted in transcripts)
  or a push-to-talk press;
- listening: the endpointer collects one utterance (or gives up after `no_speech_timeout_s`);
- speaking: the reply is synthesised and played by a task while the loop keeps reading the microphone,
  only to notice a barge-in: the wake word, a push-to-talk press, or "stop" / "arrête" alone. What the
  microphone hears then is mostly the assistant's own voice: it is never routed to the conversation,
  and the audio still queued when the reply ends (plus an echo tail) is dropped.

After a reply the loop listens again without the wake word while the conversation waits for an answer
("Shall I order it?" → "yes").
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from ..audio.earcons import earcon
from ..errors import AssistantError
from ..lang.text import words
from ..speech import AudioChunk, Transcript
from ..vad import Endpointer, NoSpeech, SpeechEnded, Utterance
from ..wake import WakeSetup
from .respond import Responder, VoiceTurn

log = logging.getLogger(__name__)

#: Audio heard this long after the reply ended is still taken for its echo and dropped.
ECHO_TAIL_S = 0.3
#: After this much silence within an utterance, what was said so far is transcribed speculatively.
SPECULATE_AFTER_S = 0.1
#: What interrupts the assistant while it speaks, per language (the whole utterance, normalised).
STOP_WORDS = {
    "en": frozenset({"stop", "stop it", "stop please", "please stop", "be quiet", "quiet", "shut up", "enough"}),
    "fr": frozenset({"arrete", "arrete toi", "arrete ca", "stop", "tais toi", "silence", "ca suffit"}),
}


class Mode(enum.StrEnum):
    """What the loop is doing."""

    IDLE = "idle"
    LISTENING = "listening"
    SPEAKING = "speaking"


class AudioSource(Protocol):
    """A microphone or a file, read as 16 kHz chunks."""

    async def __aenter__(self) -> AudioSource: ...
    async def __aexit__(self, *exc: object) -> None: ...
    def chunks(self) -> AsyncIterator[AudioChunk]: ...
    def flush(self) -> None: ...
    @property
    def now_s(self) -> float: ...


@dataclass(frozen=True)
class Status:
    """A change the user may want to see (the CLI prints these on stderr)."""

    mode: Mode
    """The loop's new mode."""
    reason: str
    """Why: wake_word, key, gpio, phrase, follow_up, file, no_speech, barge_in, done."""


def normalise(text: str) -> str:
    """Lowercase words without accents or punctuation ("Arrête !" → "arrete")."""
    return " ".join(word for word, _, _ in words(text))


class VoiceLoop:
    """Runs wake word → utterance → reply over an audio source."""

    def __init__(
        self,
        responder: Responder,
        wake: WakeSetup,
        endpointer: Callable[[], Endpointer],
        *,
        no_speech_timeout_s: float,
        earcons: bool = True,
        on_turn: Callable[[VoiceTurn], None] = lambda turn: None,
        on_status: Callable[[Status], None] = lambda status: None,
    ) -> None:
        self.responder = responder
        self.wake = wake
        self.no_speech_timeout_s = no_speech_timeout_s
        self.earcons = earcons
        self.on_turn = on_turn
        self.on_status = on_status
        self.mode = Mode.IDLE
        self.turns = 0
        self.barge_ins = 0
        self.own_voice_dropped = 0
        self._listen = endpointer()
        self._overhear = endpointer()
        self._speaking: asyncio.Task[VoiceTurn] | None = None
        self._ignore_until_s = 0.0
        self._reason = ""
        self._turn_reason = ""
        self._vad_at_start = 0.0
        self._checking_stop: asyncio.Task[None] | None = None
        self._earcon_task: asyncio.Future[None] | None = None
        self._guess: tuple[float, asyncio.Future[Transcript]] | None = None
        self.speculative_hits = 0

    # --- driving -----------------------------------------------------------
    async def run(self, source: AudioSource, *, max_turns: int | None = None) -> None:
        """Process the source until it ends (or `max_turns` turns were answered)."""
        self._ignore_until_s = 0.0  # positions are per source
        async with source:
            async for chunk in source.chunks():
                await self.feed(chunk, source)
                if max_turns is not None and self.turns >= max_turns and self._speaking is None:
                    break
            await self.finish(source)

    async def finish(self, source: AudioSource | None = None) -> None:
        """Wait for the reply being spoken, if any."""
        if self._speaking is not None:
            await self._end_speaking(source)
        if self._checking_stop is not None:
            await self._checking_stop

    async def respond_to_silence(self) -> None:
        """Answer an utterance in which nothing was heard ("Sorry, I didn't catch that")."""
        nothing = Utterance(b"", 0.0, 0.0, 0.0, "silence")
        lang = self.responder.lang
        await self._answer(nothing, Transcript("", 0.0, lang, "none", 0.0, 0.0), time.perf_counter(), 0.0)
        await self.finish()

    def listen_now(self, reason: str) -> None:
        """Start listening for a request at the next chunk (push-to-talk, a file, a follow-up)."""
        self._set_mode(Mode.LISTENING, reason)
        self._reason = reason
        self._listen.reset(no_speech_timeout_s=self.no_speech_timeout_s)
        self._vad_at_start = self._listen.vad_ms
        if self.earcons and reason not in ("file", "follow_up"):
            self._earcon_task = asyncio.ensure_future(self._earcon("listening"))

    async def feed(self, chunk: AudioChunk, source: AudioSource) -> None:
        """One block of audio."""
        if self._speaking is not None:
            if not self._speaking.done():
                self._while_speaking(chunk)
                return
            await self._end_speaking(source)
        if chunk.start_s < self._ignore_until_s:
            self.own_voice_dropped += 1
            return
        if self.mode is Mode.IDLE:
            await self._idle(chunk)
        else:
            await self._listening(chunk)

    # --- modes ---------------------------------------------------------------
    async def _idle(self, chunk: AudioChunk) -> None:
        pressed = self.wake.triggers.pressed_nowait() if self.wake.triggers else None
        if pressed:
            self.listen_now(pressed)
        elif self.wake.detector is not None and self.wake.detector.process(chunk):
            self.listen_now("wake_word")
        elif self.wake.phrase is not None:
            for event in self._listen.feed(chunk):
                if isinstance(event, SpeechEnded):
                    await self._spot_phrase(event.utterance)

    async def _spot_phrase(self, utterance: Utterance) -> None:
        assert self.wake.phrase is not None
        transcript = await self.responder.transcribe(utterance)
        rest = self.wake.phrase.match(transcript.text) if transcript.confidence > 0 else None
        if rest is None:
            return
        if rest.strip():
            self._reason = "phrase"
            await self._answer(utterance, _replace_text(transcript, rest), time.perf_counter(), 0.0)
        else:
            self.listen_now("phrase")

    async def _listening(self, chunk: AudioChunk) -> None:
        for event in self._listen.feed(chunk):
            if isinstance(event, SpeechEnded):
                decided_at = time.perf_counter()
                earcon_task = asyncio.ensure_future(self._earcon("done")) if self.earcons else None
                transcript = await self._transcript(event.utterance)
                if earcon_task is not None:
                    await earcon_task
                vad_ms = self._listen.vad_ms - self._vad_at_start
                await self._answer(event.utterance, transcript, decided_at, vad_ms)
                return
            if isinstance(event, NoSpeech):
                self._set_mode(Mode.IDLE, "no_speech")
                self._reset_wake()
                return
        self._speculate()

    def _speculate(self) -> None:
        """Once the speaker pauses, transcribe what was said so far while the endpointer waits out the
        trailing silence: if the pause turns out to be the end, the transcript is ready (or nearly) when
        the endpoint is decided; if speech resumes, it is dropped."""
        if not self._listen.in_speech or self._listen.trailing_s < SPECULATE_AFTER_S:
            return
        so_far = self._listen.speech_so_far()
        if self._guess is not None and self._guess[0] == so_far.speech_end_s:
            return
        if self._guess is not None and not self._guess[1].done():
            return  # one decode at a time; the final transcript will be computed afresh if needed
        self._guess = (so_far.speech_end_s, asyncio.ensure_future(self.responder.transcribe(so_far)))

    async def _transcript(self, utterance: Utterance) -> Transcript:
        guess, self._guess = self._guess, None
        if guess is not None and guess[0] == utterance.speech_end_s and utterance.reason == "silence":
            self.speculative_hits += 1
            return await guess[1]
        if guess is not None:
            await asyncio.wait([guess[1]])  # let a stale decode finish: the engine decodes one at a time
        return await self.responder.transcribe(utterance)

    async def _answer(self, utterance: Utterance, transcript: Transcript, decided_at: float, vad_ms: float) -> None:
        self._turn_reason = self._reason
        self._set_mode(Mode.SPEAKING, self._reason)
        self._overhear.reset(no_speech_timeout_s=None)
        self._speaking = asyncio.ensure_future(
            self.responder.respond(utterance, transcript, decided_at=decided_at, vad_ms=vad_ms)
        )

    # --- while speaking --------------------------------------------------------
    def _while_speaking(self, chunk: AudioChunk) -> None:
        if self.wake.triggers is not None and self.wake.triggers.pressed_nowait():
            self._barge_in("key")
        elif self.wake.detector is not None and self.wake.detector.process(chunk):
            self._barge_in("wake_word")
        else:
            for event in self._overhear.feed(chunk):
                if isinstance(event, SpeechEnded) and self._checking_stop is None:
                    self._checking_stop = asyncio.ensure_future(self._check_stop(event.utterance))

    async def _check_stop(self, utterance: Utterance) -> None:
        """A short utterance heard while speaking: "stop" interrupts; anything else is dropped."""
        try:
            if utterance.speech_end_s - utterance.start_s < 2.5:
                transcript = await self.responder.transcribe(utterance)
                if normalise(transcript.text) in STOP_WORDS.get(self.responder.lang, frozenset()):
                    self._barge_in("stop")
                else:
                    log.debug("heard while speaking (dropped): %r", transcript.text)
        finally:
            self._checking_stop = None

    def _barge_in(self, how: str) -> None:
        self.barge_ins += 1
        log.info("barge-in (%s): stopping the reply", how)
        self.responder.hush()
        self._reason = "barge_in" if how == "stop" else how

    async def _end_speaking(self, source: AudioSource | None) -> None:
        assert self._speaking is not None
        task, self._speaking = self._speaking, None
        try:
            turn = await task
        except AssistantError as err:
            log.error("turn failed: %s", err)
            turn = None
        if source is not None:
            source.flush()
            self._ignore_until_s = source.now_s + ECHO_TAIL_S
        self._reset_wake()
        if turn is not None:
            self.turns += 1
            turn.extra["started_by"] = self._turn_reason
            self.on_turn(turn)
        interrupted = turn is not None and turn.playback is not None and turn.playback.interrupted
        if interrupted and self._reason in ("key", "gpio", "wake_word"):
            self.listen_now(self._reason)
        elif interrupted:
            self._set_mode(Mode.IDLE, "barge_in")  # "stop": quiet until called again
        elif self.responder.conversation.pending is not None:
            self.listen_now("follow_up")
        else:
            self._set_mode(Mode.IDLE, "done")

    # --- helpers -----------------------------------------------------------------
    def _reset_wake(self) -> None:
        if self.wake.detector is not None:
            self.wake.detector.reset()
        self._listen.reset(no_speech_timeout_s=None)

    def _set_mode(self, mode: Mode, reason: str) -> None:
        self.mode = mode
        self.on_status(Status(mode, reason))

    async def _earcon(self, kind: str) -> None:
        try:
            await self.responder.speaker.play([earcon(kind)])  # type: ignore[arg-type]
        except AssistantError as err:
            log.warning("earcon not played: %s", err)


def _replace_text(transcript: Transcript, text: str) -> Transcript:
    return dataclasses.replace(transcript, text=text)
