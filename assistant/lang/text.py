"""Text normalisation for comparisons: case, accents, ligatures and typographic apostrophes."""

from __future__ import annotations

import re
import unicodedata

#: Ligatures that NFKD leaves alone but people type either way ("œuvre" / "oeuvre").
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "‘": "'", "ʼ": "'"})

#: Words and numbers with their offsets; hyphens, spaces and punctuation separate them, and a decimal
#: comma or point stays inside its number ("1,5", "2.6").
WORD_RE = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def fold(text: str) -> str:
    """Lowercase, without accents or ligatures: "Qualità Œuvre" → "qualita oeuvre"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[tuple[str, int, int]]:
    """Folded words and numbers of `text` with their (start, end) offsets in the original text.

    Folding never changes the length of a precomposed character's base letter, but NFKD can turn one
    character into several, so offsets come from the original string, not the folded one.
    """
    return [(fold(m.group()), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def wordlist(text: str) -> tuple[str, ...]:
    """The words of a space-separated list: language data reads better as running text than as a literal."""
    return tuple(text.split())
