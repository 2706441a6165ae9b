"""faster-whisper speech-to-text (CTranslate2, int8 on CPU), biased with the household's words.

Biasing: the vocabulary's phrases, most important first, go into Whisper's prompt (`hotwords`, about
150 tokens at most). On robotic test voices this turned "we need more patted redog food" into "we need
more Pedigree dog food" (see docs/benchmarks.md for the counts). `initial_prompt` measured the same:
both fill the same "previous text" slot of the decoder.

Decoding: greedy fallbacks off (temperature 0), no timestamps (one segment; with timestamps a second
pass over the trailing silence sometimes added a stray "food," from the prompt), beam 5.

N-best: an utterance of up to 30 s (one Whisper window, every spoken command) is decoded here rather
than by `WhisperModel.transcribe`, the same way (prompt, suppressed tokens, no-speech skip), but asking
the beam for all of its 5 hypotheses, which costs nothing more. The best one is taken unless another
scores within NBEST_MARGIN of it (mean token log-probability), has fewer words the vocabulary lacks
and names a product word the best one does not: "reorder the crease" gives way to "reorder the
crisps" (0.17 lower), "reorder nutatly tea bags" to "reorder the Tetley tea bags" (0.07). A
hypothesis with no unknown word is never replaced, and an unknown word is never traded for a word
that names no product: "order more hand soap" once became "order more than soap", which proposed the
household's Dove soap. `bench/voice.py` counts household products proposed for 20 products the
household never bought (`docs/benchmarks.md`).

Focused pass: when the hypothesis taken still has words the vocabulary lacks, the same encoded audio is
decoded once more (~100-200 ms, the encoder is not run again) with a prompt of only FOCUS_PHRASES product
phrases, those spelled most like the doubtful words (rapidfuzz ratio). The full prompt holds some 60
phrases; five pull much harder. "reorder enough, you silly" became "Reorder the fusilli", "get more
rote" "Get more Oatly". Its hypotheses are taken on the n-best rule, measured against the hypothesis
taken. They must keep its product words ("order more depth soap", said "Dove soap" and cut short, once
came back as "Order more De Cecco"), and start with the same word, one that names no product: a focused
prompt can make Whisper recite it ("hold it in a little pack martin", said "order the Lurpak butter" in
noise, came back as "Oatly oat milk, oat milk", scoring higher; "order the bananas again" as "Oatly
Barista again").

Alternatives: the full prompt's other readings within NBEST_MARGIN of the hypothesis the n-best rule took
go with the transcript (`Transcript.alternatives`), for the skill, which knows the household's products,
to look at when the transcript names none: "Order a loaf of Warburtons red" came with "Order a loaf of
Warburtons bread" 0.03 lower, which has no fewer unknown words, so the n-best rule cannot prefer it. The
focused pass's readings are not offered: they are scored under another prompt, and they read its
products into what was said ("Reorder the almond milk", never bought, had "Reorder the oat milk").

Confidence, from the segment's mean token log-probability `lp` and no-speech probability `ns`:
`clamp((lp - LOGPROB_FLOOR) / (LOGPROB_CEIL - LOGPROB_FLOOR)) × (1 - ns)`, averaged over segments by
length. Calibrated on clean synthetic speech (lp -0.05…-0.45, ns ≤ 0.1) against noise, mumbling and
reversed speech (lp ≤ -0.65 or ns ≥ 0.35), all decoded with zero-padded windows (docs/benchmarks.md;
tests/test_stt_whisper.py, `test_what_is_not_speech_gets_low_confidence`). Padding with silence instead
reads better but not with this scale, and a second decode so padded costs ~500 ms (docs/benchmarks.md,
"Tried, not adopted").

Whisper has no streaming: `stream()` buffers audio and transcribes on `finish()` (every decode costs
the same ~0.4 s on two cores whatever the length, because Whisper pads audio to 30 s, so partials every
second would keep the CPU busy while the user speaks).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelCorrupt, SpeechError
from ..speech import AudioChunk, Transcript, Vocabulary
from .base import check_chunk, locate_words, ms_since, seconds
from .vocabulary import spoken_words
from .wavfile import pcm_to_float

log = logging.getLogger(__name__)

#: Mean token log-probability at or below which confidence is 0, and at or above which it is 1.
LOGPROB_FLOOR = -1.0
LOGPROB_CEIL = -0.15
#: Prompt budget in characters (faster-whisper keeps at most 223 prompt tokens; ~4 characters a token).
PROMPT_CHARS = 600
#: Shorter audio than this is not sent to the model (nothing can be said in it).
MIN_AUDIO_S = 0.1
#: Beam hypotheses compared (the beam is this wide already).
HYPOTHESES = 5
#: How much lower a hypothesis' mean token log-probability may be than the best one's for it to be
#: preferred because fewer of its words are unknown to the vocabulary.
NBEST_MARGIN = 0.2
#: faster-whisper's defaults: a window whose no-speech probability is above NO_SPEECH_THRESHOLD and
#: whose mean log-probability is below LOGPROB_THRESHOLD holds no speech.
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0
#: Product phrases in the focused pass's prompt.
FOCUS_PHRASES = 5
#: Longest audio decoded in one window (Whisper's 30 s); longer audio goes through `WhisperModel.transcribe`.
WINDOW_S = 30.0


@dataclass(frozen=True)
class SegmentScore:
    """The scores faster-whisper gives one segment."""

    text: str
    """Its words."""
    avg_logprob: float
    """Mean log-probability of its tokens."""
    no_speech_prob: float
    """Probability that the window held no speech."""
    words: tuple[tuple[str, float], ...] = ()
    """Its words with their mean token probabilities (empty when not measured)."""
    alternatives: tuple[str, ...] = ()
    """Other readings of it nearly as likely (see `nearly_as_likely`)."""


def confidence(segments: list[SegmentScore]) -> float:
    """The transcript's confidence 0..1 (see the module docstring)."""
    weighted = [(len(s.text.strip()), _score(s)) for s in segments if s.text.strip()]
    total = sum(n for n, _ in weighted)
    return sum(n * c for n, c in weighted) / total if total else 0.0


