"""Numbers in what people say: "3", "twenty-one", "a dozen", "vingt et un", "quatre-vingt-dix-neuf".

`parse_number` reads a whole string (a slot value); `find_quantity` finds how many units an utterance
asks for; `find_ordinal` reads an answer to "which one?" ("the second one", "la dernière").

Decisions, so that callers know what they get:

- Digits are integers; a decimal ("2.6", "1,5") is never a quantity.
- English words run from "zero" to "ninety-nine" (hyphen or space), plus "a dozen" / "N dozen" (12 × N),
  "half a dozen" (6) and "a couple" (2: in speech "a couple of tickets" means two). "a pair of" is not a
  number: a pair is usually the unit itself (socks, gloves).
- French words run from "zéro" to "quatre-vingt-dix-neuf", with or without hyphens and "et"
  ("vingt et un", "soixante-et-onze"), the Belgian and Swiss "septante", "huitante", "octante",
  "nonante", and "une douzaine" (12), "une demi-douzaine" (6), "deux douzaines" (24).
- Articles are not quantities. `find_quantity` never counts "a"/"an", nor a bare "un"/"une", which in
  French is an article far more often than a number ("réserve une table"); "un seul"/"une seule"
  does count. English "one" counts unless it is the pronoun ("the first one", "the red one", "which
  one"): a determiner or ordinal shortly before it, in the same clause, makes it a pronoun.
  `parse_number("un", "fr")` is 1 all the same: a slot value tagged as a quantity was meant as one.
- Sizes are not quantities: a number followed by a unit ("1 kg", "250 g", "2.6kg", "1,5 L"), either
  side of "x"/"×" ("12 x 85 g"), a singular "pack" after it ("80 pack", "6-pack"), or after "pack of" /
  "lot de" ("a pack of 6"). Nor are durations ("two weeks ago", "deux fois"), nor ordinals ("2nd", "2e").
- `find_quantity` returns only values of at least 1.
"""

from __future__ import annotations

import re

from .text import wordlist, words

Reader = tuple[int, int]  # (value, index just past the number's last word)

EN_SMALL = {
    w: n
    for n, w in enumerate(
        wordlist(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen"
        )
    )
}
EN_TENS = {w: 10 * n for n, w in enumerate(wordlist("twenty thirty forty fifty sixty seventy eighty ninety"), start=2)}
FR_SMALL = {
    w: n
    for n, w in enumerate(
        wordlist("zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize")
    )
}
FR_SMALL["une"] = 1
FR_TENS = {
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
    "septante": 70,
    "huitante": 80,
    "octante": 80,
    "nonante": 90,
}

#: Words after a number that make it a size, not a count (folded).
UNITS = frozenset(
    wordlist(
        "g gr gram grams gramme grammes kg kgs kilo kilos kilogram kilograms kilogramme kilogrammes mg "
        "l litre litres liter liters ml cl dl millilitre millilitres centilitre centilitres "
        "oz ounce ounces lb lbs cm mm m w v mah percent pourcent pct"
    )
)
#: Words after a number that make it a duration or a frequency.
TIME_WORDS = frozenset(
    wordlist(
        "second seconds minute minutes hour hours day days week weeks month months year years time times ago "
        "seconde secondes heure heures jour jours semaine semaines mois an ans annee annees fois"
    )
)
#: Letters glued to digits that make an ordinal ("2nd", "2e", "2ème").
ORDINAL_SUFFIXES = frozenset(wordlist("st nd rd th e er ere re eme"))
#: Words that, shortly before "one", make it a pronoun ("the big one", "which one").
EN_DETERMINERS = frozenset(
    wordlist(
        "the this that these those which what a an my your our their his her its other another each every any "
        "no same first second third fourth fifth last next"
    )
)
#: Words that end the clause a determiner is looked for in ("the red ones, just one").
EN_CLAUSE_BREAKS = frozenset(wordlist("just only and but or then"))

