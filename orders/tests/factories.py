"""Catalog factories. They go through orders.catalog.services, so test data obeys the catalog's rules.

    ProductFactory(organization=org, sku="WDG-1", prices=[
        {"price_tier": tier(org, "Wholesale"), "price": Decimal("18.50")},             # from 1 unit, USD
        {"price_tier": "Wholesale", "price": Decimal("17.25"), "at_quantity": 48},   # a tier code works too
    ])

Left out, `prices` is Wholesale 10.00 and Retail 12.50 from one unit, in the organization's currency.
"""
from decimal import Decimal

import factory

from orders.catalog.services import product_create
from orders.models import Product


def price(tier, amount, at_quantity: int = 1, currency_code: str | None = None) -> dict:
    """One price row: `price("Wholesale", "17.25", 48)`."""
    row = {"price_tier": tier, "price": Decimal(str(amount)), "at_quantity": at_quantity}
    if currency_code:
        row["currency_code"] = currency_code
    return row


class ProductFactory(factory.Factory):
    class Meta:
        model = Product

    organization = None
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.LazyAttribute(lambda o: f"Product {o.sku}")
    prices = factory.LazyFunction(lambda: [price("Wholesale", "10.00"), price("Retail", "12.50")])

    @classmethod
    def _create(cls, model_class, **kwargs):
        return product_create(**kwargs)
