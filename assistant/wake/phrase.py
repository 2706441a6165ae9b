"""The wake phrase (`wake.model: phrase`): spotted at the start of a whole utterance's transcript.

Speech-to-text rarely writes a made-up name the same way twice ("Hey, Shopper!", "hey shoper",
"hey chopper"), so the phrase is compared letter by letter with the first words of the transcript,
ignoring case, accents and punctuation, after at most two filler words ("ok", "um", "euh").
The first one, two or three words more than the phrase has are tried, so "hey shop per" or
"heyshopper" match too; the best-scoring window wins.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from ..lang.text import fold

log = logging.getLogger(__name__)

#: Letter similarity (0..100, rapidfuzz `ratio` of the words run together) needed to count as the phrase.
#: "hey shoper" (95), "hey chopper" (90) and "hi shopper" (84.2) match; "hey shop for milk" (82.4) does not.
MIN_SCORE = 84.0
#: Filler words that may come before the phrase, per language (normalised: lowercase, no accents).
FILLERS = {
    "en": frozenset({"ok", "okay", "um", "umm", "uh", "uhm", "er", "erm", "hmm", "mm", "so", "well", "oh", "and"}),
    "fr": frozenset({"ok", "okay", "euh", "heu", "hum", "hmm", "bon", "ben", "bah", "alors", "oh", "et"}),
}
#: At most this many filler words are skipped.
MAX_FILLERS = 2
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SEPARATORS = " \t\n,.;:!?¡¿…-–—'’\"«»“”()"


@dataclass(frozen=True)
class _Word:
    """One word of a transcript."""

    folded: str
    """Lowercase, without accents or apostrophes."""
    end: int
    """Index in the transcript just after the word."""


class PhraseWake:
    """Spots a wake phrase ("hey shopper") at the start of transcripts, tolerating transcription errors."""

    def __init__(self, phrase: str, lang: str, *, min_score: float = MIN_SCORE) -> None:
        words = [w.folded for w in _words(phrase)]
        if not words:
            raise ValueError(f"the wake phrase {phrase!r} has no words")
        self.phrase = phrase.strip()
        """The phrase as configured (`wake.phrase`)."""
        self.lang = lang
        """Language of the transcripts (chooses the filler words)."""
        self.min_score = min_score
        """Similarity 0..100 needed to match."""
        self._target = "".join(words)
        self._length = len(words)
        self._fillers = FILLERS.get(lang.split("-")[0].lower(), FILLERS["en"]) - {words[0]}

    def score(self, text: str) -> float:
        """How well the start of `text` matches the phrase (0..100), fillers skipped."""
        return self._best(_words(text))[0]

    def match(self, text: str) -> str | None:
        """What was said after the wake phrase ("" if nothing), or None when `text` does not start with it."""
        score, end = self._best(_words(text))
        if score < self.min_score:
            log.debug("wake phrase not in %r (score %.0f)", text, score)
            return None
        log.debug("wake phrase in %r (score %.0f)", text, score)
        return text[end:].lstrip(_SEPARATORS).strip()

    def _best(self, words: list[_Word]) -> tuple[float, int]:
        """The best score over starts (after 0..MAX_FILLERS fillers) and window lengths, and where it ends."""
        best = (0.0, 0)
        for start in range(MAX_FILLERS + 1):
            if start > 0 and (start > len(words) or words[start - 1].folded not in self._fillers):
                break
            for length in (self._length, self._length - 1, self._length + 1):
                window = words[start : start + length]
                if length < 1 or len(window) < length:
                    continue
                score = fuzz.ratio(self._target, "".join(w.folded for w in window))
                if score > best[0]:
                    best = (score, window[-1].end)
        return best


def _words(text: str) -> list[_Word]:
    return [_Word(fold(m.group()).replace("'", "").replace("’", ""), m.end()) for m in _WORD.finditer(text)]
