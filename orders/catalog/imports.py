"""Products from a spreadsheet: each row is the body of `PUT /api/products`, checked by the API's
serializer and written by `product_upsert`; exported in the same layout.

Columns (the first line; names are matched case-insensitively):
  Sku, Name (required), Description, Category, UPC, Active (TRUE/FALSE; empty keeps the state),
  MinimumOrderQuantity, QuantityIncrement, ExternalId;
  PriceN.Tier, PriceN.Price, PriceN.Currency (default the organization's), PriceN.AtQuantity (default 1)
  — N = 1, 2, 3, …
As with PUT, an empty optional cell resets its field; with Price columns in the file a row's prices
replace the stored ones, without them they are kept.
"""
from __future__ import annotations

import tablib
from django.db.models import Count, Max, Prefetch

from nymble.spreadsheets import Group, ServiceResource, chunks, guarded, without
from orders.catalog.serializers import ProductSerializer
from orders.catalog.services import EVERY_PRICE, product_upsert
from orders.models import Product, ProductPrice

PRICE = Group("Price", "Prices", {
    "Tier": ("PriceTier", "text"), "Price": ("Price", "amount"), "Currency": ("CurrencyCode", "text"),
    "AtQuantity": ("AtQuantity", "int"),
})
PRICES = Prefetch("prices", queryset=ProductPrice.objects.select_related("price_tier"), to_attr="prefetched_prices")

IMPORT_HELP = """
<p>One product per row, matched by <code>Sku</code>: a new SKU makes a product, a known one replaces it, exactly
as <code>PUT /api/products</code> does (the same checks, the same messages).</p>
<p><strong>Required:</strong> <code>Sku</code>, <code>Name</code>. <strong>Optional:</strong> <code>Description</code>,
<code>Category</code>, <code>UPC</code>, <code>MinimumOrderQuantity</code>, <code>QuantityIncrement</code>,
<code>ExternalId</code>, <code>Active</code> (TRUE/FALSE; empty keeps it as it is).</p>
<p><strong>Prices</strong>, numbered from 1: <code>Price1.Tier</code> (a price tier code), <code>Price1.Price</code>
(e.g. 18.50), <code>Price1.Currency</code> (default the organization's), <code>Price1.AtQuantity</code> (a quantity
break, default 1), then <code>Price2.…</code> and so on.</p>
<p>As with PUT, an empty optional cell resets its field. When the file has Price columns, a row's prices replace
the stored ones (a row with none clears them); without such columns they are kept. The list's <em>Export</em>
writes this layout.</p>
"""


class ProductResource(ServiceResource):
    key = "Sku"
    columns = {
        "Sku": "text", "Name": "text", "Description": "text", "Category": "text", "UPC": "text", "Active": "bool",
        "MinimumOrderQuantity": "int", "QuantityIncrement": "int", "ExternalId": "text",
    }
    required = ("Sku", "Name")
    groups = (PRICE,)

    class Meta(ServiceResource.Meta):
        name = "Products"

    def serializer(self, **kwargs) -> ProductSerializer:
        return ProductSerializer(context={"organization_id": self.organization.pk, "price_view": EVERY_PRICE},
                                 **kwargs)

    def validated(self, body: dict) -> dict:
        serializer = self.serializer(data=body)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def upsert(self, data: dict):
        return product_upsert(organization=self.organization, **data)

    def representation(self, key: str) -> dict | None:
        product = Product.objects.filter(organization=self.organization, sku=key).prefetch_related(PRICES).first()
        if product is None:
            return None
        return without(self.serializer(instance=product).data, "ProductId", "CreatedAt", "UpdatedAt")

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """The products in the list's order as plain rows, 2,000 at a time with their prices."""
        most = queryset.order_by().annotate(n=Count("prices")).aggregate(prices=Max("n"))["prices"] or 0
        headers = list(self.columns) + [f"Price{n}.{suffix}" for n in range(1, most + 1) for suffix in PRICE.fields]
        dataset = tablib.Dataset(headers=headers)
        rows = queryset.values_list("pk", "sku", "name", "description", "category", "upc", "active",
                                    "minimum_order_quantity", "quantity_increment", "external_id")
        for chunk in chunks(rows.iterator(chunk_size=2000), 2000):
            prices: dict = {}
            for product_id, *price in (
                ProductPrice.objects.filter(product_id__in=[row[0] for row in chunk])
                .order_by("product_id", "price_tier__code", "currency_code", "at_quantity")
                .values_list("product_id", "price_tier__code", "price", "currency_code", "at_quantity")
            ):
                prices.setdefault(product_id, []).extend(price)
            for pk, *fields in chunk:
                row = [value if value is not None else "" for value in fields]
                cells = prices.get(pk, [])
                dataset.append([guarded(value) for value in row + cells + [""] * (most * 4 - len(cells))])
        return dataset
