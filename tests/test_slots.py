"""Typed slot readers behind Context.number / quantity / date, in English and French."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.slots import Quantity, read_date, read_number, read_quantity

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [("3", "en", 3), ("twenty-one", "en", 21), ("a dozen", "en", 12), ("vingt et un", "fr", 21), ("some", "en", None)],
)
def test_numbers(text: str, lang: str, expected: int | None) -> None:
    assert read_number(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("2 kg", "en", Quantity(2.0, "kg")),
        ("500g", "en", Quantity(500.0, "g")),
        ("1,5 l", "fr", Quantity(1.5, "l")),
        ("three bottles", "en", Quantity(3.0, "bottle")),
        ("deux boîtes de", "fr", Quantity(2.0, "box")),
        ("5", "en", Quantity(5.0, None)),
        ("two parsecs", "en", None),
        ("blue", "en", None),
    ],
)
def test_quantities(text: str, lang: str, expected: Quantity | None) -> None:
    assert read_quantity(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("today", "en", FRIDAY),
        ("tomorrow", "en", date(2026, 11, 21)),
        ("après-demain", "fr", date(2026, 11, 22)),
        ("aujourd'hui", "fr", FRIDAY),
        ("friday", "en", FRIDAY),
        ("on monday", "en", date(2026, 11, 23)),
        ("mardi prochain", "fr", date(2026, 11, 24)),
        ("24/12", "fr", date(2026, 12, 24)),
        ("12/24", "en", date(2026, 12, 24)),
        ("2027-01-05", "en", date(2027, 1, 5)),
        ("december 24", "en", date(2026, 12, 24)),
        ("24 décembre", "fr", date(2026, 12, 24)),
        ("3 march", "en", date(2027, 3, 3)),
        ("the 3rd", "en", date(2026, 12, 3)),
        ("31/02", "fr", None),
        ("soon", "en", None),
    ],
)
def test_dates(text: str, lang: str, expected: date | None) -> None:
    assert read_date(text, lang, FRIDAY) == expected