EN_ORDINALS = {"first": 1, "former": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1, "latter": -1}
FR_ORDINALS = {
    "premier": 1,
    "premiere": 1,
    "deuxieme": 2,
    "second": 2,
    "seconde": 2,
    "troisieme": 3,
    "quatrieme": 4,
    "cinquieme": 5,
    "dernier": -1,
    "derniere": -1,
}
#: "last time" / "la dernière fois" name a moment, not a position in a list.
_ORDINAL_NOT_BEFORE = frozenset({"time", "times", "fois", "week", "semaine", "month", "mois", "year", "annee"})
#: Words that may surround a bare number naming an option ("number 2", "le 2", "option two").
_OPTION_FILLER = frozenset(wordlist("the one number option no please le la l numero celui celle s il vous te plait"))


def _read_en(ws: list[str], i: int) -> Reader | None:
    nxt = ws[i + 1] if i + 1 < len(ws) else ""
    if ws[i] in ("a", "an") and nxt == "dozen":
        return 12, i + 2
    if ws[i] == "a" and nxt == "couple":
        return 2, i + 2
    if ws[i] == "half" and ws[i + 1 : i + 3] == ["a", "dozen"]:
        return 6, i + 3
    if ws[i] in EN_TENS:
        value, j = EN_TENS[ws[i]], i + 1
        if j < len(ws) and 1 <= EN_SMALL.get(ws[j], 0) <= 9:
            value, j = value + EN_SMALL[ws[j]], j + 1
    elif ws[i] in EN_SMALL:
        value, j = EN_SMALL[ws[i]], i + 1
    else:
        return None
    if j < len(ws) and ws[j] in ("dozen", "dozens"):
        return value * 12, j + 1
    return value, j


def _fr_small(ws: list[str], i: int) -> Reader | None:
    if i >= len(ws):
        return None
    if ws[i] == "dix" and i + 1 < len(ws) and ws[i + 1] in ("sept", "huit", "neuf"):
        return 10 + FR_SMALL[ws[i + 1]], i + 2
    if ws[i] in FR_SMALL:
        return FR_SMALL[ws[i]], i + 1
    return None


def _fr_tail(ws: list[str], j: int, base: int) -> Reader | None:
    """The units after a tens word: "vingt[-et]-un", "soixante-dix-sept", "quatre-vingt-onze"."""
    joined = j < len(ws) and ws[j] == "et"
    tail = _fr_small(ws, j + 1 if joined else j)
    if tail is None or tail[0] == 0:
        return None
    limit = 19 if base in (60, 80) else 9
    if tail[0] > limit or (joined and tail[0] not in (1, 11)):
        return None
    return base + tail[0], tail[1]


def _read_fr(ws: list[str], i: int) -> Reader | None:
    nxt = ws[i + 1] if i + 1 < len(ws) else ""
    if ws[i] in ("un", "une") and nxt == "demi" and ws[i + 2 : i + 3] == ["douzaine"]:
        return 6, i + 3
    if ws[i] in ("un", "une") and nxt == "douzaine":
        return 12, i + 2
    if ws[i] == "quatre" and nxt in ("vingt", "vingts"):
        base, j = 80, i + 2
    elif ws[i] in FR_TENS:
        base, j = FR_TENS[ws[i]], i + 1
    else:
        small = _fr_small(ws, i)
        if small is not None and small[1] < len(ws) and ws[small[1]] in ("douzaine", "douzaines"):
            return small[0] * 12, small[1] + 1
        return small
    return _fr_tail(ws, j, base) or (base, j)


def _read(ws: list[str], i: int, lang: str) -> Reader | None:
    """The number starting at word i, if one does: digits or words of `lang`."""
    if ws[i].isdigit():
        return int(ws[i]), i + 1
    return _read_fr(ws, i) if lang == "fr" else _read_en(ws, i)


def _split(text: str) -> list[tuple[str, int, int]]:
    # "×" becomes "x" (same length, so offsets hold) to read "12 × 85 g" like "12 x 85 g".
    return words(text.replace("×", "x"))


