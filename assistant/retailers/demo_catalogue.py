"""The demo shop's catalogue (a CSV file) and its delivery calendar (business days, deterministic)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ..errors import ConfigError
from ..money import check_currency, parse_money

COLUMNS = ("sku", "name", "brand", "unit_price", "currency", "delivery_days", "in_stock")
#: Business days from order to delivery when the catalogue does not say.
DEFAULT_DELIVERY_DAYS = 2
#: Time of day (UTC) a delivery is expected on its day.
DELIVERY_TIME = time(12, 0)
_BOOL = {"true": True, "yes": True, "1": True, "": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class ShopProduct:
    """A product the demo shop sells."""

    sku: str
    """Stock-keeping unit."""
    name: str
    """Display name."""
    brand: str
    """Brand, may be empty."""
    unit_price_minor: int
    """Price of one unit, minor units."""
    currency: str
    """ISO 4217 currency code."""
    delivery_days: int = DEFAULT_DELIVERY_DAYS
    """Business days from order day to delivery day."""
    in_stock: bool = True
    """Whether it can be ordered now."""


def load_catalogue(path: Path, default_currency: str) -> dict[str, ShopProduct]:
    """Products by SKU; ConfigError naming the file and the bad lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise ConfigError(f"retailer.settings.catalogue: no such file {path}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"retailer.settings.catalogue: cannot read {path} as UTF-8 text ({err})") from err
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})")
    products: dict[str, ShopProduct] = {}
    problems = []
    for record in reader:
        try:
            product = _product(record, default_currency)
        except ValueError as err:
            problems.append(f"line {reader.line_num}: {err}")
            continue
        if product.sku in products:
            problems.append(f"line {reader.line_num}: sku {product.sku} is listed twice")
        products[product.sku] = product
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""))
    return products


def _product(record: dict[str, str | None], default_currency: str) -> ShopProduct:
    value = {k: (v or "").strip() for k, v in record.items() if k is not None}
    if not value["sku"] or not value["name"]:
        raise ValueError("sku and name must not be empty")
    currency = check_currency(value["currency"].upper() or default_currency)
    try:
        price = parse_money(value["unit_price"], currency)
    except ValueError as err:
        raise ValueError(f"unit_price: {err}") from None
    days = value["delivery_days"] or str(DEFAULT_DELIVERY_DAYS)
    if not days.isdigit() or not 0 < int(days) <= 60:
        raise ValueError(f"delivery_days must be a whole number from 1 to 60, got {days!r}")
    if value["in_stock"].lower() not in _BOOL:
        raise ValueError(f"in_stock must be true or false, got {value['in_stock']!r}")
    return ShopProduct(
        value["sku"], value["name"], value["brand"], price, currency, int(days), _BOOL[value["in_stock"].lower()]
    )


def add_business_days(day: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `day`."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def delivery_estimate(ordered_at: datetime, delivery_days: int) -> datetime:
    """When an order made at `ordered_at` arrives: Friday 2026-11-20 + 2 business days → Tuesday, 12:00 UTC."""
    day = add_business_days(ordered_at.astimezone(UTC).date(), delivery_days)
    return datetime.combine(day, DELIVERY_TIME, tzinfo=UTC)


def lifecycle_state(ordered_at: datetime, estimate: datetime, now: datetime, cancelled: bool) -> str:
    """placed → shipped from the next business day → delivered on the estimate day; or cancelled."""
    if cancelled:
        return "cancelled"
    today = now.astimezone(UTC).date()
    if today >= estimate.date():
        return "delivered"
    if today >= add_business_days(ordered_at.astimezone(UTC).date(), 1):
        return "shipped"
    return "placed"
