"""Which product of the household's own history the user means ("the coffee", "persill", "laits d'avoine").

A reorder must never propose something the household never bought, so a product qualifies only if every
meaningful word of the query is in its name or brand: as said, as a lemma ("bags" → "bag"), accents folded,
or, for a word that is no word of the language (a typo, a garbled brand), within a small spelling distance
or sounding alike ("persill", "pedigri"). A word of the language no product has may still be a recogniser's
mishearing when it sounds exactly like a word of the products the rest of the query names ("pen pasta").
So "dog shampoo" finds nothing when the household bought dog food and a shampoo. Request words ("usual",
"please"), function words and quantities are ignored; packaging words ("bags of dog food") count only where
the name has them; a size ("the 1 kg one") adds to a score.

The best product is proposed when it scores clearly above the rest; otherwise the close ones are offered
("coffee": beans or ground?), unless habit settles it safely: one bought far more often, the others not for
weeks ("tea" → the everyday tea, not the Earl Grey bought once in August).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from statistics import fmean
from typing import Literal

from rapidfuzz.distance import OSA

from assistant.lang.fuzzy import JOINED_SOUND_MIN, FuzzyIndex
from assistant.lang.lexicon import is_word
from assistant.lang.numbers import find_ordinal
from assistant.lang.phonetic import sound_keys
from assistant.lang.terms import Word, analyse, analyse_many, rejoin, sizes
from assistant.lang.text import fold, wordlist

log = logging.getLogger(__name__)


#: Words of a request that never name a product (folded).
FILLER = {
    "en": frozenset(
        wordlist(
            "usual favourite favorite regular normal standard same thing things stuff product products item items "
            "kind sort type brand one ones again please thanks reorder reordered order ordered buy get want need "
            "like more some go ahead another bring grab pick send add purchase repurchase rebuy refill restock "
            "top running ran run low out lot lots bit actually just yeah yes okay ok um uh hmm well think guess "
            "maybe let lets shop basket"
        )
    ),
    "fr": frozenset(
        wordlist(
            "habituel habituelle habituels habitude meme truc trucs chose choses produit produits marque sorte genre "
            "type encore svp stp merci commande commander recommande recommander rachete racheter achete acheter "
            "reprends reprendre prends prendre veux voudrais voudrait aimerais faut besoin manque euh bon alors ben "
            "panier remets remettre mets ajoute ajouter vas and"
        )
    ),  # "and": "Head & Shoulders" said in French
}
#: Containers a quantity is counted in ("3 bags of dog food"): optional, unless nothing else is said.
PACKAGING = {
    "en": frozenset(
        wordlist(
            "bag bags pack packs packet packets box boxes bottle bottles carton cartons jar jars tin tins "
            "can cans tub tubs case cases crate crates bunch loaf loaves roll rolls"
        )
    ),
    "fr": frozenset(
        wordlist(
            "sac sacs paquet paquets boite boites bouteille bouteilles brique briques pot pots pack packs "
            "lot lots carton cartons sachet sachets bidon bidons barquette barquettes rouleau rouleaux"
        )
    ),
}
#: Everyday names that differ from the shop's wording ("toilet paper" for "toilet tissue"), scored a little below
#: the shop's own word. A vague one counts only beside another word of the name ("paper" alone is any paper).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "paper": ("tissue", "roll"),
        "softener": ("conditioner",),
        "diapers": ("nappies",),
        "loo": ("toilet",),
        "detergent": ("laundry",),
        "cream": ("soft",),  # cream cheese
        "towel": ("roll",),  # kitchen towels
        "towels": ("roll",),
    },
    "fr": {"wc": ("toilette",), "adoucissant": ("assouplissant",), "assouplissant": ("adoucissant",)},
}
VAGUE = frozenset({"paper", "papier", "cream", "towel", "towels"})
SYNONYM_SCORE = 0.9
#: An answer with one of these refuses an option ("not the beans"): too risky to read, so ask again.
#: ("no" / "non" are left out: "no, the ground one" picks the ground coffee.)
NEGATIONS = {"en": frozenset({"not", "neither", "nor"}), "fr": frozenset({"pas", "ni"})}
#: Answers that pick by habit: the option bought most recently, or most often.
LAST_TIME = {"en": ("last time", "same as before"), "fr": ("derniere fois", "comme avant")}
USUAL = {"en": ("usual", "always"), "fr": ("habitude", "habituel", "toujours")}
#: Similarity given to a word read as misheard (see `ProductMatcher._misheard`): below any spelling match.
HEARD_ALIKE_SCORE = 0.7
#: A garbled word's sound key ("delph" TLF) may be one sound off a product word's (dove TF), or end in it,
#: only when it has at least this many sounds: two-sound keys one apart are too many ("FK" / "FT").
GARBLE_KEY_MIN = 3
#: Least spelling similarity for a word of an answer to "which one?" to name an option's word.
CHOICE_MIN = 0.75


@dataclass(frozen=True)
class Candidate:
    """A product the household has ordered before."""

    sku: str
    """The retailer's SKU."""
    name: str
    """Product name as ordered, e.g. "Lavazza Qualità Rossa coffee beans 1 kg"."""
    brand: str
    """Brand, may be empty."""
    times_ordered: int
    """In how many orders it appears."""
    last_ordered: datetime
    """When it was last ordered (aware)."""


