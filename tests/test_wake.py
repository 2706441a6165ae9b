"""Waking the assistant: the wake word on real synthesised speech, the wake phrase in transcripts, and
push-to-talk through a real pseudo-terminal and gpiozero's mock pins."""

from __future__ import annotations

import asyncio
import os
import sys
import termios
from collections.abc import Iterator
from functools import cache

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from assistant.errors import ConfigError, SpeechError
from assistant.speech import AudioChunk
from assistant.voice_config import MICRO_WAKE_WORDS, WakeConfig
from assistant.wake import GpioTrigger, KeyTrigger, MicroWakeWord, PhraseWake, Triggers, build_wake
from tests.speech_helpers import chunks, espeak_speech, mix, noise, piper_speech, silence

#: What each shipped model listens for, as the Piper voice is asked to say it.
SPOKEN = {"hey_jarvis": "Hey Jarvis.", "okay_nabu": "Okay Nabu.", "alexa": "Alexa.", "hey_mycroft": "Hey Mycroft."}


@cache
def said(text: str) -> bytes:
    """`text` spoken by the packaged Piper voice, with half a second of silence before and a second after."""
    return silence(0.5) + piper_speech(text) + silence(1.0)


def detections(detector: MicroWakeWord, pcm: bytes, ms: int = 30) -> list[float]:
    """Where the detector fired: the end of each chunk for which `process` returned True, seconds."""
    return [chunk.end_s for chunk in chunks(pcm, ms) if detector.process(chunk)]


# --- the wake word (pymicro-wakeword) -------------------------------------------------------------------


def test_hey_jarvis_spoken_by_piper_wakes_once_while_it_is_said() -> None:
    speech = piper_speech("Hey Jarvis.")
    heard = detections(MicroWakeWord("hey_jarvis"), said("Hey Jarvis."))
    assert len(heard) == 1
    assert 0.5 < heard[0] < 0.5 + len(speech) / 32_000 + 0.3  # while it is said, not seconds later


def test_wake_word_run_into_the_request_wakes_once() -> None:
    assert len(detections(MicroWakeWord("hey_jarvis"), said("Hey Jarvis, reorder the coffee."))) == 1


def test_a_high_pitched_espeak_voice_wakes_it_too() -> None:
    heard = detections(MicroWakeWord("hey_jarvis"), silence(0.5) + espeak_speech("hey jarvis", "en-us+f3") + silence(1))
    assert len(heard) == 1


@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(lambda: said("Reorder the coffee."), id="request"),
        pytest.param(lambda: said("Add oat milk to my shopping list, please."), id="sentence"),
        pytest.param(lambda: said("Hey Jason."), id="near-miss"),
        pytest.param(lambda: silence(5), id="silence"),
        pytest.param(lambda: noise(5, "pink", 0.1), id="pink-noise"),
        pytest.param(lambda: noise(5, "white", 0.3), id="loud-white-noise"),
        pytest.param(lambda: said("Okay Nabu.") + said("Alexa.") + said("Hey Mycroft."), id="other-wake-words"),
    ],
)
def test_other_sounds_never_wake_hey_jarvis(audio: object) -> None:
    assert callable(audio)
    assert detections(MicroWakeWord("hey_jarvis"), audio()) == []


@pytest.mark.parametrize("model", MICRO_WAKE_WORDS)
def test_each_model_wakes_on_its_own_word_only(model: str) -> None:
    for other, text in SPOKEN.items():
        expected = 1 if other == model else 0
        assert len(detections(MicroWakeWord(model), said(text))) == expected, f"{model} on {text!r}"


def test_wake_word_over_background_noise() -> None:
    speech = said("Hey Jarvis.")
    assert len(detections(MicroWakeWord("hey_jarvis"), mix(speech, noise(3, "pink", 0.02, seed=1)))) == 1


def test_each_utterance_wakes_once_without_a_reset_between() -> None:
    detector = MicroWakeWord("hey_jarvis")
    heard = detections(detector, said("Hey Jarvis.") + said("Hey Jarvis."))
    assert len(heard) == 2
    assert heard[1] - heard[0] > 1.5
    assert detector.detections == 2


@pytest.mark.parametrize("ms", [10, 37, 100])
def test_chunk_size_does_not_change_what_is_heard(ms: int) -> None:
    audio = said("Hey Jarvis.") + said("Reorder the coffee.") + said("Hey Jarvis.")
    reference = detections(MicroWakeWord("hey_jarvis"), audio, ms=30)
    heard = detections(MicroWakeWord("hey_jarvis"), audio, ms=ms)
    assert len(heard) == len(reference) == 2
    for at, expected in zip(heard, reference, strict=True):
        assert abs(at - expected) <= 0.1  # the same 10 ms step; only the chunk it ends up in differs


