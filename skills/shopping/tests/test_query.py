"""The product mention: the NLU slot widened over the product words the CRF trimmed off."""

from __future__ import annotations

import pytest

from assistant.nlu.types import Entity, IntentScore, ParseResult
from assistant.speech import HeardWord
from skills.shopping.query import (
    content_spans,
    is_container,
    product_mention,
    product_query,
    quantity_heard_as,
    without_doubted,
)
from tests.speech_helpers import heard_words


def parse(text: str, lang: str = "en", **slots: str) -> ParseResult:
    """A parse whose slots are the given substrings of `text` (as the CRF would mark them)."""
    entities = []
    for name, value in slots.items():
        start = text.index(value)
        entities.append(Entity(name, value, start, start + len(value)))
    entities.sort(key=lambda e: e.start)
    return ParseResult(text, lang, IntentScore("shopping.reorder", 0.9), tuple(entities))


@pytest.mark.parametrize(
    ("text", "lang", "slots", "expected"),
    [
        # The CRF trimmed a modifier: the mention gets it back, so "green tea" is not "tea".
        ("order green tea", "en", {"product": "tea"}, "green tea"),
        ("order dog shampoo", "en", {"product": "shampoo"}, "dog shampoo"),
        ("order lavaza coffee please", "en", {"product": "coffee"}, "lavaza coffee"),
        ("order crave and dale milk", "en", {"product": "and dale milk"}, "crave and dale milk"),
        # Links are bridged only when a product word follows.
        ("commande le thé à la menthe vert", "fr", {"product": "thé à"}, "thé à la menthe vert"),
        ("recommande le café en grains", "fr", {"product": "café"}, "café en grains"),
        # The quantity and the command words stay out.
        ("order two oat milk", "en", {"quantity": "two", "product": "oat milk"}, "oat milk"),
        ("get me 3 bags of dog food", "en", {"quantity": "3", "product": "dog food"}, "dog food"),
        ("reorder the coffee please", "en", {"product": "coffee"}, "coffee"),
        # "sans" is a product word: the exact text keeps the negation the matcher needs.
        ("commande le jus sans pulpe", "fr", {"product": "jus"}, "jus sans pulpe"),
        # No slot: every word that is not a command word.
        ("reorder the persill", "en", {}, "persill"),
        ("rachète des croquettes pour le chien", "fr", {}, "croquettes chien"),
        ("commande le café d'un kilo", "fr", {}, "café un kilo"),
        ("reorder", "en", {}, ""),
    ],
)
def test_mention(text: str, lang: str, slots: dict[str, str], expected: str) -> None:
    assert product_query(parse(text, lang, **slots), lang) == expected


@pytest.mark.parametrize(
    ("text", "slots", "mention", "quantity"),
    [
        # "free" for "three" before a container, as the first word after the command.
        ("order free tins up baked beans", {"product": "baked beans"}, "tins up baked beans", 3),
        ("order free tins of baked beans", {"product": "baked beans"}, "baked beans", 3),
        ("buy free packs of spaghetti", {}, "packs spaghetti", 3),
        # Elsewhere it is a word of the product, or of the request.
        ("order free range eggs", {"product": "free range eggs"}, "free range eggs", None),
        ("order sugar free tins of cola", {"product": "sugar free"}, "sugar free tins of cola", None),
        ("order the free tins", {}, "free tins", None),  # after an article, an adjective
        ("order free", {}, "free", None),
        # A plural container as recognisers spell it, with an apostrophe.
        ("order free tin's baked beans,", {}, "tin's baked beans", 3),
    ],
)
def test_a_number_heard_as_a_word_before_a_container(
    text: str, slots: dict[str, str], mention: str, quantity: int | None
) -> None:
    p = parse(text, **slots)
    assert product_query(p, "en") == mention
    assert quantity_heard_as(p, "en") == quantity
    assert quantity_heard_as(parse(text, "fr"), "fr") is None  # French has no such word


def test_mention_span_covers_the_widened_words() -> None:
    text = "order green tea"
    mention = product_mention(parse(text, product="tea"), "en")
    assert mention is not None
    assert text[mention.start : mention.end] == "green tea"


def test_container_words_also_as_recognisers_spell_them() -> None:
    assert is_container("tins", "en") and is_container("Tin's", "en") and is_container("paquets", "fr")
    assert not is_container("beans", "en") and not is_container("bean's", "en")
    assert not is_container("tin's", "fr")  # the apostrophe plural is English


def test_content_spans_are_the_product_words_without_container_or_links() -> None:
    text = "order free tin's of baked beans,"
    mention = product_mention(parse(text), "en")
    assert mention is not None
    assert [text[start:end] for start, end in content_spans(text, mention, "en")] == ["baked", "beans"]


def test_elided_article_is_not_part_of_the_product() -> None:
    text = "commande deux laits d'avoine"
    assert product_query(parse(text, "fr", quantity="deux", product="laits d'avoine"), "fr") == "laits d'avoine"
    assert product_query(parse(text, "fr", quantity="deux"), "fr") == "laits avoine"


def test_without_doubted_blanks_the_doubted_words_and_keeps_offsets() -> None:
    p = parse("reorder the nasty biscuits", product="nasty biscuits")
    clear = without_doubted(p, heard_words(p.text, 0.87, 0.78, 0.04, 0.95))
    assert clear is not None and clear.text == "reorder the       biscuits"
    assert product_query(clear, "en") == "biscuits"
    assert without_doubted(p, heard_words(p.text, 0.87, 0.78, 0.3, 0.95)) is None  # nothing doubted
    assert without_doubted(p, ()) is None  # typed


def test_without_doubted_drops_a_slot_made_only_of_doubted_words() -> None:
    p = parse("order nutamado soup again", product="nutamado")
    clear = without_doubted(p, heard_words(p.text, 0.55, 0.1, 0.99, 0.93))
    assert clear is not None and clear.entity("product") is None
    assert product_query(clear, "en") == "soup"


def test_without_doubted_ignores_words_that_are_not_where_the_engine_put_them() -> None:
    p = parse("order more depth soap", product="depth soap")
    shifted = (HeardWord("depth", 0, 5, 0.1),)  # offsets of another text
    assert without_doubted(p, shifted) is None
