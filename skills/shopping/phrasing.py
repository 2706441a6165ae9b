"""How the shopping skill says dates, money and item lists in English and French."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from assistant.money import format_money

WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
}
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}
RELATIVE = {
    "en": {0: "today", 1: "tomorrow", -1: "yesterday"},
    "fr": {0: "aujourd'hui", 1: "demain", -1: "hier"},
}


def money(minor: int, currency: str, lang: str) -> str:
    """€14.90 / 14,90 €."""
    return format_money(minor, currency, lang)


def date(when: datetime, lang: str) -> str:
    """ "3 December" / "3 décembre" (with "1er" in French)."""
    day = "1er" if lang == "fr" and when.day == 1 else str(when.day)
    return f"{day} {MONTHS[lang][when.month - 1]}"


def day(when: datetime, now: datetime, lang: str) -> str:
    """A day said relative to now: "tomorrow", "Tuesday", "on 3 December" (fr: "demain", "mardi", "le 3 décembre")."""
    delta = (when.date() - now.date()).days
    if delta in RELATIVE[lang]:
        return RELATIVE[lang][delta]
    if 1 < delta < 7:
        return WEEKDAYS[lang][when.weekday()]
    if -7 < delta < -1:
        return ("last " if lang == "en" else "") + WEEKDAYS[lang][when.weekday()] + ("" if lang == "en" else " dernier")
    return ("on " if lang == "en" else "le ") + date(when, lang)


def item(name: str, quantity: int, lang: str) -> str:
    """ "Oatly Oat Drink Barista 1 L" or "2 × Oatly Oat Drink Barista 1 L"."""
    return name if quantity == 1 else f"{quantity} × {name}"


def join(parts: Sequence[str], lang: str) -> str:
    """ "a, b and c" / "a, b et c"."""
    if len(parts) <= 1:
        return "".join(parts)
    word = " and " if lang == "en" else " et "
    return ", ".join(parts[:-1]) + word + parts[-1]


def either(parts: Sequence[str], lang: str) -> str:
    """ "a or b" / "a ou b"."""
    if len(parts) <= 1:
        return "".join(parts)
    word = " or " if lang == "en" else " ou "
    return ", ".join(parts[:-1]) + word + parts[-1]
