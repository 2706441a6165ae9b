"""What the user put on (or took off) the list, read from the utterance itself.

"add milk and two dozen eggs to my list" → milk; 2 dozen eggs. The NLU says what the user wants done;
the items are read here: the list phrase ("to my list", "à ma liste") and the command words around the
items are dropped, the rest is split at commas and "and" / "et", and each part is read as
[quantity] [unit [of]] name ("deux boîtes de thon", "a dozen eggs", "du lait").

Two names are the same item when their words match one for one, accents, case and plurals aside
("egg" / "Eggs", "pâtes" / "pates", "œufs" / "oeuf"), articles and "of" / "de" ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.lang.numbers import parse_number
from assistant.lang.terms import analyse
from assistant.lang.text import fold, wordlist

#: "to my list", "on the shopping list", "à ma liste", "sur la liste de courses".
LIST_PHRASE = {
    "en": re.compile(
        r"\b(?:to|on|onto|in|into|from|off|of|at)?\s*(?:my|the|our)\s+(?:shopping\s+|grocery\s+)?list\b", re.I
    ),
    "fr": re.compile(r"(?:\b(?:à|a|sur|dans|de|depuis)\s+)?\b(?:ma|la|notre)\s+liste(?:\s+de\s+courses)?\b", re.I),
}
#: Words around the items that never belong to one (folded).
COMMAND = {
    "en": frozenset(
        wordlist(
            "add put please can could would will you also and i we need want to write down jot remove delete "
            "take cross scratch drop erase off out get rid of us me oh ok okay hey too as well thanks thank "
            "just pop stick note"
        )
    ),
    "fr": frozenset(
        wordlist(
            "ajoute ajouter ajoutes ajoutez rajoute rajouter mets met mettre mettez note noter notez inscris "
            "inscrire retire retirer retirez enleve enlever enlevez supprime supprimer supprimez efface effacer "
            "raye rayer ote oter peux pourrais peux-tu tu vous s il te plait stp svp aussi je j veux voudrais "
            "faut me m moi nous et merci sur"
        )
    ),
}
#: Articles and partitives before an item ("some", "du", "de l'"); never a quantity (folded).
ARTICLES = {
    "en": frozenset(wordlist("a an some the more any few")),
    "fr": frozenset(wordlist("du de d des la le les l un une quelques encore")),
}
#: Units and containers counted in ("two dozen eggs", "deux boîtes de thon"), folded.
UNITS = {
    "en": frozenset(
        wordlist(
            "dozen dozens bottle bottles box boxes pack packs packet packets bag bags can cans tin tins jar jars "
            "carton cartons loaf loaves bunch bunches tub tubs kilo kilos kg gram grams g litre litres liter "
            "liters l pound pounds lb lbs roll rolls slice slices piece pieces"
        )
    ),
    "fr": frozenset(
        wordlist(
            "douzaine douzaines bouteille bouteilles boite boites paquet paquets sachet sachets sac sacs pot pots "
            "brique briques pack packs barquette barquettes kilo kilos kg gramme grammes g litre litres l "
            "tranche tranches rouleau rouleaux botte bottes canette canettes morceau morceaux plaquette plaquettes"
        )
    ),
}
DOZEN = frozenset(wordlist("dozen dozens douzaine douzaines"))
#: Words that separate two items.
SEPARATOR = {
    "en": re.compile(r"\s*(?:[,;]|\band\b|&|\bplus\b|\bthen\b)\s*", re.I),
    "fr": re.compile(r"\s*(?:[,;]|\bet\b|&|\bplus\b|\bpuis\b|\bainsi que\b)\s*", re.I),
}
#: Ignored when comparing names (folded).
NAME_STOPS = {
    "en": frozenset(wordlist("of the a an some")),
    "fr": frozenset(wordlist("de d du des la le les l a au aux en")),
}
#: A word, or a French elided article on its own ("d'", "l'").
_TOKEN = re.compile(r"(?:qu|[dljmtsnc])['’](?=\w)|\w+(?:-\w+)*", re.I)


@dataclass(frozen=True)
class Said:
    """One item as the user said it."""

    name: str
    """The item's name as said ("eggs", "lait d'avoine")."""
    quantity: int | None
    """How many, if said ("two dozen eggs" → 2); None otherwise."""
    unit: str = ""
    """The unit or container as said ("dozen", "boîtes"), or empty."""


def parse_items(text: str, lang: str) -> list[Said]:
    """Every item named in an add / remove request, in the order said."""
    span = _item_span(text, lang)
    return [item for part in SEPARATOR[lang].split(span) if (item := _read_item(part, lang)) is not None]


