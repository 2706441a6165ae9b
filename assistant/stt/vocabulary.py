"""The words speech recognition is biased toward: the household's products, the skills' commands.

`household_vocabulary` lists, most important first (after a few typical commands, see 4):
1. each product as people name it, brand and generic name, most often bought first ("Oatly oat milk",
   "Pedigree dry dog food");
2. each product's full name without its size ("Oatly Barista oat milk");
3. the short forms people say: the longest lowercase run of the name, cut before "with"/"in"/"au"/
   "avec"..., and its last two words in English ("dog food") or its first word in French ("croquettes");
4. every example sentence of the framework's and the enabled skills' NLU data in that language
   (commands, yes / no / never mind). The first example of each intent is put first of all, the
   framework's, then the skills' in `skills.enabled` order, within LEAD_CHARS: Whisper's prompt is
   short, and a skill's commands must not crowd the products out of it (the shopping list's five
   "... my list" leads once had Whisper hear "order two packs on my list" for "... of Barilla spaghetti");
5. number words.

`Vocabulary.product_phrases` holds 1-3 and each brand alone ("Oatly"): Whisper (`whisper.py`)
chooses the few that sound like what it misheard for its focused pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable

from sqlalchemy import Engine

from ..config import Config
from ..history import household_products
from ..lang.nlp import stop_words
from ..lang.numbers import EN_SMALL, EN_TENS, FR_SMALL, FR_TENS
from ..loader import nlu_sources
from ..nlu.data import plain_text, read_items
from ..speech import Vocabulary

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?(?:x\d+(?:[.,]\d+)?)?[a-zA-Z]*$")
_TIMES = {"x", "×"}
#: Words that start a product name's trailing detail ("dog food with beef", "thé vert à la menthe").
_CONNECTORS = {
    "en": frozenset({"with", "in", "for", "and"}),
    "fr": frozenset({"au", "aux", "à", "avec", "sans"}),
}
_NUMBER_WORDS = {"en": (*EN_SMALL, *EN_TENS), "fr": (*FR_SMALL, *FR_TENS)}
#: The intent whose examples are deliberately unrelated sentences.
OUT_OF_SCOPE = "out_of_scope"
LEADS_PER_INTENT = 1
#: Most characters of lead commands (about 25 tokens of Whisper's 223-token prompt).
LEAD_CHARS = 100
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def household_vocabulary(engine: Engine, config: Config, lang: str) -> Vocabulary:
    """Products from the household's history, the NLU examples of `lang`, and number words."""
    names = [(p.name, p.brand) for p in household_products(engine)]
    leads, commands = command_phrases(config, lang)
    return build_vocabulary(lang, names, commands, _NUMBER_WORDS.get(lang, ()), leads=leads)


def build_vocabulary(
    lang: str,
    products: Iterable[tuple[str, str]],
    commands: Iterable[str],
    numbers: Iterable[str] = (),
    *,
    leads: Iterable[str] = (),
) -> Vocabulary:
    """A Vocabulary from (name, brand) pairs (most often bought first), command phrases and number words;
    `leads` are a few typical commands put first (a Whisper prompt that starts with them keeps short
    answers like "cancel that" recognised, see `whisper.py`)."""
    products = list(products)
    forms = [short_forms(name, brand, lang) for name, brand in products]
    spoken = [
        f"{brand} {f[0]}".strip() if f else product_core(name) for (name, brand), f in zip(products, forms, strict=True)
    ]
    cores = [product_core(name) for name, _ in products]
    shorts = [form for f in forms for form in f]
    phrases = _unique([*leads, *spoken, *cores, *shorts, *commands, *numbers])
    words = frozenset(w for phrase in phrases for w in spoken_words(phrase))
    stops = stop_words(lang)  # "the" of "The Happy Egg Co", "of" of "cream of tomato soup"
    product_words = frozenset(w for p in (*spoken, *cores, *shorts) for w in spoken_words(p) if w not in stops)
    brands = [brand for _, brand in products if brand]
    product_phrases = tuple(_unique([*spoken, *cores, *shorts, *brands]))
    digest = hashlib.sha256(json.dumps([lang, phrases, product_phrases], ensure_ascii=False).encode()).hexdigest()[:16]
    return Vocabulary(lang, tuple(phrases), words, digest, product_words, product_phrases)


def spoken_words(text: str) -> list[str]:
    """The words of `text`, lowercased, as `Vocabulary.words` holds them ("Catch-up!" → ["catch-up"])."""
    return [w.lower() for w in _WORD.findall(text)]


def command_phrases(config: Config, lang: str) -> tuple[list[str], list[str]]:
    """The first example of each intent (but `out_of_scope`) within LEAD_CHARS, and every intent example
    of the framework and the enabled skills in `lang`, without annotations. Out-of-scope sentences stay in
    the second list: in a Vosk grammar their words give unrelated speech somewhere else to go."""
    leads, phrases = [], []
    rank = {name: i for i, name in enumerate(config.skills.enabled)}
    sources = sorted((s for s in nlu_sources(config) if s.lang == lang), key=lambda s: rank.get(s.skill, -1))
    lead_chars = 0
    for source in sources:
        for item, _line in read_items(source.path):
            if item.kind == "intent":
                examples = [plain_text(example).strip() for example in item.examples]
                phrases.extend(examples)
                for lead in examples[:LEADS_PER_INTENT] if item.name != OUT_OF_SCOPE else []:
                    lead_chars += len(lead) + 2  # once one does not fit, no later (less important) one goes in
                    if lead_chars <= LEAD_CHARS:
                        leads.append(lead)
    return leads, phrases


def product_core(name: str) -> str:
    """The name without sizes and counts: "Heinz baked beans 4 x 415 g" → "Heinz baked beans"."""
    return " ".join(_drop_sizes(name.split()))


def short_forms(name: str, brand: str, lang: str) -> list[str]:
    """What people call it: the longest lowercase run of the name, cut at a connector ("dry dog food"),
    and its last two words in English ("dog food") or its first word in French ("croquettes")."""
    brand_words = {w.lower() for w in brand.split()}
    runs: list[list[str]] = [[]]
    for i, word in enumerate(_drop_sizes(name.split())):
        generic = word[:1].islower() or (i == 0 and not brand)  # "Bananes équitables": no brand
        if generic and word.lower() not in brand_words:
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    run = max(runs, key=len)
    connectors = _CONNECTORS.get(lang, frozenset())
    head = run[: next((i for i, w in enumerate(run) if w.lower() in connectors and i > 0), len(run))]
    if not head:
        return []
    part = head[-2:] if lang == "en" else head[:1]  # English names end with the thing, French ones start with it
    return [" ".join(head), " ".join(part)] if len(head) > 2 or lang != "en" else [" ".join(head)]


def _drop_sizes(tokens: list[str]) -> list[str]:
    """Remove "1 kg", "80 pack", "4 x 415 g", "2.6kg", "6 x 1,5 L": a number, and the word after it."""
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        if _NUMBER.match(tokens[i]):
            i += 1
            while i + 1 < len(tokens) and tokens[i] in _TIMES and _NUMBER.match(tokens[i + 1]):
                i += 2
            if i < len(tokens) and (
                (not _NUMBER.match(tokens[i]) and not tokens[i][:1].isupper()) or len(tokens[i]) <= 2
            ):
                i += 1  # the unit or count word ("kg", "pack", "rolls", "L")
            continue
        kept.append(tokens[i])
        i += 1
    return kept


def _unique(phrases: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for phrase in phrases:
        key = phrase.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(phrase.strip())
    return out
