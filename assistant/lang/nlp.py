"""Cached spaCy pipelines, loaded once per process and language.

English has no packaged statistical model here, so `nlp("en")` is a blank pipeline with spaCy's
lookup lemmatizer (tables from spacy-lookups-data): context-free, so a word gets the same lemma in a
name and in a query. French uses `fr_core_news_sm` for its rule lemmatizer (elision, plural
and gender), keeping only the components that lemmatizer needs: the parser and NER would triple the
time per utterance and nothing here reads them.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy itself is imported inside the functions: importing it costs ~0.7 s, which the chat REPL should
# not pay before its first prompt (the skill warms it up in a background thread instead).

log = logging.getLogger(__name__)

#: Packaged pipelines per language, and the components they do not need for lemmas.
_PACKAGED = {"fr": ("fr_core_news_sm", ("parser", "ner", "senter"))}


@cache
def nlp(lang: str) -> Language:
    """The tokenizer + lemmatizer pipeline for `lang` ("en", "fr"); other languages get a blank tokenizer."""
    import spacy

    started = time.perf_counter()
    if lang in _PACKAGED:
        package, unneeded = _PACKAGED[lang]
        pipeline = spacy.load(package, exclude=list(unneeded))
    elif lang == "en":
        pipeline = spacy.blank("en")
        pipeline.add_pipe("lemmatizer", config={"mode": "lookup"})
        pipeline.initialize()
    else:
        log.warning("no lemmatizer for language %r: matching falls back to surface forms", lang)
        pipeline = spacy.blank(lang)
    log.info(
        "loaded spaCy pipeline for %s (%s) in %.2f s",
        lang,
        ", ".join(pipeline.pipe_names) or "tokenizer",
        time.perf_counter() - started,
    )
    return pipeline


@cache
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for `lang` (lowercase), without loading a model or making a tokenizer (Korean's
    needs mecab)."""
    import spacy  # the package first: `from spacy.util import …` while another thread imports spacy
    # finds spacy.util half made (circular import)

    return frozenset(spacy.util.get_lang_class(lang).Defaults.stop_words)
