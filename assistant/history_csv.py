"""Read and check an order-history CSV: every bad row is reported with its line number and the reason."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from .errors import HistoryImportError
from .money import check_currency, parse_money

#: Columns every history file has, in the documented order (others are ignored).
COLUMNS = ("order_date", "order_id", "sku", "product_name", "brand", "quantity", "unit_price", "currency", "retailer")
#: Most units one history line may hold: more is surely a typo (or a wholesale order).
MAX_QUANTITY = 10_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class HistoryRow:
    """One checked line of a history file."""

    line: int
    """Line number in the file (1 is the header)."""
    ordered_at: datetime
    """Order date, aware UTC (midnight UTC for a plain date)."""
    order_id: str
    """The retailer's order id."""
    sku: str
    """The retailer's SKU."""
    name: str
    """Product name."""
    brand: str
    """Brand, may be empty."""
    quantity: int
    """Units, at least 1."""
    unit_price_minor: int
    """Unit price, minor units."""
    currency: str
    """ISO 4217 currency code."""
    retailer: str
    """Retailer name as exported."""


def read_history(data: bytes, name: str, now: datetime) -> list[HistoryRow]:
    """Check the whole file; raise HistoryImportError with every problem, or return all rows."""
    text = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _header(reader, name)
    rows: list[HistoryRow] = []
    problems: list[tuple[int, str]] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(header):
                problems.append(
                    (
                        line,
                        f"expected {len(header)} fields, got {len(record)} "
                        "(a value containing a comma must be in double quotes)",
                    )
                )
                continue
            row, row_problems = _row(line, dict(zip(header, record, strict=True)), now)
            problems += [(line, p) for p in row_problems]
            if row is not None:
                rows.append(row)
    except csv.Error as err:
        problems.append((reader.line_num, f"not valid CSV ({err})"))
    problems += _cross_check(rows)
    if problems:
        bad = len({line for line, _ in problems})
        raise HistoryImportError(
            f"{name}: {bad} bad row{'s' if bad > 1 else ''}; nothing was imported",
            [f"line {line}: {p}" for line, p in sorted(problems, key=lambda item: item[0])],
            hint="fix the lines listed and import the file again",
        )
    if not rows:
        raise HistoryImportError(f"{name} has a header but no order rows; nothing was imported")
    return rows


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise HistoryImportError(f'{name} is UTF-16 text; save it as UTF-8 ("CSV UTF-8") and import it again')
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        raise HistoryImportError(
            f"{name} is empty: expected a header line ({','.join(COLUMNS)}) and one row per order line"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    problems = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(f"line {number}: not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})")
    raise HistoryImportError(
        f"{name} is not UTF-8 text; nothing was imported",
        problems,
        hint='save it as UTF-8 ("CSV UTF-8" in a spreadsheet) and import it again',
    )


def _header(reader: Any, name: str) -> list[str]:
    for record in reader:
        if any(field.strip() for field in record):
            header = [field.strip().lower() for field in record]
            break
    else:
        raise HistoryImportError(f"{name} is empty: expected a header line ({','.join(COLUMNS)})")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise HistoryImportError(
            f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} in the header line",
            hint=f"the first line must name the columns {','.join(COLUMNS)}",
        )
    twice = sorted({c for c in header if header.count(c) > 1 and c})
    if twice:
        raise HistoryImportError(f"{name}: column {', '.join(twice)} appears more than once in the header line")
    return header


def _row(line: int, values: dict[str, str], now: datetime) -> tuple[HistoryRow | None, list[str]]:
    problems: list[str] = []

    def check(column: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(values[column].strip())
        except ValueError as err:
            problems.append(str(err))
            return None

    ordered_at = check("order_date", lambda v: _order_date(v, now))
    order_id, sku, name = (check(c, partial(_required, c)) for c in ("order_id", "sku", "product_name"))
    quantity = check("quantity", _quantity)
    currency = check("currency", lambda v: check_currency(v.upper()))
    price = check("unit_price", lambda v: _price(v, currency)) if currency else 0
    retailer = check("retailer", lambda v: _required("retailer", v))
    if problems:
        return None, problems
    brand = values["brand"].strip()
    return HistoryRow(line, ordered_at, order_id, sku, name, brand, quantity, price, currency, retailer), []


def _required(column: str, value: str) -> str:
    if not value:
        raise ValueError(f"{column} must not be empty")
    return value


def _order_date(value: str, now: datetime) -> datetime:
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)
            when = datetime(day.year, day.month, day.day, tzinfo=UTC)
            future = day > now.date()
        elif len(value) > 10 and value[10] in "T ":
            parsed = datetime.fromisoformat(value)
            when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
            future = when > now
        else:
            raise ValueError(value)
    except ValueError:
        raise ValueError(f"order_date must be a date like 2026-08-02 (or an ISO date-time), got {value!r}") from None
    if future:
        raise ValueError(f"order_date {value} is in the future")
    return when


def _quantity(value: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"quantity must be a whole number of at least 1, got {value!r}")
    if int(value) > MAX_QUANTITY:
        raise ValueError(f"quantity must be at most {MAX_QUANTITY}, got {value!r}")
    return int(value)


def _price(value: str, currency: str) -> int:
    try:
        return parse_money(value, currency)
    except ValueError as err:
        raise ValueError(f"unit_price: {err}") from None


def _cross_check(rows: list[HistoryRow]) -> list[tuple[int, str]]:
    """One order has one date, retailer and currency, and lists each product once."""
    problems: list[tuple[int, str]] = []
    first: dict[str, HistoryRow] = {}
    skus: dict[tuple[str, str], int] = {}
    for row in rows:
        head = first.setdefault(row.order_id, row)
        for what, mine, theirs in (
            ("order_date", row.ordered_at, head.ordered_at),
            ("retailer", row.retailer, head.retailer),
            ("currency", row.currency, head.currency),
        ):
            if mine != theirs:
                shown = [
                    v.date().isoformat() if isinstance(v, datetime) and v.time() == datetime.min.time() else str(v)
                    for v in (mine, theirs)
                ]
                problems.append(
                    (row.line, f"order {row.order_id} has {what} {shown[0]} here but {shown[1]} on line {head.line}")
                )
        key = (row.order_id, row.sku)
        if key in skus:
            problems.append(
                (
                    row.line,
                    f"sku {row.sku} appears twice in order {row.order_id} (also on line "
                    f"{skus[key]}); put the total quantity on one line",
                )
            )
        skus.setdefault(key, row.line)
    return problems