@dataclass(frozen=True)
class Scored:
    """A candidate with how well it matches the query."""

    candidate: Candidate
    """The product."""
    score: float
    """Mean word similarity over the query's meaningful words (1.0 = all exact), plus size bonus."""


@dataclass(frozen=True)
class MatchResult:
    """What the matcher made of one product mention."""

    status: Literal["match", "ambiguous", "none"]
    """One product, a few close ones to choose from, or nothing the household bought."""
    best: tuple[Scored, ...]
    """match: the winner first; ambiguous: the options to name (2-3), best first; none: empty."""
    query: str
    """The product mention as given."""


@dataclass(frozen=True)
class Tuning:
    """Thresholds, calibrated on bench/data/match_*.yml (see bench/match.py)."""

    margin: float = 0.05
    """Products scoring within this of the best are too close to call."""
    size_bonus: float = 0.1
    """Added per size in the query found in the name ("1 kg")."""
    packaging_bonus: float = 0.02
    """Added per packaging word in the query found in the name ("tea bags")."""
    dominance: float = 3.0
    """A habit settles a tie only if bought at least this many times as often as each rival..."""
    min_times: int = 3
    """...at least this many times..."""
    stale_days: int = 45
    """...and every rival last bought at least this many days before it."""
    max_options: int = 3
    """Most options offered in one question."""


@dataclass(frozen=True)
class _Entry:
    """A candidate's words, precomputed."""

    candidate: Candidate
    terms: frozenset[str]
    sizes: frozenset[str]


