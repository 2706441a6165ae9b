"""Words of a short text (an utterance or a name) as a matcher compares them: folded surface
form, lemma, and what kind of word it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from .nlp import nlp, stop_words
from .numbers import UNITS, parse_number
from .text import WORD_RE, fold, wordlist

if TYPE_CHECKING:
    from spacy.tokens import Doc

#: Unit spellings folded to one symbol, so "1 kilo" and "1 kg" are the same size.
UNIT_SYMBOLS = {
    **dict.fromkeys(wordlist("g gr gram grams gramme grammes"), "g"),
    **dict.fromkeys(wordlist("kg kgs kilo kilos kilogram kilograms kilogramme kilogrammes"), "kg"),
    **dict.fromkeys(wordlist("l litre litres liter liters"), "l"),
    **dict.fromkeys(wordlist("ml millilitre millilitres"), "ml"),
    **dict.fromkeys(wordlist("cl centilitre centilitres"), "cl"),
}


#: Words that negate the next one: "Non Bio", "sans pulpe" must not match a request for "bio" or "pulpe"
#: (the negated word is written "!bio", which only a negated word in the other text matches).
NEGATORS = {"en": frozenset({"non", "no", "without"}), "fr": frozenset({"non", "sans"})}


@dataclass(frozen=True)
class Word:
    """One word of a text, folded (lowercase, no accents)."""

    text: str
    """Surface form, e.g. "chevaux"; for a number, its value in digits ("two" → "2"); "!" before a negated word."""
    lemma: str
    """Lemma from the language's pipeline, e.g. "cheval"; equal to `text` when there is none."""
    kind: str
    """"word" (carries meaning), "stop" (function word), "number" or "unit"."""
    surface: str = ""
    """As written, lowercase with accents, for dictionary look-ups ("été")."""
    joined: bool = False
    """Rejoined from pieces a speech recogniser split ("lur pack" → "lurpack"), see `rejoin`."""

    @property
    def forms(self) -> frozenset[str]:
        """The spellings this word may be matched by."""
        return frozenset((self.text, self.lemma))


def analyse(text: str, lang: str) -> list[Word]:
    """The words of `text`, in order (punctuation dropped, hyphenated and glued words split)."""
    return _words(nlp(lang)(text), lang)


def analyse_many(texts: Iterable[str], lang: str) -> list[list[Word]]:
    """`analyse` for many texts at once (spaCy batches them)."""
    return [_words(doc, lang) for doc in nlp(lang).pipe(texts)]


def sizes(words: list[Word]) -> set[str]:
    """Sizes named in the words, as "<number><unit>" ("1kg", "250g", "85g"), units folded to symbols."""
    found = set()
    for before, after in pairwise(words):
        if before.kind == "number" and after.kind == "unit":
            found.add(before.text + UNIT_SYMBOLS.get(after.text, after.text))
    return found


def rejoin(words: list[Word], unknown: Callable[[Word], bool], known: Callable[[str], bool]) -> list[Word]:
    """Rejoin a word a speech recogniser split ("lur pack", "crave and dale"): an `unknown` word, glued to
    one or two neighbours, becomes one word when the result is `known`."""
    words = list(words)
    i = 0
    while i < len(words):
        if not unknown(words[i]):
            i += 1
            continue
        for start, end in ((i - 1, i + 1), (i, i + 2), (i - 1, i + 2), (i - 2, i + 1), (i, i + 3)):
            span = words[start:end] if start >= 0 and end <= len(words) else []
            if not span or any(w.kind == "number" for w in span):
                continue
            joined = "".join(w.text for w in span)
            if known(joined):
                words[start:end] = [Word(joined, joined, "word", joined, joined=True)]
                i = start
                break
        i += 1
    return words


def _words(doc: Doc, lang: str) -> list[Word]:
    stops = stop_words(lang)
    words: list[Word] = []
    negated = False
    for token in doc:
        if token.is_punct:
            negated = False
            continue
        for word in _split(token.text, token.lemma_, stops, lang):
            if negated and word.kind == "word":
                word = Word("!" + word.text, "!" + word.lemma, "word", word.surface)
            negated = word.text in NEGATORS.get(lang, ())
            words.append(Word(word.text, word.lemma, "stop", word.surface) if negated else word)
    for i, word in enumerate(words):
        before = words[i - 1] if i else None
        after = words[i + 1] if i + 1 < len(words) else None
        if word.kind == "unit" and len(word.text) == 1 and (before is None or before.kind != "number"):
            # an elided article ("l'huile", "m'"), not a litre
            words[i] = Word(word.text, word.lemma, "stop", word.surface)
        elif word.text in ("un", "une", "a", "an") and after is not None and after.kind == "unit":
            words[i] = Word("1", word.text, "number")  # "un kilo", "a litre": the article is the number
    return words


def _split(surface: str, lemma: str, stops: frozenset[str], lang: str) -> Iterator[Word]:
    """One spaCy token as words: "porte-clés" → porte, cles; "12x85" → 12, x, 85; "1,5L" → 1,5, l."""
    parts = [m.group() for m in WORD_RE.finditer(surface)]
    folded_lemma = fold(lemma) if lemma else ""
    for part in parts:
        text = fold(part)
        if text.replace(",", ".").replace(".", "", 1).isdigit():
            yield Word(text.replace(",", "."), text.replace(",", "."), "number")
            continue
        value = parse_number(text, lang)
        if value is not None and text not in ("un", "une"):
            yield Word(str(value), text, "number")
            continue
        own_lemma = folded_lemma if len(parts) == 1 and folded_lemma else text
        if text in UNITS:
            kind = "unit"
        elif part.lower() in stops or len(text) == 1:  # unfolded: French "maïs" is corn, "mais" is "but"
            kind = "stop"
        else:
            kind = "word"
        yield Word(text, own_lemma, kind, part.lower())
