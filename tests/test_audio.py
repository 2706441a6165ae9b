"""Sound in and out. Tests marked `audio` record and play through a PulseAudio null sink
(tests/audio_fixtures.py): real PortAudio streams, no hardware."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
import time
import wave
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio import capture
from assistant.audio.capture import Microphone, StreamResampler
from assistant.audio.cli import format_devices, show_devices
from assistant.audio.devices import AudioDevice, list_devices, resolve_device
from assistant.audio.earcons import earcon
from assistant.audio.offline import NullSpeaker, WavSpeaker
from assistant.audio.playback import PlaybackResult, Speaker
from assistant.audio.source import FileSource
from assistant.errors import AudioError
from assistant.speech import AudioChunk, SpeechClip
from assistant.stt.wavfile import pcm_to_float, read_wav, resample
from assistant.vad import Endpointer, SileroVAD, SpeechEnded, SpeechStarted
from tests.audio_fixtures import VirtualAudio
from tests.speech_helpers import piper_speech, silence
from tests.test_vad import speech_bounds


@cache
def request() -> bytes:
    return piper_speech("Please reorder the usual coffee beans.")


def clip(pcm: bytes, rate: int = 16_000, text: str = "") -> SpeechClip:
    return SpeechClip(pcm, rate, text, 0.0)


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(pcm_to_float(pcm) ** 2))) if pcm else 0.0


# --- without a device --------------------------------------------------------------------------------


async def test_file_source_serves_lead_speech_and_tail_in_contiguous_blocks() -> None:
    speech = request()
    source = FileSource(speech, block_ms=30, lead_silence_s=0.3, tail_silence_s=1.5)
    async with source:
        blocks = [c async for c in source.chunks()]
    assert blocks[0].start_s == 0.0 and all(b.start_s == pytest.approx(a.end_s) for a, b in itertools.pairwise(blocks))
    assert blocks[-1].end_s == pytest.approx(0.3 + len(speech) / 32_000 + 1.5, abs=1e-6)
    assert source.now_s == pytest.approx(blocks[-1].end_s)
    audio = b"".join(b.pcm for b in blocks)
    assert audio[: 2 * 4800] == bytes(2 * 4800) and audio[2 * 4800 : 2 * 4800 + len(speech)] == speech


async def test_file_source_in_real_time_is_paced_like_a_microphone(tmp_path: Path) -> None:
    path = tmp_path / "stereo44k.wav"
    stereo = np.repeat(np.frombuffer(request()[:16_000], "<i2"), 2)  # 0.5 s, as 44.1 kHz would be resampled
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes(stereo.tobytes())
    source = FileSource.from_wav(path, lead_silence_s=0.1, tail_silence_s=0.2, realtime=True)
    started = time.perf_counter()
    async with source:
        lags = [time.perf_counter() - started - c.end_s async for c in source.chunks()]
    assert source.duration_s == pytest.approx(0.8, abs=1e-3)
    assert min(lags) >= -0.002 and max(lags) < 0.05


def test_stream_resampler_matches_whole_file_resampling() -> None:
    signal = pcm_to_float(request())
    for rate in (44_100, 48_000, 22_050):
        at_rate = resample(signal, 16_000, rate)
        whole = resample(at_rate, rate, 16_000)
        stream = StreamResampler(rate, 16_000)
        block = rate * 30 // 1000
        pieces = np.concatenate([stream.push(at_rate[i : i + block]) for i in range(0, len(at_rate), block)])
        assert len(whole) - len(pieces) < 30
        np.testing.assert_allclose(pieces, whole[: len(pieces)], atol=1e-5)


@pytest.mark.parametrize("kind", ["listening", "done", "error"])
def test_earcons_are_short_smooth_tones(kind: Any) -> None:
    tone = earcon(kind)
    samples = pcm_to_float(tone.pcm)
    assert tone.rate == 22_050 and len(samples) / tone.rate <= 0.15
    assert 0.1 < np.max(np.abs(samples)) < 0.5
    assert abs(samples[0]) < 0.01 and abs(samples[-1]) < 0.01  # faded: no click
    assert earcon(kind) is tone


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples, 8 * len(samples)))
    return float(np.fft.rfftfreq(8 * len(samples), 1 / rate)[np.argmax(spectrum)])


def test_earcons_rise_to_listen_fall_when_done_and_stay_low_on_error() -> None:
    def halves(kind: Any) -> tuple[float, float]:
        samples = pcm_to_float(earcon(kind, 16_000).pcm)
        return dominant_hz(samples[: len(samples) // 2], 16_000), dominant_hz(samples[len(samples) // 2 :], 16_000)

    low, high = halves("listening")
    assert high > low * 1.3
    high, low = halves("done")
    assert high > low * 1.3
    assert max(halves("error")) < 400


async def test_wav_speaker_appends_replies_into_one_valid_file(tmp_path: Path) -> None:
    speaker = WavSpeaker(tmp_path / "replies" / "out.wav")
    first = await speaker.play([clip(request(), 16_000, "one"), earcon("done")])  # 22.05 kHz: resampled
    second = await speaker.play(iter([clip(silence(0.5))]))
    speaker.close()
    with wave.open(str(tmp_path / "replies" / "out.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
        frames = wav.getnframes()
    expected = first.played_s + second.played_s
    assert frames / 16_000 == pytest.approx(expected, abs=0.002)
    assert not first.interrupted and first.first_audio_s is not None
    assert read_wav(tmp_path / "replies" / "out.wav")[: len(request())] == request()


async def forever(first: SpeechClip, closed: list[bool]) -> AsyncIterator[SpeechClip]:
    """One clip, then a synthesiser that never delivers the next sentence."""
    try:
        yield first
        await asyncio.Event().wait()
    finally:
        closed.append(True)


async def test_stop_ends_play_while_waiting_for_the_next_clip() -> None:
    speaker, closed = NullSpeaker(), list[bool]()
    playing = asyncio.create_task(speaker.play(forever(clip(silence(0.2), text="Hello."), closed)))
    while not speaker.spoken:
        await asyncio.sleep(0.001)
    assert speaker.speaking
    asked = time.perf_counter()
    speaker.stop()
    result = await playing
    assert time.perf_counter() - asked < 0.05
    assert result.interrupted and result.played_s == pytest.approx(0.2) and closed == [True]
    assert not speaker.speaking
    speaker.stop()  # idle: nothing to stop, and the next reply plays in full
    assert not (await speaker.play([clip(silence(0.1))])).interrupted


def test_device_table_marks_the_defaults() -> None:
    mic = AudioDevice(0, "USB mic", 1, 0, 48000.0, True, False)
    table = format_devices([mic, AudioDevice(1, "hdmi", 0, 2, 44100.0, False, True)])
    assert "  0    1    0    48000  in         USB mic" in table
    assert "  1    0    2    44100  out        hdmi" in table


# --- through the PulseAudio null sink -------------------------------------------------------------


@pytest.mark.audio
def test_devices_list_the_pulse_devices(virtual_audio: VirtualAudio, capsys: pytest.CaptureFixture[str]) -> None:
    devices = list_devices()
    pulse = next(d for d in devices if d.name == "pulse")
    assert pulse.inputs > 0 and pulse.outputs > 0
    assert any(d.is_default_input for d in devices) and any(d.is_default_output for d in devices)
    assert show_devices(type("Args", (), {"json": True})()) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"index": pulse.index, "name": "pulse"}.items() <= listed[pulse.index].items()


@pytest.mark.audio
def test_resolve_device_by_name_index_or_default(virtual_audio: VirtualAudio) -> None:
    pulse = next(d for d in list_devices() if d.name == "pulse")
    assert resolve_device("PULSE", "input") == pulse.index
    assert resolve_device(str(pulse.index), "output") == pulse.index
    assert resolve_device(pulse.index, "output") == pulse.index
    assert resolve_device(None, "input") is None
    with pytest.raises(AudioError) as err:
        resolve_device("usb headset", "input")
    assert err.value.code == "audio_failed"
    assert "pulse" in str(err.value) and "assistant audio devices" in str(err.value)
    with pytest.raises(AudioError, match="no output device matches 999"):
        resolve_device(999, "output")


async def record_utterance(
    virtual_audio: VirtualAudio, mic: Microphone, pcm: bytes, work: bool = False
) -> tuple[list[AudioChunk], list[object]]:
    """Play `pcm` into the sink while `mic` records it and an endpointer listens; the blocks and events."""
    endpointer = Endpointer(SileroVAD(), no_speech_timeout_s=4.0)
    blocks: list[AudioChunk] = []
    events: list[object] = []
    player = None
    async with mic:
        async for chunk in mic.chunks():
            blocks.append(chunk)
            events += endpointer.feed(chunk)
            if work:
                _cpu_work()
            if player is None and chunk.end_s >= 0.3:
                player = virtual_audio.play_pcm(pcm)
            if any(isinstance(e, SpeechEnded) for e in events) or chunk.end_s > 15:
                break
    assert player is not None and player.wait(timeout=10) == 0
    return blocks, events


def _cpu_work() -> None:
    """About 10 ms of numpy work, like a wake-word model on each block."""
    matrix = np.random.default_rng(0).standard_normal((120, 120))
    for _ in range(12):
        matrix = np.tanh(matrix @ matrix.T / 120)


def check_recording(blocks: list[AudioChunk], events: list[object], speech: bytes) -> None:
    assert all(b.start_s == pytest.approx(a.end_s, abs=1e-9) for a, b in itertools.pairwise(blocks))
    [started] = [e for e in events if isinstance(e, SpeechStarted)]
    [ended] = [e for e in events if isinstance(e, SpeechEnded)]
    first, last = speech_bounds(speech)
    heard = ended.utterance.speech_end_s - started.at_s
    assert heard == pytest.approx(last - first, abs=0.25)


@pytest.mark.audio
async def test_microphone_records_speech_played_into_the_sink_under_load(virtual_audio: VirtualAudio) -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        mic = Microphone(block_ms=30)
        blocks, events = await record_utterance(virtual_audio, mic, request(), work=True)
    finally:
        busy.kill()
        busy.wait()
    assert mic.rate == 16_000
    check_recording(blocks, events, request())
    assert mic.overflows == 0 and mic.dropped_blocks == 0
    assert mic.now_s >= blocks[-1].end_s


@pytest.mark.audio
async def test_microphone_resamples_a_device_that_cannot_do_16k(
    virtual_audio: VirtualAudio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture, "_capture_rate", lambda sd, index: 44_100)
    mic = Microphone(block_ms=30)
    blocks, events = await record_utterance(virtual_audio, mic, request())
    assert mic.rate == 44_100 and all(b.rate == 16_000 for b in blocks)
    check_recording(blocks, events, request())


@pytest.mark.audio
async def test_a_stalled_consumer_loses_the_oldest_blocks_and_flush_drops_the_rest(
    virtual_audio: VirtualAudio,
) -> None:
    async with Microphone(block_ms=30, max_queue_s=0.3) as mic:
        while mic.now_s < 1.0:  # not reading: the queue overflows
            await asyncio.sleep(0.05)
        assert mic.dropped_blocks > 0
        reader = mic.chunks()
        oldest = await anext(reader)
        assert mic.now_s - oldest.start_s <= 0.3 + 0.1
        mic.flush()
        flushed_at = mic.now_s
        after = await anext(reader)
        assert after.start_s >= flushed_at - 1e-9
        await reader.aclose()


async def record_while(virtual_audio: VirtualAudio, playing: asyncio.Task[Any]) -> list[AudioChunk]:
    """What the sink heard while `playing` ran, and 0.5 s after."""
    blocks: list[AudioChunk] = []
    async with Microphone() as mic:
        ended_at: float | None = None
        async for chunk in mic.chunks():
            blocks.append(chunk)
            if playing.done() and ended_at is None:
                ended_at = chunk.end_s
            if ended_at is not None and chunk.end_s > ended_at + 0.5:
                break
    return blocks


def loud_s(blocks: list[AudioChunk]) -> float:
    return sum(b.duration_s for b in blocks if rms(b.pcm) > 0.01)


@pytest.mark.audio
async def test_speaker_plays_into_the_sink_and_stop_cuts_it_at_once(virtual_audio: VirtualAudio) -> None:
    # A long reply (three times the request): PulseAudio may stall the first callbacks of a new output
    # stream for a second or more, and the barge-in must still come while it speaks.
    long_reply = request() * 3
    reply = clip(resample_to(long_reply, 22_050), 22_050, "reply")
    for attempt in range(2):
        mic = Microphone()
        outcome = await barge_in(mic, reply)
        if outcome is not None:
            break
        # The capture stream stalled while the reply played ("no audio from the microphone: reopening
        # it"), so it never heard enough of it to barge in: that is the sound server, try once more.
        assert mic.restarts > 0 and attempt == 0, f"played in full and never heard (mic restarts {mic.restarts})"
    assert outcome is not None
    result, blocks, asked, stop_latency, stopped_at = outcome
    assert result.interrupted and stop_latency < 0.1
    assert result.first_audio_s is not None and result.first_audio_s < asked
    # Cut before its end (the device may have pulled seconds of it into its buffer by then; what matters
    # is that nothing more is heard, below).
    assert result.played_s < len(long_reply) / 32_000 - 0.5
    # Nothing more reaches the sink after the stop (one block of slack for what was in flight).
    assert loud_s([b for b in blocks if b.start_s > stopped_at + 0.1]) == 0.0


async def barge_in(
    mic: Microphone, reply: SpeechClip
) -> tuple[PlaybackResult, list[AudioChunk], float, float, float] | None:
    """Play `reply` while `mic` records the sink; stop it once 0.4 s of it was heard. (result, blocks, when
    the stop was asked, how long it took, end of the block that triggered it); None if it played in full
    first."""
    speaker = Speaker()
    blocks: list[AudioChunk] = []
    stopped_at = -1.0
    async with mic:
        reader = mic.chunks()
        blocks.append(await anext(reader))  # recording runs: start speaking
        playing = asyncio.create_task(speaker.play([reply]))
        async for chunk in reader:
            blocks.append(chunk)
            if playing.done() and stopped_at < 0:
                return None
            if stopped_at < 0 and loud_s(blocks) >= 0.4:  # the sink really got speech: barge in
                asked = time.perf_counter()
                speaker.stop()
                result = await playing
                stop_latency = time.perf_counter() - asked
                stopped_at = chunk.end_s
            if stopped_at >= 0 and chunk.end_s > stopped_at + 0.6:
                break
    return result, blocks, asked, stop_latency, stopped_at


@pytest.mark.audio
async def test_speaker_plays_clips_at_different_rates_in_full(virtual_audio: VirtualAudio) -> None:
    speaker = Speaker()
    clips = [earcon("listening"), clip(request(), 16_000, "reply")]
    started = time.perf_counter()
    result = await speaker.play(clips)
    expected = 0.13 + len(request()) / 32_000
    assert not result.interrupted and result.played_s == pytest.approx(expected, abs=0.02)
    assert result.first_audio_s is not None and result.first_audio_s - started < 0.5
    # That the sound reaches the sink is checked by the barge-in test above and by test_voice_live.py
    # (recording it here was flaky: PulseAudio sometimes delays a new stream's first second).


def resample_to(pcm: bytes, rate: int) -> bytes:
    from assistant.stt.wavfile import float_to_pcm

    return float_to_pcm(resample(pcm_to_float(pcm), 16_000, rate))


class SilentThenLiveDevice:
    """A stand-in for the sounddevice module (a stalled sound server cannot be made to order): the first
    input stream opened says it runs but never calls back; later ones deliver 30 ms blocks of a tone."""

    PortAudioError = RuntimeError

    def __init__(self, loop: asyncio.AbstractEventLoop, first_stop_hangs: bool = False) -> None:
        self.loop = loop
        self.opened: list[Any] = []
        self.first_stop_hangs = first_stop_hangs
        self.release = threading.Event()

    def check_input_settings(self, **kwargs: Any) -> None:
        return None

    def RawInputStream(self, **kwargs: Any) -> Any:
        device = self

        class Stream:
            active = False

            def start(self) -> None:
                self.active = True
                if len(device.opened) > 1:
                    asyncio.run_coroutine_threadsafe(self._feed(), device.loop)

            async def _feed(self) -> None:
                block = (np.sin(np.arange(kwargs["blocksize"]) / 3) * 8000).astype("<i2").tobytes()
                while self.active:
                    kwargs["callback"](block, kwargs["blocksize"], None, type("S", (), {"input_overflow": False}))
                    await asyncio.sleep(0.03)

            def stop(self) -> None:
                if self is device.opened[0] and device.first_stop_hangs:
                    device.release.wait()  # PortAudio stuck on a wedged sound server
                    # ...and when it comes back, one late block of silence
                    kwargs["callback"](bytes(2 * kwargs["blocksize"]), kwargs["blocksize"], None, Status)
                self.active = False

            def close(self) -> None:
                self.active = False

        Status = type("S", (), {"input_overflow": False})
        stream = Stream()
        self.opened.append(stream)
        return stream


async def test_a_stream_that_runs_but_delivers_nothing_is_reopened(monkeypatch: pytest.MonkeyPatch) -> None:
    device = SilentThenLiveDevice(asyncio.get_running_loop())
    monkeypatch.setattr(capture, "sounddevice", lambda: device)
    monkeypatch.setattr(capture, "STALL_S", 0.2)
    async with Microphone(block_ms=30) as mic:
        reader = mic.chunks()
        first = await asyncio.wait_for(anext(reader), 5)
        await reader.aclose()
    assert mic.restarts == 1 and len(device.opened) == 2 and not device.opened[0].active
    assert first.rate == 16_000 and len(first.pcm) == 2 * 480


async def test_a_stalled_stream_that_will_not_stop_is_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    device = SilentThenLiveDevice(asyncio.get_running_loop(), first_stop_hangs=True)
    monkeypatch.setattr(capture, "sounddevice", lambda: device)
    monkeypatch.setattr(capture, "STALL_S", 0.2)
    monkeypatch.setattr(capture, "DEVICE_CALL_S", 0.3)
    try:
        async with Microphone(block_ms=30) as mic:
            reader = mic.chunks()
            first = await asyncio.wait_for(anext(reader), 5)
            device.release.set()  # the old stream comes back: its late block must not reach the reader
            blocks = [await asyncio.wait_for(anext(reader), 5) for _ in range(5)]
            await reader.aclose()
    finally:
        device.release.set()
    assert mic.restarts == 1 and len(device.opened) == 2
    assert all(np.abs(np.frombuffer(b.pcm, "<i2")).max() > 1000 for b in [first, *blocks])  # the tone only


async def test_a_stopped_stream_is_an_error_naming_the_device_list(monkeypatch: pytest.MonkeyPatch) -> None:
    device = SilentThenLiveDevice(asyncio.get_running_loop())
    monkeypatch.setattr(capture, "sounddevice", lambda: device)
    monkeypatch.setattr(capture, "STALL_S", 0.2)
    with pytest.raises(AudioError, match="stopped delivering audio"):
        async with Microphone(block_ms=30) as mic:
            device.opened[0].active = False  # unplugged
            async for _ in mic.chunks():
                pass
    assert mic.restarts == 0


class SwallowingDevice:
    """A sounddevice stand-in whose output stream calls back as fast as it can, as the ALSA → PulseAudio
    plugin did after an underrun (it took a 7 s reply in 0.5 s and played none of it)."""

    CallbackStop = type("CallbackStop", (Exception,), {})
    CallbackAbort = type("CallbackAbort", (Exception,), {})

    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def RawOutputStream(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        device = self

        class Stream:
            latency = 0.0

            def start(self) -> None:
                pass

            def abort(self) -> None:
                pass

            def close(self) -> None:
                pass

            def pull(self, seconds: float) -> None:
                """Ask for `seconds` of audio at once, 20 ms blocks back to back."""
                frames = device.kwargs["blocksize"]
                for _ in range(int(seconds * device.kwargs["samplerate"] / frames)):
                    out = bytearray(2 * frames)
                    try:
                        device.kwargs["callback"](out, frames, None, None)
                    except device.CallbackStop:
                        return

        return Stream()


async def test_the_speaker_never_hands_a_device_more_than_a_second_ahead_of_time() -> None:
    from assistant.audio import playback

    device = SwallowingDevice()
    output = playback._Output(device, None, 16_000, asyncio.get_running_loop(), Speaker().latency_s)
    output.write(request() * 3)  # ~7 s
    started = time.perf_counter()
    output.stream.pull(7.0)
    ahead = output.frames_played / 16_000 - (time.perf_counter() - started)
    assert 0.5 < ahead <= playback.MAX_AHEAD_S + 0.05  # the rest waits for the device to catch up
    assert device.kwargs["latency"] == 0.1
