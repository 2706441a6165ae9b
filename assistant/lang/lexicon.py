"""Whether a word is a word of the language (in spaCy's lemma tables from spacy-lookups-data).

Sound-alike matching is for words a speech recogniser garbled or a name it never heard of
("jonsen", "mackdonald"); a real word like "battery" or "carottes" was most likely heard right, and
matching it by sound to "butter" or "carte" would answer a question nobody asked.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import TYPE_CHECKING

from .nlp import stop_words

if TYPE_CHECKING:
    from spacy.lookups import Table

log = logging.getLogger(__name__)


@cache
def _lexicon(lang: str) -> tuple[Table | None, frozenset[str]]:
    """(table of inflected forms, set of base forms) for `lang`; (None, empty) when there are none."""
    from spacy.lookups import load_lookups

    started = time.perf_counter()
    try:
        tables = load_lookups(lang, ["lemma_lookup"])
        forms = tables.get_table("lemma_lookup")
    except (ValueError, KeyError):
        return None, frozenset()
    base: set[str] = set()
    if lang == "en":  # the English lookup table maps inflected forms only: base forms come from the index
        index = load_lookups(lang, ["lemma_index"]).get_table("lemma_index")
        base = {word for words in index.values() for word in words}
    log.debug("lexicon %s loaded in %.2f s", lang, time.perf_counter() - started)
    return forms, frozenset(base)


def is_word(word: str, lang: str) -> bool:
    """Whether `word` (lowercase, accents kept) is a known word form of `lang`."""
    forms, base = _lexicon(lang)
    return word in base or word in stop_words(lang) or (forms is not None and word in forms)