def _score(s: SegmentScore) -> float:
    scaled = (s.avg_logprob - LOGPROB_FLOOR) / (LOGPROB_CEIL - LOGPROB_FLOOR)
    return max(0.0, min(1.0, scaled)) * (1.0 - s.no_speech_prob)


@dataclass(frozen=True)
class Hypothesis:
    """One of the beam's transcripts of a window."""

    text: str
    """Its words."""
    avg_logprob: float
    """Mean log-probability of its tokens."""
    tokens: tuple[int, ...] = ()
    """Its token ids."""


def unknown_words(text: str, words: frozenset[str]) -> int:
    """How many words of `text` are not in `words`."""
    return sum(word not in words for word in spoken_words(text))


def pick_hypothesis(
    hypotheses: list[Hypothesis], words: frozenset[str], products: frozenset[str], margin: float = NBEST_MARGIN
) -> Hypothesis:
    """The best hypothesis (the first), unless one scoring within `margin` of it has fewer words that
    are not in `words` and names a word of `products` the best one lacks; among those, the fewest
    unknown words, then the best score. An unknown word is never traded for a word that carries no
    product ("order more hand soap" must not become "order more than soap": then "soap" alone names
    the household's Dove soap). Without a vocabulary, the best."""
    best = hypotheses[0]
    if not words:
        return best
    heard = [set(spoken_words(h.text)) for h in hypotheses]
    unknown = [unknown_words(h.text, words) for h in hypotheses]
    if unknown[0] == 0:
        return best
    better = [
        (unknown[i], -h.avg_logprob, i)
        for i, h in enumerate(hypotheses)
        if h.avg_logprob >= best.avg_logprob - margin and unknown[i] < unknown[0] and heard[i] & products - heard[0]
    ]
    return hypotheses[min(better)[2]] if better else best


