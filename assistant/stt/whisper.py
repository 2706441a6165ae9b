"""faster-whisper speech-to-text (CTranslate2, int8 on CPU), biased with the household's words.

Biasing: the vocabulary's phrases, most important first, go into Whisper's prompt (`hotwords`, about
150 tokens at most). On robotic test voices this turned "we need more patted redog food" into "we need
more Pedigree dog food" (see docs/benchmarks.md for the counts). `initial_prompt` measured the same:
both fill the same "previous text" slot of the decoder.

Decoding: greedy fallbacks off (temperature 0), no timestamps (one segment; with timestamps a second
pass over the trailing silence sometimes added a stray "food," from the prompt), beam 5.

Confidence, from the segment's mean token log-probability `lp` and no-speech probability `ns`:
`clamp((lp - LOGPROB_FLOOR) / (LOGPROB_CEIL - LOGPROB_FLOOR)) × (1 - ns)`, averaged over segments by
length. Calibrated on clean synthetic speech (lp -0.05…-0.45, ns ≤ 0.1) against noise, mumbling and
reversed speech (lp ≤ -0.65 or ns ≥ 0.35): see `bench/stt.py`.

Whisper has no streaming: `stream()` buffers audio and transcribes on `finish()` (every decode costs
the same ~0.4 s on two cores whatever the length, because Whisper pads audio to 30 s, so partials every
second would keep the CPU busy while the user speaks).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelCorrupt, SpeechError
from ..speech import AudioChunk, Transcript, Vocabulary
from .base import check_chunk, ms_since, seconds
from .wavfile import pcm_to_float

log = logging.getLogger(__name__)

#: Mean token log-probability at or below which confidence is 0, and at or above which it is 1.
LOGPROB_FLOOR = -1.0
LOGPROB_CEIL = -0.15
#: Prompt budget in characters (faster-whisper keeps at most 223 prompt tokens; ~4 characters a token).
PROMPT_CHARS = 600
#: Shorter audio than this is not sent to the model (nothing can be said in it).
MIN_AUDIO_S = 0.1


@dataclass(frozen=True)
class SegmentScore:
    """The scores faster-whisper gives one segment."""

    text: str
    """Its words."""
    avg_logprob: float
    """Mean log-probability of its tokens."""
    no_speech_prob: float
    """Probability that the window held no speech."""


def confidence(segments: list[SegmentScore]) -> float:
    """The transcript's confidence 0..1 (see the module docstring)."""
    weighted = [(len(s.text.strip()), _score(s)) for s in segments if s.text.strip()]
    total = sum(n for n, _ in weighted)
    return sum(n * c for n, c in weighted) / total if total else 0.0


def _score(s: SegmentScore) -> float:
    scaled = (s.avg_logprob - LOGPROB_FLOOR) / (LOGPROB_CEIL - LOGPROB_FLOOR)
    return max(0.0, min(1.0, scaled)) * (1.0 - s.no_speech_prob)


def hotword_prompt(vocabulary: Vocabulary, budget: int = PROMPT_CHARS) -> str:
    """The vocabulary's phrases, most important first, comma-separated, within `budget` characters."""
    picked: list[str] = []
    used = 0
    for phrase in vocabulary.phrases:
        if used + len(phrase) + 2 > budget:
            break
        picked.append(phrase)
        used += len(phrase) + 2
    return ", ".join(picked)


class _LoadedModel:
    """One faster-whisper model folder, loaded once and shared by the languages it serves."""

    def __init__(self, path: Path, threads: int, fix: str) -> None:
        self.path, self.threads, self.fix = Path(path), threads, fix
        self.model: object | None = None
        self.lock = threading.Lock()

    def load(self) -> object:
        with self.lock:
            if self.model is None:
                from faster_whisper import WhisperModel

                started = time.perf_counter()
                try:
                    self.model = WhisperModel(
                        str(self.path),
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self.threads,
                        local_files_only=True,
                    )
                except Exception as err:  # CTranslate2 raises RuntimeError/ValueError on bad files
                    raise ModelCorrupt(f"Whisper model {self.path} cannot be loaded ({err}) (run: {self.fix})") from err
                log.info("Whisper model loaded in %.1f s from %s", time.perf_counter() - started, self.path)
            return self.model


