"""Money: decimal text → integer minor units per ISO currency, and how an amount is said per language."""

from __future__ import annotations

import pytest

from assistant.money import format_money, parse_money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("14.90", "EUR", 1490),
        ("14.9", "EUR", 1490),
        ("14", "EUR", 1400),
        (" 3.20 ", "GBP", 320),
        ("0", "USD", 0),
        (".5", "USD", 50),
        ("14.900", "EUR", 1490),  # trailing zeros are exact, so allowed
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("0.10", "EUR", 10),  # Decimal, not float: no 9.999… cents
        ("150.00", "EUR", 15000),
    ],
)
def test_parse_money(text: str, currency: str, minor: int) -> None:
    assert parse_money(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("abc", "EUR", "expected a decimal amount like 14.90, got 'abc'"),
        ("", "EUR", "expected a decimal amount like 14.90, got ''"),
        ("14,90", "EUR", "expected a decimal amount like 14.90, got '14,90'"),
        ("1e3", "EUR", "expected a decimal amount like 14.90, got '1e3'"),
        ("NaN", "EUR", "expected a decimal amount like 14.90, got 'NaN'"),
        ("€14.90", "EUR", "expected a decimal amount like 14.90, got '€14.90'"),
        ("-1.00", "EUR", "amount must not be negative, got '-1.00'"),
        ("14.999", "EUR", "EUR amounts have at most 2 decimals, got '14.999'"),
        ("100.5", "JPY", "JPY amounts have no decimals, got '100.5'"),
        ("1.2345", "KWD", "KWD amounts have at most 3 decimals, got '1.2345'"),
        ("1.00", "XYZ", "currency must be an ISO 4217 code such as EUR, GBP or USD, got 'XYZ'"),
        ("1.00", "eur", "currency must be an ISO 4217 code such as EUR, GBP or USD, got 'eur'"),
        ("99999999999", "EUR", "amount '99999999999' is too large"),
    ],
)
def test_parse_money_rejects_with_a_clear_message(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_money(text, currency)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("minor", "currency", "lang", "said"),
    [
        (1490, "EUR", "en", "€14.90"),
        (1490, "EUR", "fr", "14,90 €"),
        (320, "GBP", "en", "£3.20"),
        (320, "GBP", "fr", "3,20 £"),
        (500, "USD", "en", "$5.00"),
        (1200, "CHF", "en", "12.00 CHF"),
        (1200, "CHF", "fr", "12,00 CHF"),
        (500, "JPY", "en", "¥500"),
        (5, "EUR", "en", "€0.05"),
        (123456789, "EUR", "en", "€1,234,567.89"),
        (123456789, "EUR", "fr", "1 234 567,89 €"),
        (1234, "KWD", "en", "1.234 KWD"),
        (-250, "EUR", "en", "-€2.50"),
        (1490, "EUR", "fr-CA", "14,90 €"),
    ],
)
def test_format_money(minor: int, currency: str, lang: str, said: str) -> None:
    assert format_money(minor, currency, lang) == said


@pytest.mark.parametrize("text", ["0.01", "14.90", "1234.56", "0"])
def test_format_then_parse_round_trips(text: str) -> None:
    minor = parse_money(text, "EUR")
    assert parse_money(format_money(minor, "EUR", "en").lstrip("€").replace(",", ""), "EUR") == minor
