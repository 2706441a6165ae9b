"""Helpers the speech-to-text adapters share."""

from __future__ import annotations

import time

from ..errors import SpeechError
from ..speech import SAMPLE_RATE, SAMPLE_WIDTH, AudioChunk, HeardWord


def check_chunk(chunk: AudioChunk) -> bytes:
    """The chunk's PCM, refusing the wrong rate (the recognisers run at the pipeline's 16 kHz)."""
    if chunk.rate != SAMPLE_RATE:
        raise SpeechError(f"speech-to-text expects {SAMPLE_RATE} Hz audio, got {chunk.rate} Hz")
    pcm = chunk.pcm
    return pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]


def seconds(pcm_bytes: int) -> float:
    """Duration of that many bytes of pipeline audio."""
    return pcm_bytes / SAMPLE_WIDTH / SAMPLE_RATE


def ms_since(start: float) -> float:
    """Milliseconds elapsed since a `time.perf_counter()` reading."""
    return (time.perf_counter() - start) * 1000.0


def locate_words(text: str, words: list[tuple[str, float]]) -> tuple[HeardWord, ...]:
    """The engine's (word, probability) pairs placed in `text`, which is made of them in order; a word
    that cannot be found there (the engine rewrote it) is skipped."""
    placed: list[HeardWord] = []
    at = 0
    for word, probability in words:
        token = word.strip()
        start = text.find(token, at) if token else -1
        if start < 0:
            continue
        at = start + len(token)
        placed.append(HeardWord(token, start, at, round(float(probability), 3)))
    return tuple(placed)
