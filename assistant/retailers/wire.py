"""The JSON shape of retailer values on the wire, shared by the HTTP adapter and the demo shop.

Decoding checks every field: an answer that does not fit raises ValueError naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .base import CancelResult, CatalogueItem, OrderItem, Quote, QuoteLine, RetailerOrder

Json = dict[str, Any]


def _get(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}.{key}: unexpected value {value!r}")
    return value


def _time(data: Any, key: str, where: str) -> datetime:
    text = _get(data, key, str, where)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"{where}.{key}: not an ISO date-time: {text!r}") from err
    if when.tzinfo is None:
        raise ValueError(f"{where}.{key}: date-time without a UTC offset: {text!r}")
    return when.astimezone(UTC)


def items_to_json(items: list[OrderItem]) -> list[Json]:
    return [{"sku": i.sku, "quantity": i.quantity} for i in items]


def item_to_json(item: CatalogueItem) -> Json:
    return {
        "sku": item.sku,
        "name": item.name,
        "brand": item.brand,
        "unit_price_minor": item.unit_price_minor,
        "currency": item.currency,
        "in_stock": item.in_stock,
    }


def item_from_json(data: Any, where: str = "product") -> CatalogueItem:
    return CatalogueItem(
        sku=_get(data, "sku", str, where),
        name=_get(data, "name", str, where),
        brand=_get(data, "brand", str, where),
        unit_price_minor=_get(data, "unit_price_minor", int, where),
        currency=_get(data, "currency", str, where),
        in_stock=_get(data, "in_stock", bool, where),
    )


def line_to_json(line: QuoteLine) -> Json:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "currency": line.currency,
        "available": line.available,
    }


def line_from_json(data: Any, where: str) -> QuoteLine:
    return QuoteLine(
        sku=_get(data, "sku", str, where),
        name=_get(data, "name", str, where),
        quantity=_get(data, "quantity", int, where),
        unit_price_minor=_get(data, "unit_price_minor", int, where),
        currency=_get(data, "currency", str, where),
        available=_get(data, "available", bool, where),
    )


def _lines(data: Any, where: str) -> tuple[QuoteLine, ...]:
    return tuple(line_from_json(item, f"{where}.lines[{n}]") for n, item in enumerate(_get(data, "lines", list, where)))


def quote_to_json(quote: Quote) -> Json:
    return {
        "lines": [line_to_json(line) for line in quote.lines],
        "total_minor": quote.total_minor,
        "currency": quote.currency,
        "delivery_estimate": quote.delivery_estimate.isoformat(),
    }


def quote_from_json(data: Any, where: str = "quote") -> Quote:
    return Quote(
        lines=_lines(data, where),
        total_minor=_get(data, "total_minor", int, where),
        currency=_get(data, "currency", str, where),
        delivery_estimate=_time(data, "delivery_estimate", where),
    )


def order_to_json(order: RetailerOrder) -> Json:
    return {
        "retailer_order_id": order.retailer_order_id,
        "idempotency_key": order.idempotency_key,
        "state": order.state,
        "lines": [line_to_json(line) for line in order.lines],
        "total_minor": order.total_minor,
        "currency": order.currency,
        "delivery_estimate": order.delivery_estimate.isoformat(),
    }


def order_from_json(data: Any, where: str = "order") -> RetailerOrder:
    state = _get(data, "state", str, where)
    if state not in ("placed", "shipped", "delivered", "cancelled"):
        raise ValueError(f"{where}.state: unknown order state {state!r}")
    return RetailerOrder(
        retailer_order_id=_get(data, "retailer_order_id", str, where),
        idempotency_key=_get(data, "idempotency_key", str, where),
        state=state,
        lines=_lines(data, where),
        total_minor=_get(data, "total_minor", int, where),
        currency=_get(data, "currency", str, where),
        delivery_estimate=_time(data, "delivery_estimate", where),
    )


def cancel_to_json(result: CancelResult) -> Json:
    return {"cancelled": result.cancelled, "reason": result.reason}


def cancel_from_json(data: Any, where: str = "cancel") -> CancelResult:
    return CancelResult(cancelled=_get(data, "cancelled", bool, where), reason=_get(data, "reason", str, where))
