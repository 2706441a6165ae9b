"""One spoken turn: an utterance's audio → transcript → conversation → spoken reply.

Timings follow the user's experience. `end_of_speech_to_first_audio` starts when the user stopped
speaking (the last voiced block), so it includes the trailing-silence wait of the endpointer, then
speech-to-text, NLU, the skill and synthesis of the reply's first sentence, and ends when its first
sample is handed to the speaker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..audio.playback import PlaybackResult, SpeakerLike
from ..dialogue import Conversation
from ..errors import AssistantError
from ..speech import SpeechClip, SpeechToText, TextToSpeech, Transcript
from ..turn import TurnResult
from ..vad import Utterance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceTurn:
    """A turn of `assistant listen`: the chat turn plus what was heard and how long each stage took."""

    result: TurnResult
    """The conversation's turn, as `assistant chat --json` prints it."""
    transcript: Transcript
    """What speech-to-text heard."""
    timings_ms: dict[str, float]
    """vad, stt, nlu, skill, tts_first_audio, end_of_speech_to_first_audio (and total)."""
    playback: PlaybackResult | None = None
    """How the reply was played (None when nothing was said)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Loop details: how the turn was started (wake word, key, follow-up, file), barge-in."""

    def as_json(self) -> dict[str, Any]:
        out = self.result.as_json()
        out["transcript"] = {
            "text": self.transcript.text,
            "confidence": round(self.transcript.confidence, 3),
            "engine": self.transcript.engine,
            "audio_s": round(self.transcript.audio_s, 3),
            "words": [[w.text, w.probability] for w in self.transcript.words],
            "alternatives": list(self.transcript.alternatives),
        }
        out["timings_ms"] = {**out["timings_ms"], **{k: round(v, 1) for k, v in self.timings_ms.items()}}
        if self.playback is not None:
            out["interrupted"] = self.playback.interrupted
        out.update(self.extra)
        return out


class Responder:
    """Turns utterances into spoken replies for one conversation."""

    def __init__(
        self,
        conversation: Conversation,
        stt: SpeechToText,
        tts: TextToSpeech,
        speaker: SpeakerLike,
        *,
        on_error: Callable[[AssistantError], None] | None = None,
    ) -> None:
        self.conversation = conversation
        self.stt = stt
        self.tts = tts
        self.speaker = speaker
        self.on_error = on_error
        self._hushed = False

    def hush(self) -> None:
        """Stop speaking now, or, if the reply is still being prepared, do not start it."""
        self._hushed = True
        self.speaker.stop()

    @property
    def lang(self) -> str:
        return self.conversation.lang

    async def transcribe(self, utterance: Utterance) -> Transcript:
        """The utterance's words; an engine failure is logged and counts as nothing heard."""
        try:
            return await self.stt.transcribe(utterance.pcm, self.lang)
        except AssistantError as err:
            log.error("speech-to-text failed: %s", err)
            if self.on_error:
                self.on_error(err)
            return Transcript("", 0.0, self.lang, getattr(self.stt, "name", "stt"), 0.0, 0.0)

    async def respond(
        self, utterance: Utterance, transcript: Transcript, *, decided_at: float, vad_ms: float = 0.0
    ) -> VoiceTurn:
        """Act on what was heard and speak the reply; `decided_at` is the perf_counter() reading taken when
        the endpointer decided the utterance had ended."""
        self._hushed = False
        result = await self.conversation.handle(
            transcript.text, heard=transcript.confidence, words=transcript.words, alternatives=transcript.alternatives
        )
        tts_started = time.perf_counter()
        first_clip: list[float] = []
        playback = await self.say(result.reply, first_clip)
        trailing_ms = max(0.0, utterance.end_s - utterance.speech_end_s) * 1000
        timings = {
            "vad": vad_ms,
            "stt": transcript.elapsed_ms,
            "tts_first_audio": (first_clip[0] - tts_started) * 1000 if first_clip else 0.0,
        }
        if playback.first_audio_s is not None:
            timings["end_of_speech_to_first_audio"] = trailing_ms + (playback.first_audio_s - decided_at) * 1000
        return VoiceTurn(result, transcript, timings, playback)

    async def say(self, text: str, first_clip: list[float] | None = None) -> PlaybackResult:
        """Speak `text` sentence by sentence; a synthesis failure is logged and the text is not spoken."""
        if self._hushed:  # told to stop before the reply was ready
            self._hushed = False
            return PlaybackResult(interrupted=True, played_s=0.0, first_audio_s=None)
        clips = self._clips(text, first_clip if first_clip is not None else [])
        try:
            return await self.speaker.play(clips)
        except AssistantError as err:
            log.error("text-to-speech failed: %s", err)
            if self.on_error:
                self.on_error(err)
            return PlaybackResult(interrupted=False, played_s=0.0, first_audio_s=None)

    async def _clips(self, text: str, first: list[float]) -> AsyncIterator[SpeechClip]:
        async for clip in self.tts.synthesize(text, self.lang):
            if not first:
                first.append(time.perf_counter())
            yield clip
