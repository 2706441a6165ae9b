"""What product the user named: the NLU's `product` slot, or the utterance without its command words."""

from __future__ import annotations

import re

from assistant.nlu.types import ParseResult

#: Words that carry the command, not the product, when the slot extractor found no product.
COMMAND_WORDS = {
    "en": {
        "reorder", "re-order", "order", "buy", "get", "me", "more", "again", "please", "can", "could", "would",
        "you", "i", "need", "want", "like", "some", "the", "a", "an", "another", "of", "us", "my", "our",
        "add", "send", "repurchase", "purchase", "rebuy", "we", "are", "out", "of", "run", "ran", "low", "on",
        "let's", "lets", "hey", "ok", "okay", "do", "just", "same", "as", "last", "time", "for",
    },
    "fr": {
        "recommande", "recommander", "commande", "commander", "rachète", "racheter", "achète", "acheter",
        "reprends", "reprendre", "prends", "prendre", "je", "j'", "veux", "voudrais", "aimerais", "besoin",
        "ai", "il", "me", "m'", "faut", "du", "de", "la", "le", "les", "des", "l'", "d'", "un", "une",
        "encore", "s'il", "te", "vous", "plaît", "plait", "peux", "pourrais", "tu", "nous", "on", "n'a", "plus",
        "mon", "ma", "mes", "notre", "nos", "comme", "la", "dernière", "fois", "remets", "remettre",
    },
}


def product_query(parse: ParseResult, lang: str) -> str:
    """The product mention to match against the history; empty if the user named none."""
    slot = parse.entity("product")
    if slot is not None and slot.value.strip():
        return slot.value.strip()
    words = re.findall(r"[\w'’-]+", parse.text.lower().replace("’", "'"))
    stop = COMMAND_WORDS.get(lang, set())
    quantity = parse.entity("quantity")
    kept = [w for w in words if w not in stop and not (quantity and w == quantity.value.lower())]
    kept = [w.split("'", 1)[1] if "'" in w and w.split("'", 1)[0] + "'" in stop else w for w in kept]
    return " ".join(w for w in kept if w)
