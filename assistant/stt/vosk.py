"""Vosk (Kaldi) speech-to-text: streaming partials, word confidences, biasing by runtime grammar.

Biasing. Small Vosk models (graph/HCLr.fst + graph/Gr.fst) compile a grammar at run time: a list of
phrases turned into a bigram model, so only those words can come out. Big models (graph/HCLG.fst)
cannot; they run unbiased. Every utterance goes through two recognisers side by side, one with the
household's grammar and one with the model's full vocabulary, and `choose` keeps the biased words
only when they are trustworthy:

- with a model whose lexicon has `[unk]` (the small English and French ones), the grammar ends with
  `[unk]`, so speech outside it comes out as `[unk]`: any `[unk]` means "not only household words",
  and the open recogniser's words are used instead;
- with a model without `[unk]`, the grammar would force every sound into a household phrase. Measured
  on the Korean model: an out-of-grammar sentence about the weather came out as "우유 두 개 주세요 주세요"
  ("two milks please please") at confidence 0.83. Then the biased words are used only if at least half
  of them are also in the open recogniser's result.

A biased result whose confidence is more than 0.1 below the open one's is also dropped. Confidence is
the mean of the chosen words' confidences (0 when nothing was recognised). Recognisers are kept
between utterances and rebuilt only when the vocabulary's fingerprint changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import ModelCorrupt, SpeechError
from ..speech import SAMPLE_RATE, AudioChunk, Transcript, Vocabulary
from .base import check_chunk, locate_words, ms_since, seconds
from .vosk_choice import UNK, GrammarInfo, Hypothesis, choose

log = logging.getLogger(__name__)

__all__ = ["UNK", "GrammarInfo", "Hypothesis", "VoskSTT", "VoskStream", "choose"]

_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


class _Recognisers:
    """The open and (optionally) biased recognisers of one utterance; used from worker threads."""

    def __init__(self, open_: object, biased: object | None, fingerprint: str) -> None:
        self.open, self.biased, self.fingerprint = open_, biased, fingerprint
        self.reset()

    def _all(self) -> list:  # type: ignore[type-arg]
        return [r for r in (self.open, self.biased) if r is not None]

    def reset(self) -> None:
        for rec in self._all():
            rec.Reset()
        self.segments: dict[int, list[tuple[str, float]]] = {id(r): [] for r in self._all()}

    def accept(self, pcm: bytes) -> tuple[str, str]:
        """Feed audio to both; their partial texts (open, biased)."""
        partials = []
        for rec in self._all():
            if rec.AcceptWaveform(pcm):
                self.segments[id(rec)] += _words(rec.Result())
                partials.append("")
            else:
                partials.append(json.loads(rec.PartialResult()).get("partial", ""))
        return partials[0], partials[1] if len(partials) > 1 else ""

    def final(self) -> tuple[Hypothesis, Hypothesis | None]:
        results = {}
        for rec in self._all():
            words = self.segments[id(rec)] + _words(rec.FinalResult())
            results[id(rec)] = Hypothesis(tuple(words))
        return results[id(self.open)], results.get(id(self.biased)) if self.biased is not None else None


def _words(result_json: str) -> list[tuple[str, float]]:
    data = json.loads(result_json)
    return [(w["word"], float(w.get("conf", 1.0))) for w in data.get("result", [])]


class _LanguageModel:
    """One language's Vosk model, loaded on first use, and its idle recognisers."""

    def __init__(self, lang: str, path: Path, fix: str) -> None:
        self.lang, self.path, self.fix = lang, Path(path), fix
        self.model: object | None = None
        self.info = GrammarInfo(False, False)
        self._lock = threading.Lock()
        self.idle: _Recognisers | None = None
        self._grammars: dict[str, str | None] = {}

    def load(self) -> None:
        with self._lock:
            if self.model is not None:
                return
            from vosk import Model, SetLogLevel

            SetLogLevel(-1)
            started = time.perf_counter()
            try:
                self.model = Model(str(self.path))
            except Exception as err:  # vosk raises a bare Exception("Failed to create a model")
                raise ModelCorrupt(f"Vosk model {self.path} cannot be loaded (run: {self.fix})") from err
            graph = self.path / "graph"
            dynamic = all((graph / f).exists() for f in ("HCLr.fst", "Gr.fst")) and not (graph / "HCLG.fst").exists()
            self.info = GrammarInfo(dynamic, self.model.vosk_model_find_word(UNK) >= 0)  # type: ignore[union-attr]
            self._warm()
            log.info(
                "Vosk %s model loaded in %.1f s from %s (%s)",
                self.lang,
                time.perf_counter() - started,
                self.path,
                "runtime grammar" if dynamic else "static graph: no biasing",
            )

    def grammar(self, vocabulary: Vocabulary | None) -> str | None:
        """The grammar JSON for a vocabulary: its phrases cut to the words the model knows, plus [unk]."""
        if vocabulary is None or not self.info.dynamic:
            return None
        if vocabulary.fingerprint not in self._grammars:
            self._grammars = {vocabulary.fingerprint: self._compile(vocabulary)}
        return self._grammars[vocabulary.fingerprint]

    def _compile(self, vocabulary: Vocabulary) -> str | None:
        find = self.model.vosk_model_find_word  # type: ignore[union-attr]
        phrases: list[str] = []
        dropped: set[str] = set()
        for phrase in vocabulary.phrases:
            run: list[str] = []
            for token in [t.lower() for t in _TOKEN.findall(phrase)] + [""]:
                if token and find(token) >= 0:
                    run.append(token)
                    continue
                if token:
                    dropped.add(token)
                if run and " ".join(run) not in phrases:
                    phrases.append(" ".join(run))
                run = []
        if dropped:
            log.info(
                "Vosk %s model does not know %d vocabulary words (e.g. %s)",
                self.lang,
                len(dropped),
                ", ".join(sorted(dropped)[:8]),
            )
        if not phrases:
            return None
        return json.dumps([*phrases, UNK] if self.info.has_unk else phrases, ensure_ascii=False)

    def acquire(self, vocabulary: Vocabulary | None) -> _Recognisers:
        """Recognisers for one utterance: the idle ones when they fit the vocabulary.

        Reuse matters: a dynamic-graph recogniser expands its decoding graph lazily and keeps it, so a
        fresh one decoded 2.25 s of speech in 1.8 s on the Korean model and a reused one in 0.24 s.
        """
        self.load()
        fingerprint = vocabulary.fingerprint if vocabulary else ""
        with self._lock:
            idle, self.idle = self.idle, None
            grammar = self.grammar(vocabulary)
        open_ = idle.open if idle is not None else self._recogniser(None)
        if idle is not None and idle.fingerprint == fingerprint:
            biased = idle.biased
        else:
            biased = self._recogniser(grammar) if grammar else None
        return _Recognisers(open_, biased, fingerprint)

    def release(self, recognisers: _Recognisers) -> None:
        recognisers.reset()
        with self._lock:
            self.idle = recognisers

    def _recogniser(self, grammar: str | None) -> object:
        from vosk import KaldiRecognizer

        rec = KaldiRecognizer(self.model, SAMPLE_RATE, grammar) if grammar else KaldiRecognizer(self.model, SAMPLE_RATE)
        rec.SetWords(True)
        return rec

    def _warm(self) -> None:
        """Decode a second of noise with the open recogniser and keep it: the graph states it expands make
        the first utterance faster (measured on the Korean model: 2.1 s → 1.1 s for 2.25 s of speech)."""
        rec = self._recogniser(None)
        noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 3000
        rec.AcceptWaveform(noise.astype("<i2").tobytes())  # type: ignore[attr-defined]
        rec.FinalResult()  # type: ignore[attr-defined]
        self.idle = _Recognisers(rec, None, "")


