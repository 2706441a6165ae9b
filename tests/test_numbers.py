"""Numbers in utterances: digits, English and French words, sizes and articles that are not quantities."""

from __future__ import annotations

import pytest

from assistant.lang.numbers import find_ordinal, find_quantity, parse_number
from assistant.lang.text import wordlist

EN_UNITS = wordlist("zero one two three four five six seven eight nine")
EN_TEENS = wordlist("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen")
EN_TENS = wordlist("twenty thirty forty fifty sixty seventy eighty ninety")


def spell_en(n: int) -> str:
    """Reference spelling, written independently of the parser's tables' order."""
    if n < 10:
        return EN_UNITS[n]
    if n < 20:
        return EN_TEENS[n - 10]
    tens, units = divmod(n, 10)
    return EN_TENS[tens - 2] + (f"-{EN_UNITS[units]}" if units else "")


@pytest.mark.parametrize("n", range(100))
def test_every_english_number_word_up_to_99(n: int) -> None:
    assert parse_number(spell_en(n), "en") == n
    assert parse_number(spell_en(n).replace("-", " "), "en") == n


@pytest.mark.parametrize(
    ("text", "lang", "value"),
    [
        ("3", "en", 3),
        ("12", "fr", 12),
        (" 7 ", "en", 7),
        ("a dozen", "en", 12),
        ("two dozen", "en", 24),
        ("half a dozen", "en", 6),
        ("a couple", "en", 2),
        ("a couple of", "en", 2),
        ("Twenty-One", "en", 21),
        ("un", "fr", 1),
        ("une", "fr", 1),
        ("deux", "fr", 2),
        ("seize", "fr", 16),
        ("dix-sept", "fr", 17),
        ("dix-neuf", "fr", 19),
        ("vingt", "fr", 20),
        ("vingt-et-un", "fr", 21),
        ("vingt et un", "fr", 21),
        ("vingt-deux", "fr", 22),
        ("trente et une", "fr", 31),
        ("quarante-cinq", "fr", 45),
        ("soixante", "fr", 60),
        ("soixante-dix", "fr", 70),
        ("soixante et onze", "fr", 71),
        ("soixante-douze", "fr", 72),
        ("soixante-dix-sept", "fr", 77),
        ("quatre-vingts", "fr", 80),
        ("quatre-vingt-un", "fr", 81),
        ("quatre-vingt-neuf", "fr", 89),
        ("quatre-vingt-dix", "fr", 90),
        ("quatre-vingt-onze", "fr", 91),
        ("quatre-vingt-dix-neuf", "fr", 99),
        ("zéro", "fr", 0),
        ("septante", "fr", 70),
        ("nonante-neuf", "fr", 99),
        ("une douzaine", "fr", 12),
        ("une demi-douzaine", "fr", 6),
        ("deux douzaines", "fr", 24),
    ],
)
def test_parse_number(text: str, lang: str, value: int) -> None:
    assert parse_number(text, lang) == value


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("a", "en"),
        ("an", "en"),
        ("some", "en"),
        ("", "en"),
        ("2.5", "en"),
        ("1,5", "fr"),
        ("two apples", "en"),
        ("vingt et deux", "fr"),
        ("quelques", "fr"),
        ("first", "en"),
        ("deuxième", "fr"),
        ("a pair", "en"),
    ],
)
def test_parse_number_rejects_what_is_not_one_number(text: str, lang: str) -> None:
    assert parse_number(text, lang) is None