def test_reset_forgets_half_a_wake_word() -> None:
    detector = MicroWakeWord("hey_jarvis")
    audio = said("Hey Jarvis.")
    # Stop in the middle of "Jarvis": the model has not fired yet.
    cut = len(audio) // 2 // 320 * 320
    assert detections(detector, audio[:cut]) == []
    detector.reset()
    assert len(detections(detector, audio)) == 1


def test_unknown_model_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        MicroWakeWord("hey_shopper")
    assert all(name in str(err.value) for name in MICRO_WAKE_WORDS)


def test_audio_at_another_rate_is_refused() -> None:
    with pytest.raises(SpeechError):
        MicroWakeWord().process(AudioChunk(silence(0.1), rate=22_050))


def test_real_time_factor_is_small() -> None:
    detector = MicroWakeWord("hey_jarvis")
    detections(detector, said("Hey Jarvis.") + noise(4) + said("Reorder the coffee."))
    assert detector.audio_s > 8
    assert 0 < detector.rtf < 0.05  # measured 0.004 on the 2-core x86 machine


# --- the wake phrase in transcripts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("hey shopper, reorder the coffee", "reorder the coffee"),
        ("Hey Shopper! Reorder 2 oat milk.", "Reorder 2 oat milk."),
        ("hey shopper", ""),
        ("Hey, Shopper.", ""),
        ("hey shoper order milk", "order milk"),  # a letter lost
        ("Hey, chopper. Add eggs", "Add eggs"),  # a sound-alike
        ("hey shop per reorder the coffee", "reorder the coffee"),  # one word split in two
        ("HeyShopper reorder", "reorder"),  # two words run together
        ("hi shopper", ""),
        ("ok hey shopper what's on my list", "what's on my list"),
        ("Um, okay, hey shopper", ""),
        ("hey there", None),
        ("shopping list", None),
        ("hey shop for milk", None),
        ("I said hey shopper", None),  # not at the start
        ("hey jarvis", None),
        ("", None),
    ],
)
def test_english_wake_phrase(text: str, rest: str | None) -> None:
    assert PhraseWake("hey shopper", "en").match(text) == rest


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("Dis Shopper, commande du café", "commande du café"),
        ("Dis, Shopper ! Rachète le café.", "Rachète le café."),
        ("euh dis shopper", ""),
        ("bon euh dis shopper rajoute du lait", "rajoute du lait"),
        ("dit shopper", ""),
        ("dis chopper, la liste", "la liste"),
        ("dis donc", None),
        ("liste de courses", None),
        ("euh euh euh", None),
    ],
)
def test_french_wake_phrase(text: str, rest: str | None) -> None:
    assert PhraseWake("dis shopper", "fr").match(text) == rest


def test_accents_in_the_phrase_do_not_matter() -> None:
    wake = PhraseWake("salut épicier", "fr")
    assert wake.match("Salut, Epicier : du pain") == "du pain"
    assert wake.match("SALUT ÉPICIER") == ""


def test_fillers_are_those_of_the_language() -> None:
    assert PhraseWake("hey shopper", "en").match("alors hey shopper") is None
    assert PhraseWake("dis shopper", "fr").match("alors dis shopper") == ""
    assert PhraseWake("dis shopper", "fr").match("well dis shopper") is None


# --- push-to-talk: GPIO button ----------------------------------------------------------------------------


@pytest.fixture
def gpio() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.reset()


async def test_pressing_the_gpio_button_wakes(gpio: MockFactory) -> None:
    trigger = GpioTrigger(17, pin_factory=gpio)
    try:
        assert not trigger.pressed_nowait()
        await asyncio.to_thread(gpio.pin(17).drive_low)  # gpiozero calls back on its own thread
        assert await asyncio.wait_for(trigger.wait(), timeout=2) == "gpio"
        gpio.pin(17).drive_high()  # releasing is not a press
        assert not trigger.pressed_nowait()
    finally:
        trigger.close()


async def test_a_press_while_speaking_is_kept_until_checked(gpio: MockFactory) -> None:
    trigger = GpioTrigger(4, pin_factory=gpio)
    try:
        gpio.pin(4).drive_low()
        gpio.pin(4).drive_high()
        assert trigger.pressed_nowait()
        assert not trigger.pressed_nowait()  # consumed
    finally:
        trigger.close()