class VoskSTT:
    """Speech-to-text with Vosk models, one per language."""

    name = "vosk"

    def __init__(self, models: Mapping[str, Path], *, bias: bool = True, fixes: Mapping[str, str] | None = None):
        fixes = fixes or {}
        self._models = {
            lang: _LanguageModel(lang, path, fixes.get(lang, "assistant models verify"))
            for lang, path in models.items()
        }
        self._bias = bias
        self._vocabulary: dict[str, Vocabulary] = {}

    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        current = self._vocabulary.get(vocabulary.lang)
        if self._bias and (current is None or current.fingerprint != vocabulary.fingerprint):
            self._vocabulary[vocabulary.lang] = vocabulary

    def grammar_info(self, lang: str) -> GrammarInfo:
        """Whether the model of `lang` takes runtime grammars and has `[unk]` (loads the model)."""
        model = self._model(lang)
        model.load()
        return model.info

    def idle_biased(self, lang: str) -> object | None:
        """The biased recogniser kept for the next utterance in `lang` (None before the first one, or
        without a grammar): the same object while the vocabulary's fingerprint stays the same."""
        idle = self._model(lang).idle
        return idle.biased if idle is not None else None

    async def warm_up(self, langs: tuple[str, ...] | None = None) -> None:
        """Load the models now (off the event loop) instead of at the first utterance."""
        for lang in langs or self.languages():
            await asyncio.to_thread(self._model(lang).load)

    def stream(self, lang: str) -> VoskStream:
        return VoskStream(self._model(lang), self._vocabulary.get(lang))

    async def transcribe(self, pcm: bytes, lang: str) -> Transcript:
        stream = self.stream(lang)
        await stream.feed(AudioChunk(pcm))
        return await stream.finish()

    def _model(self, lang: str) -> _LanguageModel:
        try:
            return self._models[lang]
        except KeyError:
            have = ", ".join(self._models) or "none"
            raise SpeechError(f"no Vosk model for language {lang!r} (have: {have})") from None


