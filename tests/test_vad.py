"""The endpointer on real speech (Piper) with the real Silero model, and its state machine on scripted
probabilities."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from assistant.speech import AudioChunk
from assistant.vad import Endpointer, NoSpeech, SileroVAD, SpeechEnded, SpeechStarted, Utterance
from tests.speech_helpers import chunks, noise, piper_speech, silence

BLOCK_S = 0.03


@cache
def order_speech() -> bytes:
    return piper_speech("Order two packs of oat milk and some coffee, please.")


def speech_bounds(pcm: bytes, offset_s: float = 0.0) -> tuple[float, float]:
    """First and last 10 ms frame louder than -40 dBFS: where a listener hears speech."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)[0]
    return offset_s + loud[0] * 0.01, offset_s + (loud[-1] + 1) * 0.01


def run(endpointer: Endpointer, pcm: bytes) -> list[object]:
    return [event for chunk in chunks(pcm) for event in endpointer.feed(chunk)]


def utterances(events: list[object]) -> list[Utterance]:
    return [e.utterance for e in events if isinstance(e, SpeechEnded)]


def test_one_utterance_with_the_speech_bounds() -> None:
    speech = order_speech()
    pcm = silence(1.0) + speech + silence(2.0)
    true_start, true_end = speech_bounds(speech, 1.0)
    endpointer = Endpointer(SileroVAD(), trailing_silence_ms=500)
    events = run(endpointer, pcm)
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(starts) == 1 and not any(isinstance(e, NoSpeech) for e in events)
    [utterance] = utterances(events)
    assert abs(starts[0].at_s - true_start) <= 0.15
    assert abs(utterance.speech_end_s - true_end) <= 0.15
    assert utterance.reason == "silence"
    # The end is decided after the trailing silence, not later than one block after it.
    assert 0.5 - 1e-6 <= utterance.end_s - utterance.speech_end_s <= 0.5 + BLOCK_S + 1e-6
    assert endpointer.vad_ms > 0


def test_pre_roll_is_part_of_the_utterance() -> None:
    pcm = silence(1.0) + order_speech() + silence(1.5)
    events = run(Endpointer(SileroVAD(), pre_roll_ms=300), pcm)
    [started] = [e for e in events if isinstance(e, SpeechStarted)]
    [utterance] = utterances(events)
    assert started.at_s - 0.3 - BLOCK_S <= utterance.start_s <= started.at_s - 0.3 + BLOCK_S
    # The utterance's audio is exactly the stream's audio from start_s to end_s.
    first = round(utterance.start_s * 16_000) * 2
    assert utterance.pcm == pcm[first : first + len(utterance.pcm)]
    assert len(utterance.pcm) / 32_000 == pytest.approx(utterance.end_s - utterance.start_s, abs=1e-6)


@pytest.mark.parametrize(("pause_s", "expected"), [(0.3, 1), (1.2, 2)])
def test_a_pause_shorter_than_the_trailing_silence_does_not_split(pause_s: float, expected: int) -> None:
    words = piper_speech("Add bananas.")
    pcm = silence(0.5) + words + silence(pause_s) + words + silence(1.5)
    assert len(utterances(run(Endpointer(SileroVAD(), trailing_silence_ms=700), pcm))) == expected


def test_a_long_utterance_is_cut_at_max_length() -> None:
    pcm = silence(0.5) + order_speech() + silence(1.0)
    events = run(Endpointer(SileroVAD(), max_utterance_s=1.5), pcm)
    started = next(e for e in events if isinstance(e, SpeechStarted))
    first = utterances(events)[0]  # the rest of the sentence starts a second utterance
    assert first.reason == "max_length"
    assert 1.5 <= first.end_s - started.at_s <= 1.5 + BLOCK_S + 1e-6


@pytest.mark.parametrize("background", ["silence", "pink noise"])
def test_no_speech_in_silence_or_noise(background: str) -> None:
    pcm = silence(3.0) if background == "silence" else noise(3.0, "pink", level=0.05)
    events = run(Endpointer(SileroVAD(), no_speech_timeout_s=2.0), pcm)
    assert not any(isinstance(e, SpeechStarted | SpeechEnded) for e in events)
    [nothing] = events
    assert isinstance(nothing, NoSpeech)
    assert 2.0 <= nothing.waited_s <= 2.0 + BLOCK_S + 1e-6


def test_silero_buffers_blocks_of_any_size_into_its_windows() -> None:
    pcm = silence(0.5) + order_speech() + silence(0.5)
    peaks = []
    for ms in (7, 30, 100):
        vad = SileroVAD()
        step = 32 * ms
        probabilities = [vad(AudioChunk(pcm[i : i + step])) for i in range(0, len(pcm), step)]
        speech = probabilities[int(1.0 * 1000 / ms) : int(2.0 * 1000 / ms)]
        assert max(probabilities[: int(0.4 * 1000 / ms)]) < 0.1
        peaks.append(np.mean(speech))
    assert min(peaks) > 0.7


class ScriptedVAD:
    """Probabilities given in advance, one per block."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = list(probabilities)
        self.resets = 0

    def __call__(self, chunk: AudioChunk) -> float:
        return self.probabilities.pop(0) if self.probabilities else 0.0

    def reset(self) -> None:
        self.resets += 1


def scripted(probabilities: list[float], **options: object) -> list[object]:
    endpointer = Endpointer(ScriptedVAD(probabilities), **options)  # type: ignore[arg-type]
    return run(endpointer, silence(BLOCK_S * len(probabilities)))


def test_a_click_shorter_than_min_speech_does_not_start() -> None:
    click = [0.0] * 5 + [0.9] * 4 + [0.0] * 30  # 120 ms voiced
    assert not scripted(click, min_speech_ms=150, no_speech_timeout_s=None)
    speech = [0.0] * 5 + [0.9] * 5 + [0.0] * 30  # 150 ms voiced
    assert [type(e) for e in scripted(speech, min_speech_ms=150)] == [SpeechStarted, SpeechEnded]


def test_hysteresis_keeps_a_soft_syllable_in_speech() -> None:
    soft = [0.9] * 10 + [0.4] * 20 + [0.0] * 20  # 0.4 is below 0.5 but above 0.5 - 0.15
    [utterance] = utterances(scripted(soft, trailing_silence_ms=300))
    assert utterance.speech_end_s == pytest.approx(30 * BLOCK_S)
    lower = [0.9] * 10 + [0.3] * 20 + [0.0] * 20
    [utterance] = utterances(scripted(lower, trailing_silence_ms=300))
    assert utterance.speech_end_s == pytest.approx(10 * BLOCK_S)


def test_reset_opens_a_new_window_with_its_own_timeout() -> None:
    vad = ScriptedVAD([])
    endpointer = Endpointer(vad, no_speech_timeout_s=1.0)
    quiet = chunks(silence(5.0))
    assert [type(e) for c in quiet[:40] for e in endpointer.feed(c)] == [NoSpeech]
    endpointer.reset(no_speech_timeout_s=None)
    assert not [e for c in quiet[40:100] for e in endpointer.feed(c)]
    endpointer.reset()  # back to the constructor's timeout, counted from the next block
    events = [e for c in quiet[100:] for e in endpointer.feed(c)]
    assert len(events) == 1 and isinstance(events[0], NoSpeech)
    assert events[0].waited_s == pytest.approx(1.02, abs=1e-6)
    assert vad.resets == 3
