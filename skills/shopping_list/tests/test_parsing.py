"""Reading items from add / remove requests, telling two names of one item apart, saying a line."""

from __future__ import annotations

import pytest

from skills.shopping_list.parsing import Said, display, parse_items, same_item


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("add milk and two dozen eggs to my list", "en", [Said("milk", None), Said("eggs", 2, "dozen")]),
        (
            "put 3 lemons, a loaf of bread and some oat milk on my shopping list please",
            "en",
            [Said("lemons", 3), Said("bread", 1, "loaf"), Said("oat milk", None)],
        ),
        ("add a dozen eggs to the list", "en", [Said("eggs", 1, "dozen")]),
        ("can you add two bottles of sparkling water to my list", "en", [Said("sparkling water", 2, "bottles")]),
        ("add semi-skimmed milk to my list", "en", [Said("semi-skimmed milk", None)]),
        ("remove the eggs from my list", "en", [Said("eggs", None)]),
        ("take milk and bread off the list", "en", [Said("milk", None), Said("bread", None)]),
        ("ajoute du lait et deux boîtes de thon à ma liste", "fr", [Said("lait", None), Said("thon", 2, "boîtes")]),
        (
            "mets des œufs, de l'huile d'olive et 2 paquets de pâtes sur ma liste de courses",
            "fr",
            [Said("œufs", None), Said("huile d'olive", None), Said("pâtes", 2, "paquets")],
        ),
        ("ajoute une douzaine d'œufs à ma liste", "fr", [Said("œufs", 1, "douzaine")]),
        ("retire les pâtes de la liste s'il te plaît", "fr", [Said("pâtes", None)]),
        ("add to my list", "en", []),
    ],
)
def test_parse_items(text: str, lang: str, expected: list[Said]) -> None:
    assert parse_items(text, lang) == expected


@pytest.mark.parametrize(
    ("a", "b", "lang"),
    [
        ("eggs", "Egg", "en"),
        ("cookies", "cookie", "en"),
        ("tomatoes", "tomato", "en"),
        ("the bananas", "banana", "en"),
        ("pâtes", "pates", "fr"),
        ("œufs", "oeuf", "fr"),
        ("lait d'avoine", "laits d'avoine", "fr"),
        ("gâteaux", "gâteau", "fr"),
    ],
)
def test_same_item(a: str, b: str, lang: str) -> None:
    assert same_item(a, b, lang)


@pytest.mark.parametrize(
    ("a", "b", "lang"), [("milk", "oat milk", "en"), ("eggs", "eggplant", "en"), ("lait", "laitue", "fr")]
)
def test_different_items(a: str, b: str, lang: str) -> None:
    assert not same_item(a, b, lang)


@pytest.mark.parametrize(
    ("item", "lang", "said"),
    [
        (Said("milk", None), "en", "milk"),
        (Said("lemons", 3), "en", "3 lemons"),
        (Said("eggs", 2, "dozen"), "en", "2 dozen eggs"),
        (Said("water", 2, "bottles"), "en", "2 bottles of water"),
        (Said("thon", 2, "boîtes"), "fr", "2 boîtes de thon"),
        (Said("œufs", 1, "douzaine"), "fr", "1 douzaine d'œufs"),
        (Said("huile", 2, "bouteilles"), "fr", "2 bouteilles d'huile"),
        (Said("haricots", 2, "boîtes"), "fr", "2 boîtes de haricots"),
    ],
)
def test_display(item: Said, lang: str, said: str) -> None:
    assert display(item, lang) == said
