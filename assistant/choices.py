"""Default resolution of an answer to "which one?": ordinals ("the second", "le premier", "2") or a label match."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

from rapidfuzz import fuzz

from .skill import Option

T = TypeVar("T")

_ORDINALS = {
    "en": {"first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3, "three": 3,
           "fourth": 4, "four": 4, "last": -1, "latter": -1, "former": 1},
    "fr": {"premier": 1, "premiere": 1, "un": 1, "une": 1, "deuxieme": 2, "second": 2, "seconde": 2, "deux": 2,
           "troisieme": 3, "trois": 3, "quatrieme": 4, "quatre": 4, "dernier": -1, "derniere": -1},
}


def fold(text: str) -> str:
    """Lowercase and strip accents, for comparisons."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ordinal(text: str, lang: str, count: int) -> int | None:
    """0-based index named by an ordinal or digit in `text`, if any."""
    words = re.findall(r"[\w']+", fold(text))
    table = _ORDINALS.get(lang, {})
    for word in words:
        if word.isdigit() and 1 <= int(word) <= count:
            return int(word) - 1
        n = table.get(word)
        if n is not None and (n == -1 or n <= count):
            return count - 1 if n == -1 else n - 1
    return None


def resolve_choice(answer: str, options: Sequence[Option[T]], lang: str) -> Option[T] | None:
    """The option the answer names: best label match if clear, else an ordinal."""
    folded = fold(answer)
    scores = [fuzz.partial_token_set_ratio(folded, fold(o.label)) for o in options]
    ranked = sorted(range(len(options)), key=lambda i: -scores[i])
    if ranked and scores[ranked[0]] >= 80 and (len(ranked) == 1 or scores[ranked[0]] - scores[ranked[1]] >= 10):
        return options[ranked[0]]
    index = ordinal(answer, lang, len(options))
    return options[index] if index is not None else None
