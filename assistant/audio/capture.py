"""The microphone as an async iterator of 16 kHz chunks.

PortAudio calls `_callback` in its own thread once per block; the callback only copies the block and
hands it to the event loop (`call_soon_threadsafe`), so a slow consumer never makes the device
overflow. The queue is bounded: when the consumer falls behind by more than `max_queue_s`, the oldest
blocks are dropped (and counted) rather than letting latency grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import AudioError
from ..speech import SAMPLE_RATE, AudioChunk
from ..stt.wavfile import float_to_pcm, pcm_to_float, resample
from .devices import resolve_device, sounddevice

log = logging.getLogger(__name__)

#: With no block for this long, check that the stream is still running, and reopen it if it is "running"
#: but silent (a sound server sometimes never starts a new capture stream; the device itself is fine).
STALL_S = 2.0
#: Longest wait for PortAudio to stop a stalled stream or to open a new one: on a wedged sound server
#: either call can block for good.
DEVICE_CALL_S = 3.0


class StreamResampler:
    """Resamples a stream block by block with `wavfile.resample`'s filter, without seams at block edges.

    Each output sample is produced only once every input sample its filter reaches has arrived (a delay
    of about 16 input periods); the input kept for the next block starts on a sample where the input
    and output grids coincide, so the output of successive calls is one continuous signal.
    """

    def __init__(self, src: int, dst: int, taps: int = 16) -> None:
        self.src, self.dst, self.taps = src, dst, taps
        self._period = src // math.gcd(src, dst)
        self._half = math.ceil(taps / min(1.0, dst / src))
        self._buf = np.zeros(0, np.float32)
        self._start = 0  # input index of _buf[0], a multiple of _period
        self._emitted = 0  # output samples produced so far

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The output samples that `samples` completes (float32)."""
        self._buf = np.concatenate([self._buf, samples.astype(np.float32)])
        end = self._start + len(self._buf)
        ready = max(0, -(-((end - self._half) * self.dst) // self.src))  # first output not yet computable
        if ready <= self._emitted:
            return np.zeros(0, np.float32)
        first = self._start * self.dst // self.src
        if self.src == self.dst:
            out = self._buf[self._emitted - first : ready - first]
        else:
            out = resample(self._buf, self.src, self.dst, self.taps)[self._emitted - first : ready - first]
        self._emitted = ready
        keep = max(0, (self._emitted * self.src // self.dst - self._half) // self._period * self._period)
        self._buf = self._buf[keep - self._start :]
        self._start = keep
        return out

    def flush(self) -> np.ndarray:
        """The output still held back waiting for input that will not come (the stream ended)."""
        return self.push(np.zeros(2 * self._half + self._period, np.float32))


class Microphone:
    """An input device read as 16 kHz mono chunks; `async with mic:` opens it, `mic.chunks()` reads it."""

    def __init__(self, device: str | int | None = None, block_ms: int = 30, max_queue_s: float = 5.0) -> None:
        self.device = device
        self.block_ms = block_ms
        self.max_blocks = max(1, math.ceil(max_queue_s * 1000 / block_ms))
        self.overflows = 0
        """Blocks PortAudio flagged as input overflow (audio lost before it reached us)."""
        self.dropped_blocks = 0
        """Blocks dropped because the consumer fell more than `max_queue_s` behind."""
        self.rate = SAMPLE_RATE
        """The rate the device is captured at (resampled to 16 kHz when it differs)."""
        self._queue: deque[AudioChunk] = deque()
        self._ready = asyncio.Event()
        self._stream: Any = None
        self._resampler: StreamResampler | None = None
        self._frames = 0
        self._out_samples = 0
        self._closed = False
        self._index: int | None = None
        self.restarts = 0
        """Times a stream that stopped delivering audio was reopened."""
        self._generation = 0

    @property
    def now_s(self) -> float:
        """Seconds of audio the device has delivered since the stream opened."""
        return self._frames / self.rate

    async def __aenter__(self) -> Microphone:
        sd = sounddevice()
        index = self._index = resolve_device(self.device, "input")
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._stream = await _device_call(partial(self._open, sd, index))
        log.info("microphone open: device %s at %d Hz, %d ms blocks", index, self.rate, self.block_ms)
        return self

    def _open(self, sd: ModuleType, index: int | None) -> Any:
        self._generation += 1
        self.rate = _capture_rate(sd, index)
        self._resampler = StreamResampler(self.rate, SAMPLE_RATE) if self.rate != SAMPLE_RATE else None
        try:
            stream = sd.RawInputStream(
                samplerate=self.rate,
                blocksize=self.rate * self.block_ms // 1000,
                device=index,
                channels=1,
                dtype="int16",
                callback=partial(self._callback, self._generation),
            )
            stream.start()
        except sd.PortAudioError as err:
            raise AudioError(
                f"cannot open the microphone (device {'default' if index is None else index}): {err}",
                hint="check `assistant audio devices` and audio.input_device in config.yml",
            ) from err
        return stream

    async def __aexit__(self, *exc: object) -> None:
        self._closed = True
        self._ready.set()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                await _device_call(partial(_close, stream))
            except TimeoutError:
                log.warning("the microphone stream did not stop in %.0f s: left behind", DEVICE_CALL_S)

    def _callback(self, generation: int, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy the block and hand it to the event loop, nothing more."""
        data = bytes(indata)
        with contextlib.suppress(RuntimeError):  # the loop closed while the stream was stopping
            self._loop.call_soon_threadsafe(self._receive, data, bool(status.input_overflow), generation)

    def _receive(self, data: bytes, overflow: bool, generation: int) -> None:
        if self._closed or generation != self._generation:  # a stream given up on came back
            return
        if overflow:
            self.overflows += 1
            log.log(logging.WARNING if self.overflows == 1 else logging.DEBUG, "microphone input overflow")
        self._frames += len(data) // 2
        pcm = data if self._resampler is None else float_to_pcm(self._resampler.push(pcm_to_float(data)))
        start_s = self._out_samples / SAMPLE_RATE
        self._out_samples += len(pcm) // 2
        if not pcm:
            return
        if len(self._queue) >= self.max_blocks:
            self._queue.popleft()
            self.dropped_blocks += 1
        self._queue.append(AudioChunk(pcm, SAMPLE_RATE, start_s))
        self._ready.set()

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        """Blocks in order as they are captured, until the microphone is closed."""
        while True:
            while self._queue:
                yield self._queue.popleft()
            if self._closed:
                return
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), STALL_S)
            except TimeoutError:
                await self._recover()

    async def _recover(self) -> None:
        """No block for STALL_S: a stopped stream is an error; a silent "running" one is reopened."""
        stream = self._stream
        if stream is None or self._closed:
            return
        if not stream.active:
            raise AudioError(
                "the microphone stopped delivering audio (unplugged?)", hint="see `assistant audio devices`"
            )
        self.restarts += 1
        log.warning("no audio from the microphone for %.0f s: reopening it (%d)", STALL_S, self.restarts)
        self._stream = None
        try:
            await _device_call(partial(_close, stream))
        except TimeoutError:
            log.warning("the stalled microphone did not stop in %.0f s: leaving it, opening it again", DEVICE_CALL_S)
        if self._closed:
            return
        try:
            self._stream = await _device_call(partial(self._open, sounddevice(), self._index))
        except TimeoutError:
            raise AudioError(
                f"the microphone could not be reopened: the sound server did not answer in {DEVICE_CALL_S:.0f} s",
                hint="restart the sound server (systemctl --user restart pipewire pulseaudio) and check "
                "`assistant audio devices`",
            ) from None

    def flush(self) -> None:
        """Drop the audio captured but not yet read (e.g. the assistant's own voice)."""
        self._queue.clear()


def _capture_rate(sd: ModuleType, index: int | None) -> int:
    """16 kHz when the device takes it, else the device's own rate."""
    try:
        sd.check_input_settings(device=index, samplerate=SAMPLE_RATE, channels=1, dtype="int16")
        return SAMPLE_RATE
    except (sd.PortAudioError, ValueError):
        info = sd.query_devices(index, "input")
        return int(info["default_samplerate"])


async def _device_call(call: Callable[[], Any]) -> Any:
    """`call()` in a daemon thread, waited for at most DEVICE_CALL_S: a PortAudio call stuck
    on a wedged sound server is left behind and cannot keep the process from exiting, as a thread of
    asyncio's executor would."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():  # given up on
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result, error = call(), None
        except BaseException as err:  # handed to the awaiting task
            result, error = None, err
        with contextlib.suppress(RuntimeError):  # the loop is gone
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="portaudio-call", daemon=True).start()
    return await asyncio.wait_for(done, DEVICE_CALL_S)


def _close(stream: Any) -> None:
    try:
        stream.stop()
    finally:
        stream.close()
