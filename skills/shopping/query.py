"""What product the user named, as a span of the utterance.

The NLU's `product` slot finds *where* the product is said, but a CRF trained on a few hundred examples
often trims an unfamiliar modifier off its edges: "order green tea" comes back as `tea`, "dog shampoo"
as `shampoo`. Matching the trimmed word would propose the household's everyday tea or shampoo, a
product the user did not ask for. So the slot is an anchor: the mention is the run of words around it
that are not command words ("order", "please", articles before the product, the quantity), with short
links ("of", "à la") bridged when a product word follows. With no slot, the mention is every word of
the utterance that is not a command word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.lang.numbers import UNITS, parse_number
from assistant.lang.text import fold
from assistant.nlu.types import ParseResult
from assistant.speech import DOUBTED, HeardWord

from .matching import PACKAGING
from .vocabulary import COMMAND_WORDS, ELISIONS, LINK_WORDS

#: Words heard for a number right before a container: "order free tins of baked beans" is "three tins"
#: in the many English accents that say "th" as "f", and as recognisers hear robotic voices. Only as the
#: first word after the command, so "sugar free" or "gluten free rolls" stay words of the product.
SOUNDS_LIKE_NUMBER = {"en": {"free": 3}}

#: A word with any inner apostrophes or hyphens ("that's", "re-order", "d'avoine" before elision split).
_WORD = re.compile(r"[\w-]+(?:['’][\w-]+)*")


@dataclass(frozen=True)
class Mention:
    """The product the user named."""

    text: str
    """The words to match against the history, as said."""
    start: int
    """Offset of its first character in the utterance."""
    end: int
    """Offset just past its last character."""


@dataclass(frozen=True)
class _Token:
    word: str
    """Lowercased, with a typographic apostrophe made plain."""
    start: int
    end: int


def product_query(parse: ParseResult, lang: str) -> str:
    """The product mention to match against the history; empty if the user named none."""
    mention = product_mention(parse, lang)
    return mention.text if mention else ""


def product_mention(parse: ParseResult, lang: str) -> Mention | None:
    """Where the user named a product: the slot widened over adjacent product words, or the
    utterance without its command words."""
    tokens = _tokens(parse.text, lang)
    quantity = parse.entity("quantity")
    command = COMMAND_WORDS.get(lang, frozenset())
    kind = [_kind(t, command, LINK_WORDS.get(lang, frozenset()), quantity) for t in tokens]
    for i in range(len(tokens) - 1):  # "un kilo", "1 kg": a size belongs to the product
        if fold(tokens[i + 1].word) in UNITS and parse_number(tokens[i].word, lang) is not None:
            kind[i] = kind[i + 1] = "word"
    heard_as = _number_heard_as(tokens, kind, lang)
    if heard_as is not None:
        kind[heard_as[0]] = "command"
    slot = parse.entity("product")
    if slot is not None and slot.value.strip():
        inside = [i for i, t in enumerate(tokens) if t.start < slot.end and t.end > slot.start]
        if inside:
            first, last = _widen(kind, inside[0], inside[-1])
            return _mention(parse.text, tokens[first : last + 1], kind[first : last + 1], exact=True)
        return Mention(slot.value.strip(), slot.start, slot.end)
    kept = [i for i, k in enumerate(kind) if k == "word"]
    if not kept:
        return None
    return _mention(parse.text, tokens[kept[0] : kept[-1] + 1], kind[kept[0] : kept[-1] + 1], exact=False)


def quantity_heard_as(parse: ParseResult, lang: str) -> int | None:
    """The number a word heard for one stands for ("order free tins of beans": 3), or None
    (`SOUNDS_LIKE_NUMBER`)."""
    tokens = _tokens(parse.text, lang)
    kind = [_kind(t, COMMAND_WORDS.get(lang, frozenset()), LINK_WORDS.get(lang, frozenset()), None) for t in tokens]
    heard_as = _number_heard_as(tokens, kind, lang)
    return heard_as[1] if heard_as else None


def _number_heard_as(tokens: list[_Token], kind: list[str], lang: str) -> tuple[int, int] | None:
    """(index, value) of the first word that is not a command word, when it sounds like a number and a
    container follows it."""
    first = next((i for i, k in enumerate(kind) if k != "command"), None)
    if first is None or first + 1 >= len(tokens):
        return None
    value = SOUNDS_LIKE_NUMBER.get(lang, {}).get(tokens[first].word)
    if value is None or not is_container(tokens[first + 1].word, lang):
        return None
    return first, value


def is_container(word: str, lang: str) -> bool:
    """A container word ("tins", "paquet"), also as recognisers spell a plural with an apostrophe
    ("order free tin's baked beans" was heard for "three tins of")."""
    word = fold(word)
    packaging = PACKAGING.get(lang, frozenset())
    return word in packaging or (lang == "en" and word.endswith("'s") and word[:-2] in packaging)


def content_spans(text: str, mention: Mention, lang: str) -> list[tuple[int, int]]:
    """The words of `mention` that say what the product is, as character offsets into `text`: not its
    container ("tins", "bag"), which belongs with the quantity, as the NLU tags "three tins of baked
    beans", nor its links ("of")."""
    links = LINK_WORDS.get(lang, frozenset())
    return [
        (t.start, t.end)
        for t in _tokens(text, lang)
        if mention.start <= t.start and t.end <= mention.end and t.word not in links and not is_container(t.word, lang)
    ]


