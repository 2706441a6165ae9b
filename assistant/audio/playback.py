"""Speaking replies on the sound card (`Speaker`); `offline.py` has the WAV-file and silent speakers.

A reply arrives as clips, one per sentence, while later sentences are still being synthesised; each
speaker starts on the first clip and plays the rest back to back. `stop()` (a barge-in) may come from
any task or thread and ends `play()` at once with `interrupted=True`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import AudioError
from ..speech import SAMPLE_WIDTH, SpeechClip
from ..stt.wavfile import float_to_pcm, pcm_to_float
from .capture import StreamResampler
from .devices import resolve_device, sounddevice

log = logging.getLogger(__name__)

Clips = AsyncIterable[SpeechClip] | Iterable[SpeechClip]

#: Audio is never handed to the device further than this ahead of the time it has been playing. Through
#: PortAudio's ALSA → PulseAudio path a stream that underran once could take a 7 s reply in 0.5 s and
#: play none of it (4 of 12 tries with PortAudio's "low" latency; `audio.output_latency_ms` is the cure,
#: this bounds what is lost if it happens anyway).
MAX_AHEAD_S = 1.0


@dataclass(frozen=True)
class PlaybackResult:
    """What happened to one reply."""

    interrupted: bool
    """`stop()` cut it short."""
    played_s: float
    """Seconds of speech handed to the device (or written) before it ended."""
    first_audio_s: float | None
    """`time.perf_counter()` when its first sample was handed to the device; None if nothing was played."""


class SpeakerLike(Protocol):
    """Something replies are played on."""

    async def play(self, clips: Clips) -> PlaybackResult:
        """Play the clips back to back as they arrive; returns when done or stopped."""
        ...

    def stop(self) -> None:
        """Interrupt the reply being played (thread-safe; nothing happens when idle)."""
        ...

    @property
    def speaking(self) -> bool:
        """A reply is being played."""
        ...


class _Interruptible:
    """The stop machinery the three speakers share."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._speaking = False

    @property
    def speaking(self) -> bool:
        return self._speaking

    def stop(self) -> None:
        if not self._speaking:
            return
        self._stopped.set()
        self._on_stop()
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _on_stop(self) -> None:
        """Hook: silence the device now (called from any thread)."""

    def _begin(self) -> None:
        if self._speaking:
            raise AudioError("the speaker is already playing a reply")
        self._stopped.clear()
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._speaking = True

    async def _until_stopped(self, clips: Clips) -> AsyncIterator[SpeechClip]:
        """The clips as they come, ending early (and closing the producer) when `stop()` is called."""
        if not isinstance(clips, AsyncIterable):
            for clip in clips:
                if self._stopped.is_set():
                    return
                yield clip
            return
        source = aiter(clips)
        try:
            while not self._stopped.is_set():
                following = await self._next_or_stop(source)
                if following is None:
                    return
                yield following
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _next_or_stop(self, source: AsyncIterator[SpeechClip]) -> SpeechClip | None:
        assert self._wake is not None
        following = asyncio.ensure_future(anext(source))
        stopping = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not following.done():
            following.cancel()
            await asyncio.wait({following})
            return None
        try:
            return following.result()
        except StopAsyncIteration:
            return None