class ProductMatcher:
    """Matches product mentions against one household's history; build once per history state."""

    def __init__(self, candidates: list[Candidate], lang: str, tuning: Tuning | None = None) -> None:
        started = time.perf_counter()
        self.lang = lang
        self.tuning = tuning or Tuning()
        names = analyse_many([c.name for c in candidates], lang)
        brands = analyse_many([c.brand for c in candidates], lang)
        self._entries = [_entry(c, n + b) for c, n, b in zip(candidates, names, brands, strict=True)]
        self._by_sku = {e.candidate.sku: e for e in self._entries}
        self._postings: dict[str, set[int]] = {}
        for i, entry in enumerate(self._entries):
            for term in entry.terms:
                self._postings.setdefault(term, set()).add(i)
        self._index = FuzzyIndex(self._postings, sounds=sound_keys)
        self._request_words = FILLER.get(lang, frozenset()) | PACKAGING.get(lang, frozenset())
        log.debug(
            "matcher for %d products (%s) built in %.1f ms",
            len(candidates),
            lang,
            (time.perf_counter() - started) * 1000,
        )

    # --- matching ---------------------------------------------------------
    def match(self, query: str) -> MatchResult:
        """The product(s) of the history `query` names."""
        words = rejoin(
            analyse(query, self.lang),
            self._needs_joining,
            lambda w: bool(self._index.similar(w, True, JOINED_SOUND_MIN)),
        )
        required, soft = self._split_query(words)
        if not required:
            return MatchResult("none", (), query)
        coverage = [self._coverage(w, synonyms=w.text not in VAGUE or len(required) + len(soft) > 1) for w in required]
        qualified = set.intersection(*(set(c) for c in coverage))
        if not qualified:
            coverage = self._misheard(required, coverage)
            qualified = set.intersection(*(set(c) for c in coverage))
        wanted_sizes = sizes(words)
        scored = []
        for i in qualified:
            entry = self._entries[i]
            score = fmean(c[i] for c in coverage)
            score += self.tuning.size_bonus * len(wanted_sizes & entry.sizes)
            score += self.tuning.packaging_bonus * sum(1 for w in soft if w.forms & entry.terms)
            scored.append(Scored(entry.candidate, score))
        scored.sort(key=_rank)
        result = self._decide(scored, query)
        log.debug("match %r → %s %s", query, result.status, [(s.candidate.sku, round(s.score, 3)) for s in result.best])
        return result

    def name_words(self, query: str) -> int:
        """How many words of `query` name a product: request words, function words and quantities aside."""
        required, soft = self._split_query(analyse(query, self.lang))
        return len(required) + len(soft)

    def _split_query(self, words: list[Word]) -> tuple[list[Word], list[Word]]:
        """(words every candidate must contain, packaging words that only add to a score)."""
        packaging = PACKAGING.get(self.lang, frozenset())
        content = [w for w in words if w.kind == "word" and w.text not in FILLER.get(self.lang, ())]
        required = [w for w in content if w.text not in packaging]
        soft = [w for w in content if w.text in packaging]
        return (required, soft) if required else (soft, [])

    def _needs_joining(self, word: Word) -> bool:
        """A word of the query the history does not know (split by a recogniser: "lur pack")."""
        if word.kind != "word" or word.text in self._request_words:
            return False
        return not any(self._similar(word, form) for form in word.forms)

    def _similar(self, word: Word, form: str) -> dict[str, float]:
        """History words `form` (one spelling of `word`) may be. A word of the language is taken as said
        (lemma and accents aside): "graines" is not a misspelt "grains". Anything else may be a typo, or
        a brand the recogniser garbled, and is also matched by spelling distance and by sound."""
        if word.joined:
            return self._index.similar(form, by_sound=True, sound_min=JOINED_SOUND_MIN)
        if is_word(word.surface or word.text, self.lang):
            return {form: 1.0} if form in self._postings else {}
        return self._index.similar(form, by_sound=True)

    def _coverage(self, word: Word, synonyms: bool) -> dict[int, float]:
        """Best similarity of `word` (or of a synonym) to each candidate that has a close enough word."""
        best: dict[int, float] = {}
        found = [self._similar(word, form) for form in word.forms]
        if synonyms:
            found += [{s: SYNONYM_SCORE} for s in SYNONYMS.get(self.lang, {}).get(word.text, ()) if s in self._postings]
        for similar in found:
            for term, similarity in similar.items():
                for i in self._postings[term]:
                    best[i] = max(similarity, best.get(i, 0.0))
        return best

    def _misheard(self, required: list[Word], coverage: list[dict[int, float]]) -> list[dict[int, float]]:
        """`coverage` again, with the one word no product has read as a recogniser's mishearing of a word of
        the products the other words agree on, if it sounds exactly like it (same phonetic key, same first
        letter): "pen pasta" → penne pasta, "deaf soap" → Dove soap. Only then: a sound key alone is loose
        ("rice" / "rose"), but among the few products the rest of the sentence already names it is not.
        A word that is no word of the language ("delph soap", "nutamado soup") is a garble, not a word
        said, and may sound a little further off (`_heard_alike`). A real word must match exactly, or
        "green tea" (KRN) would be Earl Grey (KR)."""
        lost = [k for k, found in enumerate(coverage) if not found]
        if len(lost) != 1 or len(required) < 2 or not required[lost[0]].text[:1].isalpha():
            return coverage
        k, word = lost[0], required[lost[0]]
        rest = set.intersection(*(set(found) for j, found in enumerate(coverage) if j != k))
        keys = {key for form in word.forms for key in sound_keys(form)}
        garbled = not is_word(word.surface or word.text, self.lang)
        alike = {
            i: HEARD_ALIKE_SCORE
            for i in rest
            if any(_heard_alike(word.text, keys, t, garbled) for t in self._entries[i].terms)
        }
        return [alike if j == k else found for j, found in enumerate(coverage)] if alike else coverage

    def _decide(self, scored: list[Scored], query: str) -> MatchResult:
        if not scored:
            return MatchResult("none", (), query)
        close = [s for s in scored if s.score >= scored[0].score - self.tuning.margin]
        if len(close) == 1:
            return MatchResult("match", (close[0],), query)
        habitual = self._habitual(close)
        if habitual is not None:
            return MatchResult("match", (habitual, *[s for s in close if s is not habitual]), query)
        return MatchResult("ambiguous", tuple(close[: self.tuning.max_options]), query)

    def _habitual(self, close: list[Scored]) -> Scored | None:
        """The one product the household clearly buys instead of the others, if there is one."""
        t = self.tuning
        top = max(close, key=lambda s: s.candidate.times_ordered)
        usual = top.candidate
        if usual.times_ordered < t.min_times:
            return None
        for other in (s.candidate for s in close if s is not top):
            if usual.times_ordered < t.dominance * other.times_ordered:
                return None
            if (usual.last_ordered - other.last_ordered).days < t.stale_days:
                return None
        return top

    # --- answering "which one?" -------------------------------------------
    def choose(self, answer: str, options: list[Candidate]) -> Candidate | None:
        """The option `answer` picks ("the beans", "moulu", "the second one", "the Lavazza one"); None if unclear."""
        if not options:
            return None
        if says_no(answer, self.lang):
            return None
        folded = fold(answer)
        words = analyse(answer, self.lang)
        index = find_ordinal(answer, self.lang, len(options))
        if index is not None:
            return options[index]
        if any(phrase in folded for phrase in LAST_TIME.get(self.lang, ())):
            return _unique_max(options, [c.last_ordered.timestamp() for c in options])
        if any(phrase in folded for phrase in USUAL.get(self.lang, ())):
            return _unique_max(options, [float(c.times_ordered) for c in options])
        return self._choose_by_words(words, options)

    def _choose_by_words(self, words: list[Word], options: list[Candidate]) -> Candidate | None:
        entries = [self._by_sku.get(c.sku) or _entry(c, analyse(f"{c.name} {c.brand}", self.lang)) for c in options]
        filler = FILLER.get(self.lang, frozenset())
        content = [w for w in words if w.kind == "word" and w.text not in filler]
        wanted_sizes = sizes(words)
        scores = [len(wanted_sizes & e.sizes) + sum(_closeness(w, e.terms) for w in content) for e in entries]
        return _unique_max(options, scores, require_positive=True)