def _tokens(text: str, lang: str) -> list[_Token]:
    """Words with offsets; French elisions ("d'avoine", "l'huile") split into the article and the word."""
    out: list[_Token] = []
    for m in _WORD.finditer(text):
        word = m.group().lower().replace("’", "'")
        head, sep, rest = word.partition("'")
        if sep and rest and head + "'" in ELISIONS.get(lang, frozenset()):
            split = m.start() + len(head) + 1
            out.append(_Token(head + "'", m.start(), split))
            out.append(_Token(rest, split, m.end()))
        else:
            out.append(_Token(word, m.start(), m.end()))
    return out


def _kind(token: _Token, command: frozenset[str], links: frozenset[str], quantity: object) -> str:
    """`command` (never part of a product), `link` (part of one only between product words), or `word`."""
    q = quantity
    if q is not None and token.start < q.end and token.end > q.start:  # type: ignore[attr-defined]
        return "command"
    if token.word in links:
        return "link"
    if token.word in command:
        return "command"
    return "word"


def _widen(kind: list[str], first: int, last: int) -> tuple[int, int]:
    """Grow [first, last] over product words on both sides, bridging links that lead to a product word."""
    while first > 0 and kind[first - 1] == "word":
        first -= 1
    while True:
        j = last + 1
        while j < len(kind) and kind[j] == "link":
            j += 1
        if j < len(kind) and kind[j] == "word" and j - last <= 3:
            last = j
            continue
        return first, last


def _mention(text: str, tokens: list[_Token], kinds: list[str], *, exact: bool) -> Mention | None:
    """From the first to the last product word: the exact text (keeps "sans", "with"), or only the
    product words joined (drops command words said in between)."""
    words = [t for t, k in zip(tokens, kinds, strict=True) if k == "word"]
    if not words:
        return None
    start, end = words[0].start, words[-1].end
    said = text[start:end] if exact else " ".join(text[t.start : t.end] for t in words)
    return Mention(said, start, end)


def without_doubted(parse: ParseResult, words: Sequence[HeardWord], below: float = DOUBTED) -> ParseResult | None:
    """The parse with the words speech-to-text doubted (confidence under `below`) blanked out, offsets
    kept, and slots left empty by that dropped; None when no word was doubted. For a second look when
    the words as heard name no product: "reorder the nasty biscuits" (said "digestive") → "biscuits"."""
    text = parse.text
    doubted = [w for w in words if w.probability < below and text[w.start : w.end] == w.text]
    if not doubted:
        return None
    chars = list(text)
    for w in doubted:
        chars[w.start : w.end] = " " * (w.end - w.start)
    clear = "".join(chars)
    entities = tuple(e for e in parse.entities if clear[e.start : e.end].strip())
    return replace(parse, text=clear, entities=entities)