class _Output:
    """One open output stream at one rate, fed from the event loop, drained by PortAudio's thread.

    `latency_s` is the device buffer asked for: PortAudio's "low" (~10 ms) underran through the ALSA →
    PulseAudio plugin, which then swallowed whole replies; 100 ms never did in 24 tries, and a stop still
    silences the reply within that."""

    def __init__(
        self, sd: Any, device: int | None, rate: int, loop: asyncio.AbstractEventLoop, latency_s: float
    ) -> None:
        self.rate = rate
        self.frames_played = 0
        self.first_audio_s: float | None = None
        self._sd = sd
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._pos = 0
        self._ending = False
        self._aborted = False
        self._aborted_event = asyncio.Event()
        self.started = False
        self._loop = loop
        self._done: asyncio.Future[None] = loop.create_future()
        self.stream = sd.RawOutputStream(
            samplerate=rate,
            blocksize=rate // 50,  # 20 ms: how soon a stop is heard
            device=device,
            channels=1,
            dtype="int16",
            latency=latency_s,
            callback=self._callback,
            finished_callback=self._finished,
        )

    def write(self, pcm: bytes) -> None:
        with self._lock:
            self._buf += pcm

    def abort(self) -> None:
        """Silence at once (any thread): `finish` stops waiting for the rest to play."""
        with self._lock:
            self._aborted = True
        self._loop.call_soon_threadsafe(self._set_done)
        self._loop.call_soon_threadsafe(self._aborted_event.set)

    def _abort_event(self) -> asyncio.Event:
        return self._aborted_event

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        with self._lock:
            if self._aborted:
                outdata[:] = bytes(len(outdata))
                raise self._sd.CallbackAbort
            n = min(len(outdata), len(self._buf) - self._pos)
            if self._ahead_s() > MAX_AHEAD_S:  # the device swallows faster than it plays: let it wait
                n = 0
            n -= n % SAMPLE_WIDTH
            outdata[:n] = self._buf[self._pos : self._pos + n]
            outdata[n:] = bytes(len(outdata) - n)
            if n and self.first_audio_s is None:
                self.first_audio_s = time.perf_counter()
            self._pos += n
            self.frames_played += n // SAMPLE_WIDTH
            if self._pos > 1 << 20:
                del self._buf[: self._pos]
                self._pos = 0
            if self._ending and self._pos >= len(self._buf):
                raise self._sd.CallbackStop

    def _ahead_s(self) -> float:
        """How far the audio handed over runs ahead of the time since the first sample was."""
        if self.first_audio_s is None:
            return 0.0
        return self.frames_played / self.rate - (time.perf_counter() - self.first_audio_s)

    def _finished(self) -> None:
        self._loop.call_soon_threadsafe(self._set_done)

    def _set_done(self) -> None:
        if not self._done.done():
            self._done.set_result(None)

    async def finish(self) -> float:
        """Let what was written play out (or stop at once after `abort`); seconds played."""
        with self._lock:
            self._ending = True
            aborted = self._aborted
            remaining_s = (len(self._buf) - self._pos) / SAMPLE_WIDTH / self.rate
        if not aborted and self.started:
            try:  # ends when played out (finished_callback) or at abort()
                await asyncio.wait_for(asyncio.shield(self._done), remaining_s + 2.0)
                # The device pulls samples ahead of the sound: wait for what is still in its buffer, so
                # the microphone is listened to again only when the assistant is really silent.
                with self._lock:
                    aborted = self._aborted
                if not aborted:
                    await _wait_or(self._abort_event(), min(float(self.stream.latency or 0.0), 3.0))
            except TimeoutError:
                log.warning("the speaker did not finish playing in time; stopping it")
        # Abort rather than wait for a callback: a stalled stream would otherwise delay a barge-in.
        await asyncio.to_thread(_abort_and_close, self.stream)
        return self.frames_played / self.rate


async def _wait_or(event: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `event` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _abort_and_close(stream: Any) -> None:
    try:
        stream.abort()
    finally:
        stream.close()


class Speaker(_Interruptible):
    """The sound card, opened at its own rate when a reply starts; clips are resampled to it.

    Opening the device at each voice's rate would spare the resampling, but through PulseAudio's ALSA
    plugin a stream at a rate other than the server's stalls for seconds; resampling costs ~6 % of
    one core while speaking and keeps one stream open across clips of different rates (earcons).
    """

    #: Clips are resampled and queued in pieces this long, so the first piece plays at once.
    PIECE_S = 0.1

    def __init__(self, device: str | int | None = None, latency_ms: int = 100) -> None:
        super().__init__()
        self.device = device
        self.latency_s = latency_ms / 1000
        self._output: _Output | None = None

    def _on_stop(self) -> None:
        output = self._output
        if output is not None:
            output.abort()

    async def play(self, clips: Clips) -> PlaybackResult:
        self._begin()
        played_s, first, resampler = 0.0, None, None
        try:
            async for clip in self._until_stopped(clips):
                if self._output is None:
                    self._output = await self._open()
                if resampler is None or resampler.src != clip.rate:
                    resampler = StreamResampler(clip.rate, self._output.rate)
                await self._feed(self._output, clip.pcm, resampler)
            if self._output is not None and resampler is not None:
                self._output.write(float_to_pcm(resampler.flush()))
        except BaseException:
            self._on_stop()
            raise
        finally:
            if self._stopped.is_set():
                self._on_stop()
            output = self._output  # still reachable by stop() while it plays out
            if output is not None:
                played_s, first = await output.finish(), output.first_audio_s
            self._output = None
            self._speaking = False
        return PlaybackResult(self._stopped.is_set(), played_s, first)

    async def _feed(self, output: _Output, pcm: bytes, resampler: StreamResampler) -> None:
        step = SAMPLE_WIDTH * int(resampler.src * self.PIECE_S)
        for start in range(0, len(pcm), step):
            if self._stopped.is_set():
                return
            piece = pcm_to_float(pcm[start : start + step])
            output.write(float_to_pcm(await asyncio.to_thread(resampler.push, piece)))
            if not output.started:
                output.started = True
                await asyncio.to_thread(output.stream.start)

    async def _open(self) -> _Output:
        sd = sounddevice()
        index = resolve_device(self.device, "output")
        rate = int(sd.query_devices(index, "output")["default_samplerate"])
        try:
            return await asyncio.to_thread(_Output, sd, index, rate, asyncio.get_running_loop(), self.latency_s)
        except sd.PortAudioError as err:
            raise AudioError(
                f"cannot open the speaker (device {'default' if index is None else index}) at {rate} Hz: {err}",
                hint="check `assistant audio devices` and audio.output_device in config.yml",
            ) from err
