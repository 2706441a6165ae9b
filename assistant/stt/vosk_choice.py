"""Which of Vosk's two hypotheses to keep: the grammar-biased one or the open one (see vosk.py)."""

from __future__ import annotations

from dataclasses import dataclass

UNK = "[unk]"
#: How far below the open recogniser's confidence a biased result may be and still win.
MARGIN = 0.1


@dataclass(frozen=True)
class Hypothesis:
    """What one recogniser heard in an utterance."""

    words: tuple[tuple[str, float], ...]
    """Each word with its confidence 0..1."""

    @property
    def text(self) -> str:
        """The words, without `[unk]`."""
        return " ".join(w for w, _ in self.words if w != UNK)

    @property
    def confidence(self) -> float:
        """Mean word confidence, 0 when empty."""
        return sum(c for _, c in self.words) / len(self.words) if self.words else 0.0

    @property
    def unknown(self) -> int:
        """How many `[unk]` words."""
        return sum(w == UNK for w, _ in self.words)


def choose(biased: Hypothesis | None, open_: Hypothesis, has_unk: bool) -> Hypothesis:
    """The biased hypothesis when it can be trusted, else the open one (see the module docstring)."""
    if biased is None or not biased.words:
        return open_
    if biased.confidence + MARGIN < open_.confidence:
        return open_
    if has_unk:
        return open_ if biased.unknown else biased
    heard = {w for w, _ in open_.words}
    shared = sum(w in heard for w, _ in biased.words)
    return biased if 2 * shared >= len(biased.words) else open_


@dataclass(frozen=True)
class GrammarInfo:
    """What a loaded model allows."""

    dynamic: bool
    """True for a small model whose graph accepts a runtime grammar."""
    has_unk: bool
    """True if its lexicon has the `[unk]` word."""
