"""A reply cut into the pieces the voice speaks one at a time, so playback starts after the first one.

Rules (English and French): a sentence ends at `.`, `!`, `?` or `…` (with any closing quote or bracket)
followed by a space or the end of the text. A full stop between digits never ends one ("€14.90",
"1.5 kg"; French decimals use a comma, "14,90 €", which never ends one either). Known abbreviations
("Mr.", "Dr.", "St.", "e.g.", "M.", "Mme.") and single-letter initials do not end a sentence; "etc."
ends one only before a capital. A long sentence is also cut at `;`. A fragment of one or two words
("Okay.", "Sure!") is spoken together with the sentence after it, so no clip is a lone word.

`first_clause` additionally cuts a long first sentence at a comma or colon, and a first piece still long
after its first few words, before a name or a quotation: Piper's time to synthesise grows with
the sentence, and the first piece is what the user waits for (timings in piper.py).
"""

from __future__ import annotations

import re

#: Words that end with a full stop without ending the sentence (lowercase, without their last dot).
ABBREVIATIONS = {
    "en": frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "e.g", "i.e", "approx"}),
    "fr": frozenset({"m", "mm", "mme", "mmes", "mlle", "mlles", "dr", "st", "ste", "pr", "cf", "p.ex", "env"}),
}
#: Abbreviations that end the sentence when the next word starts with a capital.
ENDING_ABBREVIATIONS = frozenset({"etc"})
#: Abbreviations that stand before a number ("No. 5", "n°. 3"); before anything else they are words.
NUMBER_ABBREVIATIONS = frozenset({"no", "n°", "nos", "vol", "réf", "ref"})
#: A fragment with fewer words than this is merged into the next sentence.
MIN_WORDS = 3
#: A sentence longer than this may be cut at a semicolon.
LONG_SENTENCE_CHARS = 80
#: Neither side of a semicolon or comma cut may be shorter than this many characters.
MIN_PART_CHARS = 15

# A run of terminators, closing quotes/brackets, then whitespace or the end of the text.
_BOUNDARY = re.compile(r"(?:\.{3}|[.!?…])+[\"'”’»)\]]*(?=\s|$)")
_WORD_BEFORE_DOT = re.compile(r"(\S+)\.$")
_SEMICOLON = re.compile(r";\s+")
#: Where a first sentence may be cut: after a comma or a colon followed by a space (French puts one before
#: the colon too: "Lequel voulez-vous : …"); never inside "14,90" or "14:30".
_CLAUSE = re.compile(r"\s?[,:]\s+")
_OPENING_QUOTES = frozenset("\"“«‘'")


def split_sentences(text: str, lang: str = "en") -> list[str]:
    """`text` as sentences, whitespace-normalised, short fragments merged forward; [] for blank text."""
    text = " ".join(text.split())
    if not text:
        return []
    abbreviations = ABBREVIATIONS.get(lang, ABBREVIATIONS["en"])
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if _is_abbreviation(text, match, abbreviations):
            continue
        pieces.append(text[start:end].strip())
        start = end
    pieces.append(text[start:].strip())
    pieces = [p for piece in pieces if piece for p in _split_long(piece)]
    return _merge_short(pieces)


def first_clause(sentences: list[str], max_chars: int = 40) -> list[str]:
    """`sentences` with a first sentence longer than `max_chars` cut after its first comma or colon that
    leaves at least MIN_WORDS words and MIN_PART_CHARS characters on each side; a first piece still
    longer than `max_chars` is cut once more before a name or a quotation (`_cut_at_word`)."""
    if not sentences or len(sentences[0]) <= max_chars:
        return list(sentences)
    first = sentences[0]
    for match in _CLAUSE.finditer(first):
        head, tail = first[: match.end()].rstrip(), first[match.end() :]
        if len(tail) < MIN_PART_CHARS or len(tail.split()) < MIN_WORDS:
            break
        if len(head) >= MIN_PART_CHARS and len(head.split()) >= MIN_WORDS:
            lead = _cut_at_word(head) if len(head) > max_chars else [head]
            return [*lead, tail, *sentences[1:]]
    return [*_cut_at_word(first), *sentences[1:]]


def _cut_at_word(sentence: str) -> list[str]:
    """A long sentence cut before its first capitalised word (a name, as in "You usually get |
    Lavazza…") or opening quotation mark ("I couldn't find | "done so"…") after a lead-in of a few words:
    the lead-in is synthesised in a few tens of milliseconds, the rest while it plays. No such word, no
    cut (never inside "the oat | milk")."""
    words = sentence.split()
    for n in range(MIN_WORDS, len(words) - MIN_WORDS + 1):
        head = " ".join(words[:n])
        starts = words[n][:1].isupper() or words[n][:1] in _OPENING_QUOTES
        if len(head) >= MIN_PART_CHARS and starts and head[-1:].isalpha():
            return [head, " ".join(words[n:])]
    return [sentence]


def _is_abbreviation(text: str, match: re.Match[str], abbreviations: frozenset[str]) -> bool:
    """True when the full stop at `match` belongs to a word like "Mr." rather than ending a sentence."""
    if match.group() != ".":
        return False
    found = _WORD_BEFORE_DOT.search(text, 0, match.end())
    if found is None:
        return False
    raw = found.group(1).lstrip("(\"'«“‘")
    word = raw.lower()
    following = text[match.end() :].lstrip()
    if word in ENDING_ABBREVIATIONS:
        return not following[:1].isupper()
    if word in NUMBER_ABBREVIATIONS:
        return following[:1].isdigit()
    if word in abbreviations:
        return bool(following)
    # An initial ("J. Smith"); not a unit ("500 g. Shall I…") nor the word "I".
    return len(raw) == 1 and raw.isupper() and raw != "I" and following[:1].isupper()


def _split_long(sentence: str) -> list[str]:
    """A long sentence cut at semicolons where both sides are long enough to stand alone."""
    if len(sentence) <= LONG_SENTENCE_CHARS:
        return [sentence]
    parts: list[str] = []
    start = 0
    for match in _SEMICOLON.finditer(sentence):
        head, tail = sentence[start : match.start() + 1], sentence[match.end() :]
        if len(head) >= MIN_PART_CHARS and len(tail) >= MIN_PART_CHARS:
            parts.append(head.strip())
            start = match.end()
    parts.append(sentence[start:].strip())
    return parts


def _merge_short(pieces: list[str]) -> list[str]:
    """Fragments of fewer than MIN_WORDS words joined to the sentence after them."""
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}" if carry else piece
        if len(piece.split()) < MIN_WORDS:
            carry = piece
        else:
            merged.append(piece)
            carry = ""
    if carry:
        merged.append(carry)
    return merged
