"""Tier prices with quantity breaks: a line of quantity q pays the price of the largest
`AtQuantity` ≤ q in its tier and currency. Shared by the catalog and order placement."""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal

from orders.models import ProductPrice

Breaks = list[tuple[int, Decimal]]  # (at_quantity, price), ascending


def price_breaks(product_ids, *, price_tier_id, currency_code: str) -> dict:
    """{product_id: [(at_quantity, price), …]} for one tier and currency, in one query."""
    breaks: dict = defaultdict(list)
    rows = (
        ProductPrice.objects.filter(product_id__in=product_ids, price_tier_id=price_tier_id, currency_code=currency_code)
        .order_by("product_id", "at_quantity")
        .values_list("product_id", "at_quantity", "price")
    )
    for product_id, at_quantity, price in rows:
        breaks[product_id].append((at_quantity, price))
    return breaks


def price_at(breaks: Breaks, quantity: int) -> Decimal | None:
    """The price a line of `quantity` pays, or None when no break is at or below it."""
    index = bisect_right([at for at, _ in breaks], quantity)
    return breaks[index - 1][1] if index else None