def focus_phrases(text: str, words: frozenset[str], phrases: tuple[str, ...], k: int = FOCUS_PHRASES) -> list[str]:
    """The `k` product `phrases` spelled most like the doubtful words of `text`: those not in `words`,
    with the product words around them ("reorder enough, you silly" → "enough you silly" → "illy",
    "Persil", ..., "De Cecco fusilli pasta"). None when every word is known."""
    from rapidfuzz import fuzz

    heard = spoken_words(text)
    if not phrases or all(w in words for w in heard):
        return []
    stops = {w for w in heard if w in words} - {w for p in phrases for w in spoken_words(p)}
    doubtful = " ".join(w for w in heard if w not in stops)
    ranked = sorted(phrases, key=lambda p: -fuzz.ratio(doubtful, p.lower()))
    return ranked[:k]


def command_start(text: str, products: frozenset[str]) -> str | None:
    """The first word of `text`, which a focused reading must keep, or None when it names a product (or
    there is none): then no focused reading can be taken, and the pass is not run."""
    first = spoken_words(text)[:1]
    return first[0] if first and first[0] not in products else None


def pick_focused(
    taken: Hypothesis, focused: list[Hypothesis], words: frozenset[str], products: frozenset[str], margin: float
) -> Hypothesis | None:
    """The focused pass's hypothesis to take instead of `taken`, if any: within `margin` of its score,
    with fewer unknown words, naming a product word it lacks (`pick_hypothesis`'s rule), starting with
    the same word as `taken`, one that names no product, and keeping every product word of `taken`. The
    command's first word stays as heard; a recited prompt ("Oatly Barista again" for "order the bananas
    again") starts with a product. The pass mends doubtful words, it does not replace a product heard:
    "order more depth soap" (said "Dove soap", cut short) must not become "Order more De Cecco"."""
    first = command_start(taken.text, products)
    if first is None:
        return None
    had = set(spoken_words(taken.text)) & products
    kept = [h for h in focused if spoken_words(h.text)[:1] == [first] and had <= set(spoken_words(h.text))]
    if not kept:
        return None
    picked = pick_hypothesis([taken, *kept], words, products, margin)
    return picked if picked is not taken else None


def nearly_as_likely(
    hypotheses: list[Hypothesis], reference: Hypothesis, taken: str, margin: float = NBEST_MARGIN
) -> tuple[str, ...]:
    """The beam's readings scoring within `margin` of `reference` (the hypothesis the n-best rule took from
    this beam), best first, leaving out `taken` (the transcript) and readings that differ from it or from
    each other only in case and punctuation."""
    seen = {tuple(spoken_words(taken))}
    out: list[str] = []
    for h in sorted(hypotheses, key=lambda h: -h.avg_logprob):
        said = tuple(spoken_words(h.text))
        if h.avg_logprob >= reference.avg_logprob - margin and said and said not in seen:
            seen.add(said)
            out.append(h.text.strip())
    return tuple(out)


def word_probabilities(
    model: Any, tokenizer: Any, encoder_output: Any, start: list[int], tokens: tuple[int, ...], frames: int
) -> tuple[tuple[str, float], ...]:
    """Each word of `tokens` with the mean probability of its tokens, as faster-whisper's word
    timestamps compute it: the decoder scores the tokens once more (teacher-forced, same prompt) with
    CTranslate2's `align` (~40 ms for a command on two cores; the beam keeps only whole-sequence scores)."""
    if not tokens:
        return ()
    aligned = model.model.align(encoder_output, start, [list(tokens)], frames)[0]
    probabilities = list(aligned.text_token_probs)
    words, word_tokens = tokenizer.split_to_word_tokens([*tokens, tokenizer.eot])
    out: list[tuple[str, float]] = []
    at = 0
    for word, pieces in zip(words, word_tokens, strict=True):
        p = probabilities[at : at + len(pieces)]
        at += len(pieces)
        if p and any(ch.isalnum() for ch in word):  # punctuation is a "word" of its own to Whisper
            out.append((word, sum(p) / len(p)))
    return tuple(out)


def hotword_prompt(vocabulary: Vocabulary, budget: int = PROMPT_CHARS) -> str:
    """The vocabulary's phrases, most important first, comma-separated, within `budget` characters."""
    picked: list[str] = []
    used = 0
    for phrase in vocabulary.phrases:
        if used + len(phrase) + 2 > budget:
            break
        picked.append(phrase)
        used += len(phrase) + 2
    return ", ".join(picked)