def _item_span(text: str, lang: str) -> str:
    """The utterance without the list phrase and the command words before and after the items."""
    text = LIST_PHRASE[lang].sub(" , ", text)
    text = re.sub(r"[?!.]+", " ", text)
    command = COMMAND[lang]
    tokens = [(m.start(), m.end(), _fold_token(m.group())) for m in _TOKEN.finditer(text)]
    first, last = 0, len(tokens)
    while first < last and tokens[first][2] in command:
        first += 1
    while last > first and (tokens[last - 1][2] in command or tokens[last - 1][2] in ARTICLES[lang]):
        last -= 1
    if first >= last:
        return ""
    return text[tokens[first][0] : tokens[last - 1][1]].strip(" ,;")


def _fold_token(token: str) -> str:
    return fold(token).rstrip("'")


def _read_item(part: str, lang: str) -> Said | None:
    """[quantity] [unit [of]] name, articles skipped ("a dozen eggs", "deux boîtes de thon", "du lait")."""
    tokens = [(m.start(), m.end(), _fold_token(m.group())) for m in _TOKEN.finditer(part)]
    i = 0
    while i < len(tokens) and tokens[i][2] in ARTICLES[lang] | COMMAND[lang]:
        i += 1
    quantity, i = _read_quantity(tokens, i, lang)
    unit = ""
    if i < len(tokens) - 1 and tokens[i][2] in UNITS[lang]:
        unit = part[tokens[i][0] : tokens[i][1]]
        i += 1
        if quantity is None:
            quantity = 1  # "a dozen eggs", "a loaf of bread"
        while i < len(tokens) - 1 and tokens[i][2] in ("of", "de", "d"):
            i += 1
    while i < len(tokens) - 1 and tokens[i][2] in ARTICLES[lang]:
        i += 1
    if i >= len(tokens):
        return None
    return Said(part[tokens[i][0] : tokens[-1][1]], quantity, unit)


def _read_quantity(tokens: list[tuple[int, int, str]], i: int, lang: str) -> tuple[int | None, int]:
    """The longest number (up to 4 words) starting at token i, not counting "dozen" in it; (None, i) if none."""
    for j in range(min(len(tokens) - 1, i + 4), i, -1):
        words = [t[2] for t in tokens[i:j]]
        if DOZEN & set(words):
            continue
        value = parse_number(" ".join(words), lang)
        if value is not None and value >= 1:
            return value, j
    return None, i


def same_item(a: str, b: str, lang: str) -> bool:
    """Whether two names are the same item: word for word, accents, case and plurals aside."""
    fa, fb = name_forms(a, lang), name_forms(b, lang)
    return len(fa) == len(fb) and all(x & y for x, y in zip(fa, fb, strict=True))


def name_forms(name: str, lang: str) -> list[frozenset[str]]:
    """Per meaningful word of `name`: the spellings it may be matched by (surface, singulars, lemma)."""
    stops = NAME_STOPS.get(lang, frozenset())
    if lang == "en":
        words = [(w.text, w.lemma) for w in analyse(name, lang) if w.text not in stops]
    else:
        words = [(w, w) for w in (_fold_token(m.group()) for m in _TOKEN.finditer(name)) if w not in stops]
    return [frozenset({text, lemma, *_singulars(text, lang)}) for text, lemma in words]


def _singulars(word: str, lang: str) -> set[str]:
    if len(word) <= 3:
        return set()
    if lang == "fr":
        if word.endswith("eaux"):
            return {word[:-1]}
        if word.endswith("aux"):
            return {word[:-3] + "al", word[:-1]}
        return {word[:-1]} if word[-1] in "sx" else set()
    if word.endswith("ies"):
        return {word[:-3] + "y", word[:-1]}
    if word.endswith("es"):
        return {word[:-2], word[:-1]}
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return {word[:-1]}
    return set()


def display(item: Said, lang: str) -> str:
    """ "milk", "3 lemons", "2 dozen eggs", "2 bottles of water", "2 boîtes de thon", "une douzaine d'œufs"."""
    count = "" if item.quantity is None else f"{item.quantity} "
    if not item.unit:
        return f"{count}{item.name}"
    if lang == "en":
        return f"{count}{item.unit}{' ' if fold(item.unit) in DOZEN else ' of '}{item.name}"
    link = "d'" if _elides(item.name) else "de "
    return f"{count}{item.unit} {link}{item.name}"


def _elides(name: str) -> bool:
    """Whether French "de" becomes "d'" before `name` ("d'huile", "d'œufs"; but "de haricots")."""
    folded = fold(name)
    return folded[:1] in tuple("aeiouy") or (folded[:1] == "h" and not folded.startswith(H_ASPIRE))


#: Common food words whose h is aspirated: "de haricots", "de homard".
H_ASPIRE = tuple(wordlist("haricot hachis homard hareng houmous"))