@pytest.mark.parametrize(
    ("text", "lang", "value", "span"),
    [
        ("get me 3 bags of dog food", "en", 3, "3"),
        ("order two oat milk", "en", 2, "two"),
        ("order twenty oat milk", "en", 20, "twenty"),
        ("order twenty-one cans", "en", 21, "twenty-one"),
        ("order a dozen eggs", "en", 12, "a dozen"),
        ("a couple of bags of dog food", "en", 2, "a couple"),
        ("order one oat milk", "en", 1, "one"),
        ("reorder the coffee, just one", "en", 1, "one"),
        ("the 80 pack tea, 2 packs please", "en", 2, "2"),
        ("order 2 x oat milk", "en", 2, "2"),
        ("commande deux laits d'avoine", "fr", 2, "deux"),
        ("commande vingt et une bouteilles", "fr", 21, "vingt et une"),
        ("commande quatre-vingt-dix-neuf trucs", "fr", 99, "quatre-vingt-dix-neuf"),
        ("commande un seul café", "fr", 1, "un"),
        ("1,5 L de lait, 4 bouteilles", "fr", 4, "4"),
        ("il m'en faut une douzaine", "fr", 12, "une douzaine"),
    ],
)
def test_find_quantity(text: str, lang: str, value: int, span: str) -> None:
    found = find_quantity(text, lang)
    assert found is not None
    assert found[0] == value
    assert text[found[1] : found[2]] == span


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # articles are not quantities
        ("order a chainsaw", "en"),
        ("order an oat milk", "en"),
        ("commande une tondeuse", "fr"),
        ("recommande un café", "fr"),
        # sizes are not quantities
        ("order the 1 kg coffee", "en"),
        ("the 250 g coffee", "en"),
        ("2.6 kg dog food", "en"),
        ("the 2.6kg bag", "en"),
        ("12 x 85 g cat food", "en"),
        ("12 × 85 g cat food", "en"),
        ("the 80 pack tea bags", "en"),
        ("a 6-pack of crisps", "en"),
        ("a pack of 6 crisps", "en"),
        ("l'eau en 1,5 L", "fr"),
        ("le café de 250 grammes", "fr"),
        ("le paquet d'un kilo", "fr"),
        ("la bouteille de 75 cl", "fr"),
        ("le lot de 6", "fr"),
        # "one" as a pronoun, ordinals, time
        ("the first one", "en"),
        ("the beans one please", "en"),
        ("which one", "en"),
        ("that one", "en"),
        ("the 2nd", "en"),
        ("le 2e", "fr"),
        ("la dernière fois", "fr"),
        ("what did I order two weeks ago", "en"),
        ("commande comme il y a deux semaines", "fr"),
        ("deux fois", "fr"),
        # nothing
        ("reorder the coffee beans", "en"),
        ("", "fr"),
        ("commande zéro café", "fr"),
    ],
)
def test_find_quantity_ignores_what_is_not_a_quantity(text: str, lang: str) -> None:
    assert find_quantity(text, lang) is None


def test_find_quantity_takes_the_first_quantity_after_a_size() -> None:
    text = "order the 1 kg coffee, three of them"
    assert find_quantity(text, "en") == (3, text.index("three"), text.index("three") + 5)


@pytest.mark.parametrize(
    ("text", "lang", "count", "index"),
    [
        ("the first one", "en", 2, 0),
        ("the second one", "en", 2, 1),
        ("the last one", "en", 3, 2),
        ("number 2", "en", 2, 1),
        ("option two", "en", 3, 1),
        ("2nd", "en", 2, 1),
        ("2", "en", 2, 1),
        ("le premier", "fr", 2, 0),
        ("la première", "fr", 2, 0),
        ("le deuxième", "fr", 2, 1),
        ("la seconde", "fr", 2, 1),
        ("la dernière", "fr", 3, 2),
        ("le 2", "fr", 2, 1),
        ("le 2e", "fr", 2, 1),
        ("numéro deux", "fr", 2, 1),
    ],
)
def test_find_ordinal(text: str, lang: str, count: int, index: int) -> None:
    assert find_ordinal(text, lang, count) == index


@pytest.mark.parametrize(
    ("text", "lang", "count"),
    [
        ("the third one", "en", 2),
        ("the Lavazza one", "en", 2),
        ("the ground one", "en", 2),
        ("one", "en", 2),
        ("same as last time", "en", 2),
        ("comme la dernière fois", "fr", 2),
        ("en grains", "fr", 2),
        ("number 5", "en", 3),
        ("yes", "en", 2),
    ],
)
def test_find_ordinal_none(text: str, lang: str, count: int) -> None:
    assert find_ordinal(text, lang, count) is None