class WhisperSTT:
    """Speech-to-text with faster-whisper; one model may serve several languages."""

    name = "whisper"

    def __init__(
        self,
        models: Mapping[str, Path],
        *,
        threads: int = 2,
        bias: bool = True,
        beam_size: int = 5,
        fixes: Mapping[str, str] | None = None,
    ) -> None:
        fixes = fixes or {}
        shared: dict[Path, _LoadedModel] = {}
        self._models: dict[str, _LoadedModel] = {}
        for lang, path in models.items():
            key = Path(path).resolve()
            if key not in shared:
                shared[key] = _LoadedModel(key, threads, fixes.get(lang, "assistant models verify"))
            self._models[lang] = shared[key]
        self._bias = bias
        self._beam_size = beam_size
        self._prompts: dict[str, tuple[str, str]] = {}  # lang → (fingerprint, prompt)

    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        current = self._prompts.get(vocabulary.lang)
        if self._bias and (current is None or current[0] != vocabulary.fingerprint):
            self._prompts[vocabulary.lang] = (vocabulary.fingerprint, hotword_prompt(vocabulary))

    def prompt(self, lang: str) -> str:
        """The hotwords sent with every utterance in `lang` (empty when not biased)."""
        return self._prompts.get(lang, ("", ""))[1]

    async def warm_up(self, langs: tuple[str, ...] | None = None) -> None:
        """Load the models now (off the event loop) and decode a second of silence, so the first
        utterance is not slowed by CTranslate2's lazy initialisation (~0.3 s measured)."""
        for lang in langs or self.languages():
            await asyncio.to_thread(self._model(lang).load)
            await asyncio.to_thread(self._decode, bytes(2 * 16_000), lang)

    def stream(self, lang: str) -> WhisperStream:
        self._model(lang)
        return WhisperStream(self, lang)

    async def transcribe(self, pcm: bytes, lang: str) -> Transcript:
        started = time.perf_counter()
        audio_s = seconds(len(pcm))
        if audio_s < MIN_AUDIO_S:
            return Transcript("", 0.0, lang, self.name, audio_s, 0.0)
        segments = await asyncio.to_thread(self._decode, pcm, lang)
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        score = round(confidence(segments), 3) if text else 0.0
        return Transcript(text, score, lang, self.name, audio_s, ms_since(started))

    def _decode(self, pcm: bytes, lang: str) -> list[SegmentScore]:
        loaded = self._model(lang)
        model = loaded.load()
        prompt = self.prompt(lang) or None
        with loaded.lock:  # one decode at a time per model: the threads are already given to CTranslate2
            try:
                segments, _info = model.transcribe(  # type: ignore[attr-defined]
                    pcm_to_float(pcm),
                    language=lang,
                    beam_size=self._beam_size,
                    temperature=0.0,
                    without_timestamps=True,
                    condition_on_previous_text=False,
                    hotwords=prompt,
                    vad_filter=False,
                )
                return [SegmentScore(s.text, s.avg_logprob, s.no_speech_prob) for s in segments]
            except (RuntimeError, ValueError) as err:
                raise SpeechError(f"Whisper failed to transcribe: {err}") from err

    def _model(self, lang: str) -> _LoadedModel:
        try:
            return self._models[lang]
        except KeyError:
            raise SpeechError(f"no Whisper model for language {lang!r} (have: {', '.join(self._models)})") from None


class WhisperStream:
    """Buffers one utterance; Whisper transcribes it whole when it ends."""

    def __init__(self, engine: WhisperSTT, lang: str) -> None:
        self._engine, self._lang = engine, lang
        self._pcm = bytearray()

    async def feed(self, chunk: AudioChunk) -> Transcript | None:
        self._pcm += check_chunk(chunk)
        return None

    async def finish(self) -> Transcript:
        pcm, self._pcm = bytes(self._pcm), bytearray()
        return await self._engine.transcribe(pcm, self._lang)