def _entry(candidate: Candidate, words: list[Word]) -> _Entry:
    """A candidate's matchable forms: content words (surface and lemma), plus adjacent pairs joined so that
    "dogfood" or "cornflakes" find "dog food" and "Corn Flakes"."""
    content = [w for w in words if w.kind == "word"]
    terms = {f for w in content for f in w.forms}
    terms |= {a.text + b.text for a, b in pairwise(content)}
    return _Entry(candidate, frozenset(terms), frozenset(sizes(words)))


def _closeness(word: Word, terms: frozenset[str]) -> float:
    """How well `word` names one of `terms`, for answers to "which one?". Looser than matching the
    history ("beens" is the beans): among two or three options a near miss cannot pick a stranger."""
    best = max((OSA.normalized_similarity(f, t) for f in word.forms for t in terms if t[:1] == f[:1]), default=0.0)
    return best if best >= CHOICE_MIN else 0.0


def _rank(s: Scored) -> tuple[float, int, float]:
    """Best score first; among equals, the product bought more often, then more recently."""
    return (-s.score, -s.candidate.times_ordered, -s.candidate.last_ordered.timestamp())


def says_no(text: str, lang: str) -> bool:
    """Whether `text` negates ("not the beans", "I don't want it", "pas celui-là")."""
    said = re.findall(r"[\w']+", fold(text))
    return any(w in NEGATIONS.get(lang, ()) or w.endswith("n't") for w in said)


def _heard_alike(word: str, keys: set[str], term: str, garbled: bool) -> bool:
    """Whether a history word `term` may be what a recogniser heard as `word` (sound `keys`): the same
    first letter and sound key, or for a garbled `word` the same first letter and a key one sound off
    ("delph" TLF / dove TF), or a key that ends in the term's ("nutamado" NTMT / tomato TMT: "the tomato"
    run together). A different first letter one sound off is too loose: "Buitoni" (PTN) is no penne (PN)."""
    if term.startswith("!") != word.startswith("!"):  # "pulpe" is not what "sans pulpe" has
        return False
    same_start = term[:1] == word[:1]
    if same_start and keys.intersection(sound_keys(term)):
        return True
    return garbled and any(
        len(a) >= GARBLE_KEY_MIN
        and ((same_start and OSA.distance(a, b) <= 1) or (len(b) >= GARBLE_KEY_MIN and a.endswith(b)))
        for a in keys
        for b in sound_keys(term)
    )


def _unique_max(options: list[Candidate], values: list[float], require_positive: bool = False) -> Candidate | None:
    """The option with the strictly highest value, or None on a tie."""
    top = max(values)
    if values.count(top) != 1 or (require_positive and top <= 0):
        return None
    return options[values.index(top)]
