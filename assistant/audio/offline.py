"""Speakers that take a reply at once instead of playing it: into a WAV file (`WavSpeaker`, for
`assistant listen --reply-wav`) or nowhere (`NullSpeaker`, for tests and `--json`)."""

from __future__ import annotations

import time
import wave
from pathlib import Path

from ..errors import AudioError
from ..speech import SAMPLE_WIDTH, SpeechClip
from ..stt.wavfile import float_to_pcm, pcm_to_float, resample
from .playback import Clips, PlaybackResult, _Interruptible


class _InstantSpeaker(_Interruptible):
    """A speaker that takes each clip at once instead of playing it in real time."""

    async def play(self, clips: Clips) -> PlaybackResult:
        self._begin()
        played_s, first = 0.0, None
        try:
            async for clip in self._until_stopped(clips):
                first = first or time.perf_counter()
                self._take(clip)
                played_s += len(clip.pcm) / SAMPLE_WIDTH / clip.rate
        finally:
            self._speaking = False
        return PlaybackResult(self._stopped.is_set(), played_s, first)

    def _take(self, clip: SpeechClip) -> None:
        raise NotImplementedError


class WavSpeaker(_InstantSpeaker):
    """Writes every clip into one WAV file (`assistant listen --from-file --reply-wav`), across replies.

    The file takes the first clip's rate; later clips at another rate are resampled to it. The header
    is rewritten after every clip, so the file is valid even before `close()`.
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self._wav: wave.Wave_write | None = None
        self.rate: int | None = None

    def _take(self, clip: SpeechClip) -> None:
        if self._wav is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 (kept open across replies)
            except OSError as err:
                raise AudioError(f"cannot write replies to {self.path}: {err.strerror or err}") from err
            self._wav.setnchannels(1)
            self._wav.setsampwidth(SAMPLE_WIDTH)
            self._wav.setframerate(clip.rate)
            self.rate = clip.rate
        pcm = clip.pcm
        if clip.rate != self.rate:
            assert self.rate is not None
            pcm = float_to_pcm(resample(pcm_to_float(pcm), clip.rate, self.rate))
        self._wav.writeframes(pcm)

    def close(self) -> None:
        """Finish the file."""
        if self._wav is not None:
            self._wav.close()
            self._wav = None


class NullSpeaker(_InstantSpeaker):
    """Plays nothing (tests, `--json`); remembers the sentences it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.spoken: list[str] = []
        """Text of every clip received, in order."""

    def _take(self, clip: SpeechClip) -> None:
        self.spoken.append(clip.text)