def parse_number(text: str, lang: str) -> int | None:
    """The number `text` is, in digits or words of `lang`; None if it is anything else ("a", "2.5", "some")."""
    ws = [w for w, _, _ in _split(text)]
    while ws and ws[-1] in ("of", "de", "d"):
        ws.pop()
    if not ws:
        return None
    found = _read(ws, 0, lang)
    return found[0] if found is not None and found[1] == len(ws) else None


def find_quantity(text: str, lang: str) -> tuple[int, int, int] | None:
    """(value, start, end) of the first number in `text` that counts the units asked for; None if there is none."""
    spans = _split(text)
    ws = [w for w, _, _ in spans]
    i = 0
    while i < len(ws):
        found = _read(ws, i, lang)
        if found is None:
            i += 1
            continue
        value, j = found
        if value >= 1 and _is_quantity(text, spans, i, j, lang):
            return value, spans[i][1], spans[j - 1][2]
        i = j
    return None


def _is_quantity(text: str, spans: list[tuple[str, int, int]], i: int, j: int, lang: str) -> bool:
    ws = [w for w, _, _ in spans]
    before = ws[i - 1] if i > 0 else ""
    after = ws[j] if j < len(ws) else ""
    glued = j < len(ws) and spans[j][1] == spans[j - 1][2]
    if after in UNITS or after in TIME_WORDS:
        return False
    multipack = (after == "x" and ws[j + 1 : j + 2] and ws[j + 1].isdigit()) or (
        before == "x" and i > 1 and ws[i - 2].isdigit()
    )
    if multipack:  # "12 x 85 g" is a multipack's size; "2 x tickets" still counts
        return False
    if glued and after in ORDINAL_SUFFIXES:
        return False
    if after == "pack" and ws[i] not in ("one", "un", "une", "1"):  # "80 pack", "6-pack": the pack's size
        return False
    if ws[i - 2 : i] in (["pack", "of"], ["lot", "de"], ["pack", "de"], ["paquet", "de"]):
        return False
    if j == i + 1 and ws[i] in ("un", "une"):
        return after in ("seul", "seule")
    if lang == "en" and j == i + 1 and ws[i] == "one":
        return not _pronoun_one(text, spans, i)
    return True


def _pronoun_one(text: str, spans: list[tuple[str, int, int]], i: int) -> bool:
    """Whether "one" at word i is the pronoun: a determiner or ordinal up to 3 words before, same clause."""
    for k in range(i - 1, max(i - 4, -1), -1):
        if re.search(r"[,;.!?]", text[spans[k][2] : spans[k + 1][1]]):
            return False
        word = spans[k][0]
        if word in EN_CLAUSE_BREAKS:
            return False
        if word in EN_DETERMINERS:
            return True
    return False


def find_ordinal(text: str, lang: str, count: int) -> int | None:
    """0-based index of the option an answer names by position among `count` options, else None.

    "the second one" / "le deuxième" → 1, "the last one" / "la dernière" → count - 1, "2nd" / "2e" → 1,
    "number 2" / "option two" / "le 2" → 1; "last time" / "la dernière fois" is a moment, not a position.
    """
    spans = _split(text)
    ws = [w for w, _, _ in spans]
    table = FR_ORDINALS if lang == "fr" else EN_ORDINALS
    position = None
    for k, word in enumerate(ws):
        nxt = ws[k + 1] if k + 1 < len(ws) else ""
        if word in table and nxt not in _ORDINAL_NOT_BEFORE:
            position = table[word]
            break
        glued = k + 1 < len(ws) and spans[k + 1][1] == spans[k][2]
        if word.isdigit() and glued and nxt in ORDINAL_SUFFIXES:
            position = int(word)
            break
    if position is None:
        rest = [w for w in ws if w not in _OPTION_FILLER]
        position = parse_number(" ".join(rest), lang) if rest else None
    if position == -1:
        return count - 1 if count else None
    return position - 1 if position is not None and 1 <= position <= count else None