class VoskStream:
    """One utterance through the open and biased recognisers."""

    def __init__(self, model: _LanguageModel, vocabulary: Vocabulary | None) -> None:
        self._model = model
        self._vocabulary = vocabulary
        self._recognisers: _Recognisers | None = None
        self._bytes = 0
        self._last_partial = ""

    async def feed(self, chunk: AudioChunk) -> Transcript | None:
        pcm = check_chunk(chunk)
        if not pcm:
            return None
        started = time.perf_counter()
        if self._recognisers is None:
            self._recognisers = await asyncio.to_thread(self._model.acquire, self._vocabulary)
        open_partial, biased_partial = await asyncio.to_thread(self._recognisers.accept, pcm)
        self._bytes += len(pcm)
        partial = biased_partial if biased_partial and UNK not in biased_partial.split() else open_partial
        if not partial or partial == self._last_partial:
            return None
        self._last_partial = partial
        return Transcript(partial, 0.0, self._model.lang, "vosk", seconds(self._bytes), ms_since(started), final=False)

    async def finish(self) -> Transcript:
        started = time.perf_counter()
        recognisers, self._recognisers = self._recognisers, None
        if recognisers is None:
            return Transcript("", 0.0, self._model.lang, "vosk", 0.0, 0.0)
        try:
            open_, biased = await asyncio.to_thread(recognisers.final)
        finally:
            await asyncio.to_thread(self._model.release, recognisers)
        best = choose(biased, open_, self._model.info.has_unk)
        log.debug(
            "vosk open=%r (%.2f) biased=%r (%.2f) → %s",
            open_.text,
            open_.confidence,
            biased.text if biased else None,
            biased.confidence if biased else 0.0,
            "biased" if best is biased else "open",
        )
        confidence = best.confidence if best.text else 0.0
        words = locate_words(best.text, [(w, c) for w, c in best.words if w != UNK])
        return Transcript(
            best.text,
            round(confidence, 3),
            self._model.lang,
            "vosk",
            seconds(self._bytes),
            ms_since(started),
            words=words,
        )
