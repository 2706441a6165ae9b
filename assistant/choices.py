"""Default resolution of an answer to "which one?": a clear label match, else an ordinal ("the second")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rapidfuzz import fuzz

from .lang.numbers import find_ordinal
from .lang.text import fold
from .skill import Option

T = TypeVar("T")


def ordinal(text: str, lang: str, count: int) -> int | None:
    """0-based index named by an ordinal or digit in `text`, if any."""
    return find_ordinal(text, lang, count)


def resolve_choice(answer: str, options: Sequence[Option[T]], lang: str) -> Option[T] | None:
    """The option the answer names: best label match if clear, else an ordinal."""
    folded = fold(answer)
    scores = [fuzz.partial_token_set_ratio(folded, fold(o.label)) for o in options]
    ranked = sorted(range(len(options)), key=lambda i: -scores[i])
    if ranked and scores[ranked[0]] >= 80 and (len(ranked) == 1 or scores[ranked[0]] - scores[ranked[1]] >= 10):
        return options[ranked[0]]
    index = ordinal(answer, lang, len(options))
    return options[index] if index is not None else None
