"""A small catalog for the order and invoice tests: WDG-100-BLU is the seed's widget."""
from decimal import Decimal

import pytest

from nymble.tests.factories import tier
from orders.models import Product, ProductPrice


def add_product(organization, sku, name, prices, **fields):
    product = Product.objects.create(organization=organization, sku=sku, name=name, **fields)
    for tier_code, at_quantity, price in prices:
        ProductPrice.objects.create(product=product, price_tier=tier(organization, tier_code), currency_code="USD",
                                    at_quantity=at_quantity, price=Decimal(price))
    return product


@pytest.fixture
def catalog(tenant):
    org = tenant.org
    return {
        "widget": add_product(org, "WDG-100-BLU", "Widget Blue", [("Wholesale", 1, "18.50"), ("Wholesale", 48, "17.25"),
                                                                   ("Retail", 1, "24.99")]),
        "bolt": add_product(org, "BLT-7", "Bolt pack", [("Wholesale", 1, "3.10")], minimum_order_quantity=10,
                            quantity_increment=5),
        "retail_only": add_product(org, "RTL-1", "Retail only", [("Retail", 1, "9.99")]),
        "retired": add_product(org, "OLD-1", "Retired", [("Wholesale", 1, "1.00")], active=False),
    }
