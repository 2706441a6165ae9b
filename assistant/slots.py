"""Typed readings of slot values, for `Context.number`, `Context.quantity` and `Context.date`.

A slot value is the text the NLU tagged ("two", "1,5 kg", "next monday"); these read it into a value
a handler can use, or None when the text is not one. They know English and French.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .lang.numbers import parse_number
from .lang.text import fold

#: Unit words (folded: lower case, no accents) → the canonical unit.
UNITS = {
    "g": "g", "gram": "g", "grams": "g", "gramme": "g", "grammes": "g", "gr": "g",
    "kg": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
    "kilogramme": "kg", "kilogrammes": "kg",
    "l": "l", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "milliliter": "ml", "milliliters": "ml",
    "cl": "cl", "centilitre": "cl", "centilitres": "cl",
    "pack": "pack", "packs": "pack", "paquet": "pack", "paquets": "pack",
    "box": "box", "boxes": "box", "boite": "box", "boites": "box",
    "bottle": "bottle", "bottles": "bottle", "bouteille": "bottle", "bouteilles": "bottle",
    "can": "can", "cans": "can", "tin": "can", "tins": "can", "canette": "can", "canettes": "can",
    "dozen": "dozen", "dozens": "dozen", "douzaine": "dozen", "douzaines": "dozen",
    "minute": "min", "minutes": "min", "min": "min", "hour": "h", "hours": "h", "heure": "h", "heures": "h",
}  # fmt: skip
_WEEKDAYS = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"),
    "fr": ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
           "novembre", "decembre"),
}  # fmt: skip
_RELATIVE = {
    "today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2, "yesterday": -1,
    "aujourd hui": 0, "ce soir": 0, "demain": 1, "apres demain": 2, "hier": -1,
}  # fmt: skip
_FILLER = {"the", "on", "this", "le", "ce", "next", "prochain", "prochaine", "of", "de", "du", "th", "st", "nd", "rd"}
_AMOUNT = re.compile(r"^(?P<num>\d+(?:[.,]\d+)?)\s*(?P<rest>.*)$")


@dataclass(frozen=True)
class Quantity:
    """An amount with an optional unit ("2 kg", "three bottles", "5")."""

    amount: float
    """How much; a whole number is still a float (2.0)."""
    unit: str | None
    """Canonical unit (`g`, `kg`, `l`, `ml`, `cl`, `pack`, `box`, `bottle`, `can`, `dozen`, `min`, `h`), or None."""


def read_number(text: str, lang: str) -> int | None:
    """A whole number in digits or words ("3", "twenty-one", "vingt et un"); None otherwise."""
    return parse_number(text, lang)


def read_quantity(text: str, lang: str) -> Quantity | None:
    """An amount and its unit: "2 kg", "1,5 l", "two bottles", "deux kilos", "500g", "a dozen"."""
    cleaned = fold(text).strip()
    match = _AMOUNT.match(cleaned)
    if match:
        amount = float(match["num"].replace(",", "."))
        rest = match["rest"].strip()
    else:
        words = cleaned.split()
        for cut in range(len(words), 0, -1):  # the longest run of number words first
            value = parse_number(" ".join(words[:cut]), lang)
            if value is not None:
                amount, rest = float(value), " ".join(words[cut:])
                break
        else:
            return None
    rest = re.sub(r"^(of|de|d)\b\s*", "", rest)
    if not rest:
        return Quantity(amount, None)
    unit = UNITS.get(rest.split()[0])
    return Quantity(amount, unit) if unit else None


def read_date(text: str, lang: str, today: date) -> date | None:
    """A day: "today", "tomorrow", "friday" (the next one), "next monday", "2026-12-24", "24/12",
    "december 24", "24 décembre", "the 3rd". A past weekday is never meant: "monday" on a Monday is today."""
    cleaned = re.sub(r"[^\w/\-]+", " ", fold(text).replace("'", " ")).strip()
    relative = _RELATIVE.get(cleaned.replace("-", " "))
    if relative is not None:
        return today + timedelta(days=relative)
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned)
    if iso:
        return _safe(int(iso[1]), int(iso[2]), int(iso[3]))
    numeric = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", cleaned)
    if numeric:
        day, month = int(numeric[1]), int(numeric[2])
        if lang == "en" and numeric[3] is None and month > 12:
            day, month = month, day
        return _upcoming(day, month, numeric[3], today)
    words = [w for w in re.split(r"[\s\-]+", cleaned) if w and w not in _FILLER]
    if len(words) == 1 and words[0] in _WEEKDAYS.get(lang, ()):
        ahead = (_WEEKDAYS[lang].index(words[0]) - today.weekday()) % 7
        return today + timedelta(days=ahead)
    return _day_month(words, lang, today)


def _day_month(words: list[str], lang: str, today: date) -> date | None:
    months = _MONTHS.get(lang, ())
    month = next((months.index(w) + 1 for w in words if w in months), None)
    days = [int(m[1]) for w in words if (m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th|er|e)?", w))]
    years = [w for w in words if re.fullmatch(r"\d{4}", w)]
    if len(days) != 1 or len(words) != 1 + (month is not None) + len(years):
        return None
    if month is None:  # "the 3rd": this month's, or next month's once it has passed
        found = _safe(today.year, today.month, days[0])
        if found is not None and found >= today:
            return found
        nxt = today.replace(day=1) + timedelta(days=32)
        return _safe(nxt.year, nxt.month, days[0])
    return _upcoming(days[0], month, years[0] if years else None, today)


def _upcoming(day: int, month: int, year: str | None, today: date) -> date | None:
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _safe(full, month, day)
    found = _safe(today.year, month, day)
    if found is not None and found < today:
        found = _safe(today.year + 1, month, day)
    return found


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