class _LoadedModel:
    """One faster-whisper model folder, loaded once and shared by the languages it serves."""

    def __init__(self, path: Path, threads: int, fix: str) -> None:
        self.path, self.threads, self.fix = Path(path), threads, fix
        self.model: object | None = None
        self.lock = threading.Lock()

    def load(self) -> object:
        with self.lock:
            if self.model is None:
                from faster_whisper import WhisperModel

                started = time.perf_counter()
                try:
                    self.model = WhisperModel(
                        str(self.path),
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self.threads,
                        local_files_only=True,
                    )
                except Exception as err:  # CTranslate2 raises RuntimeError/ValueError on bad files
                    raise ModelCorrupt(f"Whisper model {self.path} cannot be loaded ({err}) (run: {self.fix})") from err
                log.info("Whisper model loaded in %.1f s from %s", time.perf_counter() - started, self.path)
            return self.model


class WhisperSTT:
    """Speech-to-text with faster-whisper; one model may serve several languages."""

    name = "whisper"

    def __init__(
        self,
        models: Mapping[str, Path],
        *,
        threads: int = 2,
        bias: bool = True,
        beam_size: int = 5,
        nbest_margin: float = NBEST_MARGIN,
        focus: bool = True,
        fixes: Mapping[str, str] | None = None,
    ) -> None:
        fixes = fixes or {}
        shared: dict[Path, _LoadedModel] = {}
        self._models: dict[str, _LoadedModel] = {}
        for lang, path in models.items():
            key = Path(path).resolve()
            if key not in shared:
                shared[key] = _LoadedModel(key, threads, fixes.get(lang, "assistant models verify"))
            self._models[lang] = shared[key]
        self._bias = bias
        self._beam_size = beam_size
        self._nbest_margin = nbest_margin
        self._focus = focus
        self._prompts: dict[str, tuple[str, str]] = {}  # lang → (fingerprint, prompt)
        self._words: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # lang → all words, product words
        self._phrases: dict[str, tuple[str, ...]] = {}  # lang → product phrases

    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        current = self._prompts.get(vocabulary.lang)
        if self._bias and (current is None or current[0] != vocabulary.fingerprint):
            self._prompts[vocabulary.lang] = (vocabulary.fingerprint, hotword_prompt(vocabulary))
            self._words[vocabulary.lang] = (vocabulary.words, vocabulary.product_words)
            self._phrases[vocabulary.lang] = vocabulary.product_phrases

    def prompt(self, lang: str) -> str:
        """The hotwords sent with every utterance in `lang` (empty when not biased)."""
        return self._prompts.get(lang, ("", ""))[1]

    async def warm_up(self, langs: tuple[str, ...] | None = None) -> None:
        """Load the models now (off the event loop) and decode a second of silence, so the first
        utterance is not slowed by CTranslate2's lazy initialisation (~0.3 s measured)."""
        for lang in langs or self.languages():
            await asyncio.to_thread(self._model(lang).load)
            await asyncio.to_thread(self._decode, bytes(2 * 16_000), lang)

    def stream(self, lang: str) -> WhisperStream:
        self._model(lang)
        return WhisperStream(self, lang)

    async def transcribe(self, pcm: bytes, lang: str) -> Transcript:
        started = time.perf_counter()
        audio_s = seconds(len(pcm))
        if audio_s < MIN_AUDIO_S:
            return Transcript("", 0.0, lang, self.name, audio_s, 0.0)
        segments = await asyncio.to_thread(self._decode, pcm, lang)
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        score = round(confidence(segments), 3) if text else 0.0
        words = locate_words(text, [w for s in segments for w in s.words])
        others = segments[0].alternatives if len(segments) == 1 else ()
        return Transcript(text, score, lang, self.name, audio_s, ms_since(started), words=words, alternatives=others)

    def _decode(self, pcm: bytes, lang: str) -> list[SegmentScore]:
        loaded = self._model(lang)
        model = loaded.load()
        prompt = self.prompt(lang) or None
        audio = pcm_to_float(pcm)
        with loaded.lock:  # one decode at a time per model: the threads are already given to CTranslate2
            try:
                if seconds(len(pcm)) <= WINDOW_S:
                    return self._decode_window(model, audio, lang, prompt)
                segments, _info = model.transcribe(  # type: ignore[attr-defined]
                    audio,
                    language=lang,
                    beam_size=self._beam_size,
                    temperature=0.0,
                    without_timestamps=True,
                    condition_on_previous_text=False,
                    hotwords=prompt,
                    vad_filter=False,
                )
                return [SegmentScore(s.text, s.avg_logprob, s.no_speech_prob) for s in segments]
            except (RuntimeError, ValueError) as err:
                raise SpeechError(f"Whisper failed to transcribe: {err}") from err

    def _decode_window(self, model: Any, audio: Any, lang: str, prompt: str | None) -> list[SegmentScore]:
        """One window decoded as `WhisperModel.transcribe` does (see the module docstring), keeping the
        beam's hypotheses: the one `pick_hypothesis` prefers, or the focused pass's (`pick_focused`),
        becomes the segment, with the beam's other readings nearly as likely (`nearly_as_likely`)."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=lang)
        features = model.feature_extractor(audio)
        content_frames = features.shape[-1] - 1
        encoder_output = model.encode(pad_or_trim(features[:, :content_frames]))
        start = model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=prompt)
        hypotheses, no_speech_prob = self._beam(model, tokenizer, encoder_output, start)
        best = hypotheses[0]
        if no_speech_prob > NO_SPEECH_THRESHOLD and best.avg_logprob <= LOGPROB_THRESHOLD:
            return []
        words, products = self._words.get(lang, (frozenset(), frozenset()))
        picked = pick_hypothesis(hypotheses, words, products, self._nbest_margin)
        if picked is not best:
            log.info("heard %r rather than %r (fewer unknown words)", picked.text.strip(), best.text.strip())
        reference = picked
        refocus = self._focus and command_start(picked.text, products) is not None
        focus = focus_phrases(picked.text, words, self._phrases.get(lang, ())) if refocus else []
        if focus:
            focused_start = model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=", ".join(focus))
            focused, _ = self._beam(model, tokenizer, encoder_output, focused_start)
            taken = pick_focused(picked, focused, words, products, self._nbest_margin)
            if taken is not None:
                log.info("heard %r rather than %r (focused on %s)", taken.text.strip(), picked.text.strip(), focus)
                picked, start = taken, focused_start
        heard = word_probabilities(model, tokenizer, encoder_output, start, picked.tokens, content_frames)
        others = nearly_as_likely(hypotheses, reference, picked.text, self._nbest_margin)
        return [SegmentScore(picked.text, picked.avg_logprob, no_speech_prob, heard, others)]

    def _beam(
        self, model: Any, tokenizer: Any, encoder_output: Any, start: list[int]
    ) -> tuple[list[Hypothesis], float]:
        """The beam's hypotheses, best first, and the window's no-speech probability."""
        from faster_whisper.transcribe import get_suppressed_tokens

        result = model.model.generate(
            encoder_output,
            [start],
            beam_size=self._beam_size,
            num_hypotheses=min(HYPOTHESES, self._beam_size),
            max_length=model.max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1]) or ()),  # as transcribe's default
        )[0]
        hypotheses = []
        for tokens, score in zip(result.sequences_ids, result.scores, strict=True):
            # faster-whisper's mean: the beam's length-normalised score over one more token (the end)
            avg_logprob = score * len(tokens) / (len(tokens) + 1)
            hypotheses.append(Hypothesis(tokenizer.decode(tokens), avg_logprob, tuple(tokens)))
        return hypotheses, result.no_speech_prob

    def _model(self, lang: str) -> _LoadedModel:
        try:
            return self._models[lang]
        except KeyError:
            raise SpeechError(f"no Whisper model for language {lang!r} (have: {', '.join(self._models)})") from None


class WhisperStream:
    """Buffers one utterance; Whisper transcribes it whole when it ends."""

    def __init__(self, engine: WhisperSTT, lang: str) -> None:
        self._engine, self._lang = engine, lang
        self._pcm = bytearray()

    async def feed(self, chunk: AudioChunk) -> Transcript | None:
        self._pcm += check_chunk(chunk)
        return None

    async def finish(self) -> Transcript:
        pcm, self._pcm = bytes(self._pcm), bytearray()
        return await self._engine.transcribe(pcm, self._lang)
