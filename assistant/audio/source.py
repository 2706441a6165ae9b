"""Recorded audio read like a microphone (`assistant listen --from-file`, tests).

Silence is added before and after the recording: the endpointer needs a little audio before speech
(its pre-roll) and enough after it to decide that the speaker stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from ..speech import SAMPLE_RATE, SAMPLE_WIDTH, AudioChunk
from ..stt.wavfile import read_wav

log = logging.getLogger(__name__)


class FileSource:
    """16 kHz int16 mono PCM served in capture-sized blocks, as fast as it is read or in real time."""

    def __init__(
        self,
        pcm: bytes,
        block_ms: int = 30,
        lead_silence_s: float = 0.3,
        tail_silence_s: float = 1.5,
        realtime: bool = False,
    ) -> None:
        lead = bytes(SAMPLE_WIDTH * int(lead_silence_s * SAMPLE_RATE))
        tail = bytes(SAMPLE_WIDTH * int(tail_silence_s * SAMPLE_RATE))
        self.pcm = lead + pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH] + tail
        """Everything served: lead silence, the recording, tail silence."""
        self.block_ms = block_ms
        self.realtime = realtime
        """Pace the blocks at the speed of a microphone (otherwise yield them as fast as they are read)."""
        self.speech_offset_s = len(lead) / SAMPLE_WIDTH / SAMPLE_RATE
        """Where the recording starts in the stream (after the lead silence)."""
        self._pos = 0
        self._opened_at: float | None = None

    @classmethod
    def from_wav(
        cls,
        path: Path | str,
        block_ms: int = 30,
        lead_silence_s: float = 0.3,
        tail_silence_s: float = 1.5,
        realtime: bool = False,
    ) -> FileSource:
        """Any WAV file (any rate, width, channels), converted to 16 kHz mono."""
        return cls(read_wav(Path(path)), block_ms, lead_silence_s, tail_silence_s, realtime)

    @property
    def duration_s(self) -> float:
        """Length of everything served, seconds."""
        return len(self.pcm) / SAMPLE_WIDTH / SAMPLE_RATE

    @property
    def now_s(self) -> float:
        """Stream position: the end of the last block served."""
        return self._pos / SAMPLE_WIDTH / SAMPLE_RATE

    async def __aenter__(self) -> FileSource:
        self._pos = 0
        self._opened_at = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._opened_at = None

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        """The blocks in order; other tasks get to run between blocks."""
        step = SAMPLE_WIDTH * SAMPLE_RATE * self.block_ms // 1000
        while self._pos < len(self.pcm):
            start = self._pos
            self._pos = min(start + step, len(self.pcm))
            chunk = AudioChunk(self.pcm[start : self._pos], SAMPLE_RATE, start / SAMPLE_WIDTH / SAMPLE_RATE)
            await self._pace(chunk.end_s)
            yield chunk

    async def _pace(self, until_s: float) -> None:
        if not self.realtime or self._opened_at is None:
            await asyncio.sleep(0)
            return
        # A microphone delivers a block once all of it was captured.
        delay = self._opened_at + until_s - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))

    def flush(self) -> None:
        """In real time, skip the blocks a microphone would have captured by now (as fast: nothing is queued)."""
        if not self.realtime or self._opened_at is None:
            return
        step = SAMPLE_WIDTH * SAMPLE_RATE * self.block_ms // 1000
        captured = int((time.perf_counter() - self._opened_at) * SAMPLE_RATE) * SAMPLE_WIDTH // step * step
        if captured > self._pos:
            log.debug("flush: skipping %.2f s", (captured - self._pos) / SAMPLE_WIDTH / SAMPLE_RATE)
            self._pos = min(captured, len(self.pcm))
