"""Fuzzy lookup of a spoken or typed word in a small vocabulary: typos, dropped or doubled letters,
swapped letters ("adress", "recieve", "calender"), but not a different short word.

Similarity is Damerau-Levenshtein (optimal string alignment) normalised by the longer word, so one
swap or one missing letter costs one edit. Short words are where fuzzy matching goes wrong: "rice" is
one edit from "nice", "angel" one swap from "angle", "night" one from "light". So the edits allowed grow
with length: none up to 4 letters, one from 5 (and at 5 letters only if the lengths differ: a
dropped or doubled letter, not a substituted one), two from 9; and never in the first letter, which
people and recognisers rarely get wrong ("couches" is not "douche").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Least spelling similarity of two words with the same phonetic key ("ficili" / "fusilli": 0.57).
SOUND_MIN = 0.55
#: The same for a word rejoined from pieces a recogniser split ("live as a" → "liveasa" / "lavazza"):
#: three or more pieces spell a name loosely, and the sound key carries the match.
JOINED_SOUND_MIN = 0.4


def allowed_edits(a: str, b: str) -> int:
    """How many edits may separate two words for them to count as the same word."""
    longest = max(len(a), len(b))
    if longest <= 4 or a[:1] != b[:1]:  # people and recognisers rarely get the first letter wrong
        return 0
    if longest == 5:
        return 1 if len(a) != len(b) else 0
    return 1 if longest <= 8 else 2


class FuzzyIndex:
    """A vocabulary that answers "which of your words could this word be, and how close?"."""

    def __init__(self, vocabulary: Iterable[str], sounds: Callable[[str], Iterable[str]] | None = None) -> None:
        self._words = sorted(set(vocabulary))
        self._exact = frozenset(self._words)
        self._sound_of = sounds
        self._by_sound: dict[str, set[str]] = {}
        if sounds is not None:
            for word in self._words:
                for key in sounds(word):
                    self._by_sound.setdefault(key, set()).add(word)

    def __len__(self) -> int:
        return len(self._words)

    def similar(self, word: str, by_sound: bool = False, sound_min: float = SOUND_MIN) -> dict[str, float]:
        """Vocabulary words `word` may be, with a similarity in (0, 1]; 1.0 for the word itself.
        `by_sound` also accepts words that sound alike and are spelt at least `sound_min` alike
        (see `_sounds_like`)."""
        found = {word: 1.0} if word in self._exact else {}
        if len(word) < 4:  # no word of 3 letters is within the edits allowed of another
            return found
        cutoff = 1.0 - 2 / max(len(word), 5)  # lets through anything within two edits, whichever word is longer
        for other, score, _ in process.extract(
            word, self._words, scorer=OSA.normalized_similarity, score_cutoff=cutoff, limit=None
        ):
            if other not in found and OSA.distance(word, other) <= allowed_edits(word, other):
                found[other] = score
        if by_sound and self._sound_of is not None:
            found.update(self._sounds_like(word, found, sound_min))
        return found

    def _sounds_like(self, word: str, found: dict[str, float], sound_min: float) -> dict[str, float]:
        """Words that sound the same and are spelt nearly alike ("jonsen" / "johnson", "catchup" / "ketchup"):
        a shared phonetic key alone is too loose ("rice" / "rose": both RS), so long words only, and by
        default at most 45 % of the letters edited. The first letter may differ here (c/k, ph/f): the shared
        key already says the first sound is the same."""
        extra: dict[str, float] = {}
        for key in self._sound_of(word) if self._sound_of is not None else ():
            for other in self._by_sound.get(key, ()):
                if other in found or max(len(word), len(other)) < 6 or not _same_start(word, other):
                    continue
                score = OSA.normalized_similarity(word, other)
                if score >= sound_min:
                    extra[other] = score
        return extra


def _same_start(a: str, b: str) -> bool:
    """Both start with the same character, or both with a letter (a marked word such as "!pulpe", a
    negated one, only ever matches a word marked alike)."""
    return a[:1] == b[:1] or (a[:1].isalpha() and b[:1].isalpha())
