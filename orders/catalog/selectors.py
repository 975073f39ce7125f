"""The product list's `TotalRecords`, kept in the cache per query and invalidated by every catalog write.

Counting a portal user's priced products is the dearest part of a product page (5-6 ms of ~19 on
10,000 products: an EXISTS per product), and the answer only changes when the catalog does.

- The key is the organization and a digest of the count's own SQL and parameters (ordering left
  out). Whatever decides the rows (the caller's role, its customer's tier and currency, `active`,
  `category`, `search`) is in that SQL, so a customer moved to another tier or currency reads
  another entry and no list parameter can be forgotten from the key.
- Each entry holds the organization's catalog *generation* (nymble.cache): `catalog_changed`, which
  every write in orders.catalog.services calls, replaces it, so every count of the organization is
  recounted on its next read. Entries expire after COUNT_TTL: that bounds the memory of searches and
  the lag of a write made around the services (raw ORM or SQL), which should call `catalog_changed`.
- Only with a shared cache that is not the database (`nymble.cache.cache_shared`); without one,
  `catalog_count` is `queryset.count()`.

One cache round trip on a hit (MGET of the generation and the entry).

`products_as_json` writes a page as ProductSerializer does, built by PostgreSQL in one query
without model instances (the list's serializer path stays for SQLite).
"""
from __future__ import annotations

import hashlib

from nymble.cache import cache_shared, cached_in_generation, generation_changed
from nymble.api.json import json_from_query, sql_timestamp
from nymble.models import PriceTier
from orders.models import Product, ProductPrice

COUNT_TTL = 10 * 60  # seconds


def _generation_key(organization_id) -> str:
    return f"catalog:generation:{organization_id}"


def catalog_changed(organization_id) -> None:
    """The organization's catalog changed (products, their active flag or prices): every cached
    count of it is recounted on its next read."""
    generation_changed(_generation_key(organization_id))


def catalog_count(queryset, *, organization_id) -> int:
    """`queryset.count()` from the cache when the organization's catalog has not changed since it
    was counted. `organization_id` None (a superuser's queryset over every organization) is not cached."""
    if organization_id is None or not cache_shared():
        return queryset.count()
    sql, params = queryset.order_by().query.sql_with_params()
    digest = hashlib.blake2b(repr((sql, params)).encode(), digest_size=16).hexdigest()
    return cached_in_generation(_generation_key(organization_id), f"catalog:count:{organization_id}:{digest}",
                                queryset.count, COUNT_TTL)


class CountedQuerySet:
    """A queryset whose `count()` is already known (the pagination asks it); everything else is the queryset's."""

    def __init__(self, queryset, count: int):
        self._queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, item):
        return self._queryset[item]

    def __iter__(self):
        return iter(self._queryset)

    def __getattr__(self, name):
        return getattr(self._queryset, name)


# --- a page as JSON from PostgreSQL ---------------------------------------------------------


def _products_json_sql(view) -> tuple[str, list]:
    """ProductSerializer's output for a list of product ids, field for field and in their order, as
    one PostgreSQL query; its parameters after the ids. `view` is the caller's PriceView.

    The text is concatenated rather than built by json_build_object, whose output has spaces
    around its colons: this is the renderer's compact JSON byte for byte (PostgreSQL escapes a
    string as orjson does: the two-character escapes, other control characters as \\u00xx)."""
    product, price, tier = Product._meta.db_table, ProductPrice._meta.db_table, PriceTier._meta.db_table
    where, params = "", []
    if view.price_tier_id is not None:
        where += " AND pp.price_tier_id = %s"
        params.append(view.price_tier_id)
    if view.currency_code is not None:
        where += " AND pp.currency_code = %s"
        params.append(view.currency_code)
    # As catalog_products orders the prefetched prices: by break in a customer's view (one tier and
    # currency), else as ProductPrice's Meta.ordering.
    order = "pp.at_quantity" if view.for_customer else "t.code, pp.currency_code, pp.at_quantity"
    resolved, resolved_params = "", []
    if view.price_currency is not None:
        # orders.catalog.services.displayed_price: the price at quantity 1, else at the larger of the
        # MinimumOrderQuantity and the first break; among the view's tier's breaks in `price_currency`.
        breaks = f"FROM {price} b WHERE b.product_id = p.id AND b.price_tier_id = %s AND b.currency_code = %s"
        resolved = (
            f"""|| ',"Price":' || coalesce((SELECT b.price::text {breaks} AND b.at_quantity <= (SELECT CASE """
            f"WHEN min(b.at_quantity) <= 1 THEN 1 ELSE greatest(p.minimum_order_quantity, min(b.at_quantity)) END "
            f"""{breaks}) ORDER BY b.at_quantity DESC LIMIT 1), 'null') || ',"CurrencyCode":' || to_json(%s::text)::text"""
        )
        resolved_params = [view.price_tier_id, view.price_currency] * 2 + [view.price_currency]
    sql = f"""
SELECT '[' || coalesce(string_agg(
    '{{"ProductId":' || to_json(p.id)::text || ',"Sku":' || to_json(p.sku)::text
    || ',"Name":' || to_json(p.name)::text || ',"Description":' || to_json(p.description)::text
    || ',"Category":' || to_json(p.category)::text || ',"UPC":' || to_json(p.upc)::text
    || ',"Active":' || to_json(p.active)::text || ',"MinimumOrderQuantity":' || p.minimum_order_quantity::text
    || ',"QuantityIncrement":' || p.quantity_increment::text
    || ',"ExternalId":' || coalesce(to_json(p.external_id)::text, 'null')
    || ',"Prices":[' || coalesce((SELECT string_agg(
        '{{"PriceTier":' || to_json(t.code)::text || ',"Price":' || pp.price::text
        || ',"CurrencyCode":' || to_json(pp.currency_code)::text || ',"AtQuantity":' || pp.at_quantity::text || '}}',
        ',' ORDER BY {order})
        FROM {price} pp JOIN {tier} t ON t.id = pp.price_tier_id WHERE pp.product_id = p.id{where}), '') || ']'
    {resolved}
    || ',"CreatedAt":' || to_json({sql_timestamp("p.created_at")})::text
    || ',"UpdatedAt":' || to_json({sql_timestamp("p.updated_at")})::text || '}}',
    ',' ORDER BY page.n), '') || ']'
FROM unnest(%s::uuid[]) WITH ORDINALITY AS page (id, n)
JOIN {product} p ON p.id = page.id
"""
    return sql, params + resolved_params


def products_as_json(ids: list, view):
    """The products of these ids, in this order, as ProductSerializer writes a list of them in
    `view` (PostgreSQL only): one query, no model instances."""
    sql, params = _products_json_sql(view)
    return json_from_query(sql, params + [list(ids)])
