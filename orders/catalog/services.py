"""The catalog: product writes (create, update, upsert by Sku, activation) and the read side
that decides which prices each caller sees.

Writes hold the rules whichever door they come through (API, admin, seed, tests): Sku and
ExternalId unique in the organization (409 naming the field), quantities of at least 1, and
price rows that name a tier of the organization, an ISO 4217 currency, a break of at least
one unit and a price of at least zero with cents at most — one row per tier, currency and break.

Reads resolve prices per caller (docs/api.md, "who sees what"):
- an admin sees every product with every tier's prices, or one tier's with `?priceTier=`;
- a sales rep sees active products with every tier's prices (read-only, as a price list to
  quote from), or one tier's with `?priceTier=`;
- a portal user sees its own account's tier in its account's currency; `customerNumber=` from
  an admin or a rep (a customer it can see, else 404) shows exactly what that portal user sees;
- in such a customer's view every product carries `Price` and `CurrencyCode`, `Prices` holds
  that tier's breaks in that currency only, and a product without one is not listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from audit.services import audit_record, audit_snapshot
from customers.models import Customer
from nymble.api.problems import Conflict
from nymble.api.serializers import prefetched
from nymble.currencies import ISO_4217
from nymble.models import Organization, PriceTier
from nymble.scoping import Principal, principal_of
from orders.models import Product, ProductPrice
from orders.catalog.pricing import Breaks, price_at
from orders.catalog.selectors import catalog_changed

# Quantities are stored in a 32-bit integer column on every database.
MAX_QUANTITY = 2_147_483_647
MAX_PRICE = Decimal("999999999999.99")  # DECIMAL(14, 2)

WIRE_NAMES = {
    "sku": "Sku", "name": "Name", "description": "Description", "category": "Category", "upc": "UPC",
    "active": "Active", "minimum_order_quantity": "MinimumOrderQuantity",
    "quantity_increment": "QuantityIncrement", "external_id": "ExternalId", "prices": "Prices",
}
PRICE_WIRE_NAMES = {
    "price_tier": "PriceTier", "price": "Price", "currency_code": "CurrencyCode", "at_quantity": "AtQuantity",
}
PRODUCT_FIELDS = set(WIRE_NAMES) - {"prices"}
# What a full replacement (PUT) resets a field to when the body leaves it out. `Active` left
# out keeps its state (an ERP that does not manage it must not revive a retired product), and
# `Prices` left out keeps the stored prices.
REPLACE_DEFAULTS = {
    "description": "", "category": "", "upc": "", "minimum_order_quantity": 1, "quantity_increment": 1,
    "external_id": None,
}


# --- writes -------------------------------------------------------------------------------


def prices_validated(*, organization_id, prices: list[dict], default_currency: str) -> list[dict]:
    """Price rows checked and normalized: `price_tier` (a PriceTier of the organization or its
    code), `price`, `currency_code` (default `default_currency`), `at_quantity` (default 1).
    Errors name the row and field as the API does: `Prices[1].AtQuantity`."""
    tiers = None
    errors: dict[str, list[str]] = {}
    clean, seen = [], {}
    for index, row in enumerate(prices):
        def fail(field, message, index=index):
            errors.setdefault(f"Prices[{index}].{PRICE_WIRE_NAMES.get(field, field)}", []).append(message)

        if not isinstance(row, dict):
            errors.setdefault(f"Prices[{index}]", []).append("Must be an object.")
            continue
        for key in row.keys() - PRICE_WIRE_NAMES.keys():
            fail(key, "Unknown field.")
        tier = row.get("price_tier")
        if isinstance(tier, str):
            if tiers is None:
                tiers = {t.code: t for t in PriceTier.objects.filter(organization_id=organization_id)}
            tier = tiers.get(tier)
        if not isinstance(tier, PriceTier) or str(tier.organization_id) != str(organization_id):
            fail("price_tier", "No such price tier in this organization.")
            tier = None
        currency = row.get("currency_code") or default_currency
        if not isinstance(currency, str) or currency.upper() not in ISO_4217:
            fail("currency_code", f"'{currency}' is not an ISO 4217 currency code.")
        else:
            currency = currency.upper()
        at_quantity = row.get("at_quantity", 1)
        if at_quantity is None:
            at_quantity = 1
        if isinstance(at_quantity, bool) or not isinstance(at_quantity, int) or not 1 <= at_quantity <= MAX_QUANTITY:
            fail("at_quantity", f"Must be a whole number from 1 to {MAX_QUANTITY}.")
        price = _money(row.get("price"))
        if price is None:
            fail("price", "Must be an amount from 0 with at most two decimals.")
        if tier is not None and isinstance(currency, str) and isinstance(at_quantity, int):
            key = (tier.pk, currency, at_quantity)
            if key in seen:
                fail("at_quantity", f"Prices[{seen[key]}] already prices {tier.code} in {currency} "
                                    f"from {at_quantity} units.")
            seen.setdefault(key, index)
        clean.append({"price_tier": tier, "price": price, "currency_code": currency, "at_quantity": at_quantity})
    if errors:
        raise serializers.ValidationError(errors)
    return clean


def _money(value) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def _fields_validated(fields: dict) -> dict:
    """Known product fields with quantities of at least one; an empty ExternalId is none."""
    errors = {}
    for key in fields.keys() - PRODUCT_FIELDS:
        errors[key] = ["Unknown field."]
    for field in ("minimum_order_quantity", "quantity_increment"):
        if field in fields:
            value = fields[field]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
                errors[WIRE_NAMES[field]] = [f"Must be a whole number from 1 to {MAX_QUANTITY}."]
    if errors:
        raise serializers.ValidationError(errors)
    if "external_id" in fields and not fields["external_id"]:
        fields["external_id"] = None
    return fields


def _product_conflict(product: Product) -> Conflict:
    """Names the key a failed insert or update collided on (asked of the data, not the driver's message)."""
    others = Product.objects.filter(organization_id=product.organization_id).exclude(pk=product.pk)
    errors = {}
    if others.filter(sku=product.sku).exists():
        errors["Sku"] = [f"A product with SKU '{product.sku}' exists."]
    if product.external_id and others.filter(external_id=product.external_id).exists():
        errors["ExternalId"] = ["Another product has this ExternalId."]
    return Conflict(errors=errors or None)


def _save(product: Product) -> None:
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise _product_conflict(product) from None


def _replace_prices(product: Product, rows: list[dict]) -> None:
    product.prices.all().delete()
    ProductPrice.objects.bulk_create(ProductPrice(product=product, **row) for row in rows)


@transaction.atomic
def product_create(*, organization: Organization, prices: list[dict] | None = None, **fields) -> Product:
    fields = _fields_validated(fields)
    rows = prices_validated(
        organization_id=organization.pk, prices=prices or [], default_currency=organization.currency_code
    )
    product = Product(organization=organization, **fields)
    _save(product)
    _replace_prices(product, rows)
    audit_record(product, "created", children=("prices",))
    catalog_changed(organization.pk)  # the cached list counts (orders.catalog.selectors)
    return product


@transaction.atomic
def product_update(*, product: Product, prices: list[dict] | None = None, **changes) -> Product:
    """Sets the given fields; a given `prices` list replaces the stored prices."""
    product = Product.objects.select_for_update(of=("self",)).select_related("organization").get(pk=product.pk)
    before = audit_snapshot(product, ("prices",))
    changes = _fields_validated(changes)
    rows = None
    if prices is not None:
        rows = prices_validated(
            organization_id=product.organization_id, prices=prices,
            default_currency=product.organization.currency_code,
        )
    for field, value in changes.items():
        setattr(product, field, value)
    product.updated_at = timezone.now()
    _save(product)
    if rows is not None:
        _replace_prices(product, rows)
    audit_record(product, "updated", before=before)
    catalog_changed(product.organization_id)
    return product


@transaction.atomic
def product_upsert(*, organization: Organization, **fields) -> tuple[Product, bool]:
    """The ERP sync's PUT, keyed by Sku: creates (True) or replaces (False).

    A replacement resets the optional fields the body leaves out (`REPLACE_DEFAULTS`); `Active`
    and `Prices` left out are kept. Racing first syncs of one SKU end as one create and one replace.
    """
    sku = fields["sku"]
    existing = Product.objects.select_for_update().filter(organization=organization, sku=sku).first()
    if existing is None:
        try:
            with transaction.atomic():
                return product_create(organization=organization, **fields), True
        except Conflict:
            existing = Product.objects.select_for_update().filter(organization=organization, sku=sku).first()
            if existing is None:  # the conflict was another key (ExternalId)
                raise
    return product_update(product=existing, **{**REPLACE_DEFAULTS, **fields}), False


@transaction.atomic
def products_set_active(*, products: QuerySet, active: bool) -> int:
    """(De)activates products in one statement; returns how many changed. Orders already
    placed keep their lines; an inactive product is hidden from reps and portal users."""
    changing = list(Product.objects.select_for_update().filter(pk__in=products.values("pk")).exclude(active=active))
    Product.objects.filter(pk__in=[product.pk for product in changing]).update(active=active, updated_at=timezone.now())
    for product in changing:
        audit_record(product, "activated" if active else "deactivated", changes={"active": [not active, active]})
    for organization_id in {product.organization_id for product in changing}:  # a superuser's may span several
        catalog_changed(organization_id)
    return len(changing)


# --- reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceView:
    """Which prices a reader of the catalog sees.

    `price_tier_id` None: every tier; `currency_code` None: every currency. A customer's view
    (`for_customer`) has both and lists only active products priced in them. `price_currency`
    names the currency of the top-level `Price` it resolves (None: no top-level `Price`): the
    customer's, or the organization's in one tier's view.
    """

    price_tier_id: int | None = None
    currency_code: str | None = None
    for_customer: bool = False
    price_currency: str | None = None


EVERY_PRICE = PriceView()


def price_view_for(*, user, customer_number: str | None = None, price_tier_code: str | None = None) -> PriceView:
    """The caller's price view from its principal and the query parameters it may use.

    A portal user's prices are its own account's, never a parameter's: it sending
    `customerNumber` or `priceTier` is a 400 (rather than silently showing other prices than
    the client asked for). `customerNumber` names a customer the caller can see (else 404);
    `priceTier` a tier of the organization (else 400); not both.
    """
    principal: Principal | None = principal_of(user)
    if principal is None:
        return EVERY_PRICE
    if principal.is_customer:
        refused = {name: ["A portal user sees the prices of its own account; this parameter is not accepted."]
                   for name, value in (("customerNumber", customer_number), ("priceTier", price_tier_code)) if value}
        if refused:
            raise serializers.ValidationError(refused)
        return _customer_view(Customer.objects.filter(pk=principal.customer_id))
    if customer_number and price_tier_code:
        raise serializers.ValidationError({"priceTier": ["Give priceTier or customerNumber, not both."]})
    if customer_number:
        return _customer_view(Customer.objects.visible_to(user).filter(customer_number=customer_number))
    if price_tier_code:
        tier = (
            PriceTier.objects.visible_to(user).filter(code=price_tier_code)
            .values_list("pk", "organization__currency_code").first()
        )
        if tier is None:
            raise serializers.ValidationError(
                {"priceTier": [f"No price tier '{price_tier_code}' in this organization."]}
            )
        return PriceView(price_tier_id=tier[0], price_currency=tier[1])
    return EVERY_PRICE


def _customer_view(customers: QuerySet) -> PriceView:
    row = customers.values_list("price_tier_id", "currency_code").first()
    if row is None:
        raise NotFound()
    return PriceView(price_tier_id=row[0], currency_code=row[1], for_customer=True, price_currency=row[1])


def catalog_products(*, user, view: PriceView) -> QuerySet:
    """The products the caller sees with the prices it sees, prefetched (one query for a page).

    In a customer's view, products without a price in its tier and currency are left out with
    an EXISTS (served by the (price_tier, currency_code, product) index), so counts are right.
    """
    products = Product.objects.visible_to(user)
    prices = ProductPrice.objects.select_related("price_tier")
    if view.price_tier_id is not None:
        prices = prices.filter(price_tier_id=view.price_tier_id)
    if view.currency_code is not None:
        prices = prices.filter(currency_code=view.currency_code)
    if view.for_customer:
        priced = ProductPrice.objects.filter(
            product=OuterRef("pk"), price_tier_id=view.price_tier_id, currency_code=view.currency_code
        )
        products = products.filter(active=True).filter(Exists(priced))
        prices = prices.order_by("at_quantity")
    # The prefetched `prices` of these products are the caller's prices, not all of them.
    return products.prefetch_related(prefetched("prices", prices))


def displayed_price(breaks: Breaks, minimum_order_quantity: int) -> Decimal | None:
    """The `Price` shown beside a product in a customer's view: the price at quantity 1.

    When the tier's first break is above 1 there is no price for one unit; then it is the price
    at the product's MinimumOrderQuantity, or at the first break when that is higher still —
    the price of the smallest quantity that has one.
    """
    if not breaks:
        return None
    at_one = price_at(breaks, 1)
    if at_one is not None:
        return at_one
    return price_at(breaks, max(minimum_order_quantity, breaks[0][0]))