def test_no_gpio_on_this_machine_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.path.exists("/proc/device-tree/model"):
        pytest.skip("this machine may have GPIO pins")
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)
    with pytest.raises(ConfigError) as err:
        GpioTrigger(17)
    assert "wake.gpio_pin: null" in str(err.value)


# --- push-to-talk: terminal key ---------------------------------------------------------------------------


@pytest.fixture
def pty() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: (master, slave); the trigger reads the slave as it would read stdin."""
    master, slave = os.openpty()
    yield master, slave
    os.close(master)
    os.close(slave)


async def test_space_in_the_terminal_wakes_and_other_keys_do_not(pty: tuple[int, int]) -> None:
    master, slave = pty
    trigger = KeyTrigger("space", stream=slave)
    try:
        assert trigger.available
        os.write(master, b"xq\r\x1b[A ")  # letters, Enter, an arrow key, then space
        assert await asyncio.wait_for(trigger.wait(), timeout=2) == "key"
        assert trigger.presses == 1
        assert not trigger.pressed_nowait()
    finally:
        trigger.close()


@pytest.mark.parametrize(("key", "typed"), [("enter", b"\r"), ("k", b"K"), ("space", b" ")])
async def test_configured_key(pty: tuple[int, int], key: str, typed: bytes) -> None:
    master, slave = pty
    trigger = KeyTrigger(key, stream=slave)
    try:
        os.write(master, typed)
        assert await asyncio.wait_for(trigger.wait(), timeout=2) == "key"
    finally:
        trigger.close()


def test_terminal_settings_are_restored_on_close(pty: tuple[int, int]) -> None:
    _, slave = pty
    before = termios.tcgetattr(slave)
    trigger = KeyTrigger("space", stream=slave)
    during = termios.tcgetattr(slave)
    assert not during[3] & (termios.ICANON | termios.ECHO)  # keys one by one, not echoed
    trigger.close()
    assert termios.tcgetattr(slave) == before
    trigger.close()  # twice is harmless


def test_key_trigger_is_unavailable_without_a_terminal() -> None:
    read_end, write_end = os.pipe()
    try:
        trigger = KeyTrigger("space", stream=read_end)
        assert not trigger.available
        trigger.close()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_bad_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"wake\.key"):
        KeyTrigger("ctrl+space", stream=-1)


# --- several sources, and build_wake -----------------------------------------------------------------------


async def test_the_first_source_pressed_wins(pty: tuple[int, int], gpio: MockFactory) -> None:
    master, slave = pty
    triggers = Triggers(KeyTrigger("space", stream=slave), GpioTrigger(17, pin_factory=gpio))
    try:
        gpio.pin(17).drive_low()
        assert await asyncio.wait_for(triggers.wait(), timeout=2) == "gpio"
        os.write(master, b" ")
        assert await asyncio.wait_for(triggers.wait(), timeout=2) == "key"
        gpio.pin(17).drive_high()
        gpio.pin(17).drive_low()
        assert triggers.pressed_nowait() == "gpio"
        assert triggers.pressed_nowait() is None
    finally:
        triggers.close()


def test_wake_word_mode_builds_the_detector_only() -> None:
    setup = build_wake(WakeConfig(mode="wake_word", model="alexa"), "en")
    assert isinstance(setup.detector, MicroWakeWord) and setup.detector.name == "alexa"
    assert setup.phrase is None and setup.triggers is None


def test_phrase_model_builds_the_phrase() -> None:
    setup = build_wake(WakeConfig(model="phrase", phrase="dis shopper"), "fr")
    assert setup.detector is None and setup.triggers is None
    assert setup.phrase is not None and setup.phrase.match("Dis shopper, du lait") == "du lait"


async def test_both_modes_in_a_terminal(pty: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    _, slave = pty
    before = termios.tcgetattr(slave)
    monkeypatch.setattr(sys, "stdin", os.fdopen(os.dup(slave), "r"))
    setup = build_wake(WakeConfig(mode="both", key="enter"), "en")
    assert setup.detector is not None and setup.triggers is not None
    assert [t.kind for t in setup.triggers.triggers] == ["key"]
    setup.triggers.close()
    sys.stdin.close()
    assert termios.tcgetattr(slave) == before


def test_push_to_talk_without_terminal_or_button_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "r"))
    try:
        with pytest.raises(ConfigError, match="push_to_talk"):
            build_wake(WakeConfig(mode="push_to_talk"), "en")
    finally:
        sys.stdin.close()
        os.close(write_end)
