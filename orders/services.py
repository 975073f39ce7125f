"""Orders, invoices, payments and credit memos: every rule of §4 in one place, for the API and the admin.

Numbers (`ORD-00001`, `INV-00001`) come from a per-organization counter row taken under a
lock inside the writing transaction, so a rolled-back write leaves no gap and two writers
never share a number. Order placement checks idempotency (`Idempotency-Key`, `ExternalId`)
again *after* taking that lock: a racing duplicate waits for the first to commit and then
finds it, and the unique constraints catch anything that slips past.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import re
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum, prefetch_related_objects
from django.utils import timezone
from rest_framework import serializers

from audit.services import audit_record, audit_snapshot
from customers.models import Customer
from customers.serializers import normalize_terms
from nymble.api.problems import Conflict
from nymble.models import Organization, PriceTier
from nymble.scoping import Principal
from orders.models import (
    Channel,
    CreditMemo,
    CreditMemoLine,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderItem,
    OrganizationSequence,
    OrderStatus,
    OrderType,
    Payment,
    Product,
    SalesCredit,
)
from orders.catalog.pricing import price_at, price_breaks
from orders.serializers import CreditMemoSerializer, InvoiceSerializer, OrderSerializer, invoice_for_output, order_for_output
from salesreps.models import OrganizationSalesRep
from webhooks.services import webhook_emit

MAX_ORDER_LINES = 500
CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
# What an order's answer shows of a rep besides its own row (its login's email): loaded with the
# rep, so that a new order is answered from memory (order_place) without reading itself back.
REP_SHOWN = ("sales_rep__user",)
FORWARD = [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.COMPLETE]


def invalid(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


def next_number(organization_id, name: str) -> str:
    """The next number of a per-organization sequence, in one statement. Call inside the writing
    transaction: the upsert leaves the counter row locked until it commits, so writers take
    turns, and a rollback gives the number back."""
    table = OrganizationSequence._meta.db_table
    org = OrganizationSequence._meta.get_field("organization").get_db_prep_value(organization_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, name, last_value) VALUES (%s, %s, 1) "
            f"ON CONFLICT (organization_id, name) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [org, name],
        )
        (value,) = cursor.fetchone()
    return f"{name}-{value:05d}"


def local_date(organization: Organization, moment: datetime.datetime) -> datetime.date:
    """The calendar day of a moment in the organization's time zone."""
    return timezone.localtime(moment, organization.zone).date()


def _emit_order(order: Order, event_type: str) -> None:
    webhook_emit(organization_id=order.organization_id, event_type=event_type,
                 data=lambda: OrderSerializer(order_for_output(order)).data)


def _emit_invoice(invoice: Invoice, event_type: str) -> None:
    webhook_emit(organization_id=invoice.organization_id, event_type=event_type,
                 data=lambda: InvoiceSerializer(invoice_for_output(invoice)).data)


# ---------------------------------------------------------------- orders


def request_fingerprint(payload: dict) -> str:
    """What makes two order requests "the same": their validated content, key case aside."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _customer_snapshot(customer: Customer) -> dict:
    def address(kind):
        found = next((a for a in customer.addresses.all() if a.address_type == kind and a.is_default), None)
        if found is None:
            return None
        return {
            "Address1": found.address1, "Address2": found.address2, "City": found.city,
            "StateProvince": found.state_province, "ZipPostalCode": found.zip_postal_code,
            "Country": found.country, "Code": found.code,
        }

    return {
        "CustomerNumber": customer.customer_number,
        "CompanyName": customer.company_name,
        "CompanyEmail": customer.company_email,
        "CompanyPhone": customer.company_phone,
        "ShippingAddress": address("Shipping"),
        "BillingAddress": address("Billing"),
    }


def _rep(organization: Organization, rep_number: str | None, field: str) -> OrganizationSalesRep | None:
    if not rep_number:
        return None
    rep = OrganizationSalesRep.objects.select_related(*REP_SHOWN).filter(organization=organization,
                                                                         rep_number=rep_number).first()
    if rep is None:
        raise invalid(field, f"No sales rep '{rep_number}' in this organization.")
    if not rep.active:
        raise invalid(field, f"Sales rep '{rep_number}' is inactive.")
    return rep


def _same_terms(given: str, own: str) -> bool:
    try:
        return normalize_terms(given) == normalize_terms(own)
    except serializers.ValidationError:  # malformed terms are no account's terms
        return False


def _priced_items(items: list[dict], *, organization, price_tier, currency_code, may_set_price: bool) -> list[OrderItem]:
    """Each item checked against the catalog and priced, with two queries whatever the line count."""
    if not items:
        raise invalid("Items", "An order needs at least one item.")
    if len(items) > MAX_ORDER_LINES:
        raise invalid("Items", f"At most {MAX_ORDER_LINES} lines per order.")
    skus = {item["sku"] for item in items}
    products = {p.sku: p for p in Product.objects.filter(organization=organization, sku__in=skus, active=True)}
    breaks = price_breaks([p.pk for p in products.values()], price_tier_id=price_tier.pk, currency_code=currency_code)
    errors, lines = {}, []
    for index, item in enumerate(items):
        prefix = f"Items[{index}]"
        product = products.get(item["sku"])
        if product is None:
            errors[f"{prefix}.Sku"] = [f"No active product '{item['sku']}'."]
            continue
        quantity = item["quantity"]
        if quantity < product.minimum_order_quantity:
            errors[f"{prefix}.Quantity"] = [f"At least {product.minimum_order_quantity} of {product.sku}."]
            continue
        if quantity % product.quantity_increment:
            errors[f"{prefix}.Quantity"] = [f"{product.sku} is sold in multiples of {product.quantity_increment}."]
            continue
        catalog_price = price_at(breaks.get(product.pk, []), quantity)
        if catalog_price is None:
            errors[f"{prefix}.Sku"] = [f"{product.sku} has no {price_tier.code} price in {currency_code} for this quantity."]
            continue
        price = item.get("price")
        if price is None:
            price = catalog_price
        elif price != catalog_price and not may_set_price:
            errors[f"{prefix}.Price"] = ["A portal user orders at catalog prices."]
            continue
        price = price.quantize(CENT)  # as stored (the input has at most 2 decimals): 18.5 is 18.50
        lines.append(OrderItem(
            position=index, product=product, sku=product.sku, product_name=product.name, quantity=quantity,
            price=price, catalog_price=catalog_price, line_total=quantity * price,
        ))
    if errors:
        raise serializers.ValidationError(errors)
    return lines


def _replayed(organization, idempotency_key, external_id, fingerprint) -> Order | None:
    """The order a repeated request already placed; the same key with another body is a 409."""
    for field, value, name in (("idempotency_key", idempotency_key, "Idempotency-Key"),
                               ("external_id", external_id, "ExternalId")):
        if not value:
            continue
        existing = Order.objects.filter(organization=organization, **{field: value}).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise Conflict(f"{name} '{value}' was used for a different order.", errors={name: ["Already used."]})
            return existing
    return None


def order_place(
    *,
    organization: Organization,
    actor: Principal,
    actor_user=None,
    actor_label: str,
    customer: Customer,
    items: list[dict],
    order_type: str | None = None,
    channel: str | None = None,
    po_number: str = "",
    price_tier: PriceTier | None = None,
    currency_code: str | None = None,
    terms: str | None = None,
    primary_rep_number: str | None = None,
    taken_by_rep_number: str | None = None,
    sales_credits: list[dict] | None = None,
    external_id: str | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> tuple[Order, bool]:
    """Places an order for a customer the actor can see; returns (order, created).

    A portal user orders for its own account as `Standard` at catalog prices; a rep for its own
    customers, recorded as `TakenBySalesRep` unless another rep is named, with the customer's
    assigned rep as `PrimarySalesRep`; admins may name any rep and any price, and give the order's
    `SalesCredits` (else the primary rep is credited whole).
    """
    replay = _replayed(organization, idempotency_key, external_id, fingerprint)
    if replay is not None:
        return replay, False
    if not customer.active:
        raise invalid("Customer.CustomerNumber", f"Customer '{customer.customer_number}' is inactive.")

    if actor.is_customer:
        if order_type not in (None, OrderType.STANDARD):
            raise invalid("OrderType", "A portal user places Standard orders.")
        for value, field in ((primary_rep_number, "PrimarySalesRep"), (taken_by_rep_number, "TakenBySalesRep")):
            if value:
                raise invalid(field, "A portal user does not name sales reps.")
        if price_tier is not None and price_tier.pk != customer.price_tier_id:
            raise invalid("PriceTier", "A portal user orders at its own price tier.")
        # Terms set the invoice's due date. Like Price, a portal user takes its account's own;
        # sending those back, as a fetched order carries them, is fine.
        if terms and not _same_terms(terms, customer.terms):
            raise invalid("Terms", "A portal user orders on its account's terms.")
    order_type = order_type or (OrderType.STANDARD if actor.is_customer else OrderType.ASSISTED)
    channel = channel or (Channel.PORTAL if actor.is_customer else Channel.WEB)

    primary = _rep(organization, primary_rep_number, "PrimarySalesRep.RepNumber") or customer.sales_rep
    if actor.is_rep and primary is not None and primary.pk != customer.sales_rep_id:
        raise invalid("PrimarySalesRep.RepNumber", "A sales rep cannot give a customer's commission to another rep.")
    if sales_credits is not None and not actor.is_admin:
        raise invalid("SalesCredits", "Only admins give sales credits.")
    credits = sales_credits_checked(organization=organization, credits=sales_credits) if sales_credits else (
        [(primary, Decimal("1"))] if primary is not None else [])
    taken_by = _rep(organization, taken_by_rep_number, "TakenBySalesRep.RepNumber")
    if taken_by is None and actor.is_rep:
        taken_by = customer.sales_rep if customer.sales_rep_id == actor.sales_rep_id else (
            OrganizationSalesRep.objects.select_related(*REP_SHOWN).get(pk=actor.sales_rep_id))

    price_tier = price_tier or customer.price_tier
    currency_code = currency_code or customer.currency_code
    try:
        terms = normalize_terms(terms or customer.terms)
    except serializers.ValidationError as exc:
        raise invalid("Terms", str(exc.detail[0])) from None
    if not terms:
        raise invalid("Terms", "The customer has no default terms: give Terms.")
    lines = _priced_items(items, organization=organization, price_tier=price_tier, currency_code=currency_code,
                          may_set_price=not actor.is_customer)
    prefetch_related_objects([customer], "addresses")
    snapshot = _customer_snapshot(customer)

    with transaction.atomic():
        # Serializes placement per organization from here. A duplicate that got past the check above
        # meanwhile is caught by the unique constraints when the order is saved: order_place_idempotent
        # rolls back (the number with it) and answers with the order that won.
        number = next_number(organization.pk, "ORD")
        order = Order(
            organization=organization, order_number=number, customer=customer, customer_snapshot=snapshot,
            order_type=order_type, channel=channel, po_number=po_number or "", price_tier=price_tier,
            currency_code=currency_code, terms=terms, primary_sales_rep=primary, taken_by_sales_rep=taken_by,
            placed_by=actor_user, placed_by_label=actor_label, placed_by_role=actor.role,
            subtotal=sum((line.line_total for line in lines), Decimal("0.00")),
            external_id=external_id or None, idempotency_key=idempotency_key or None, request_fingerprint=fingerprint,
        )
        order.save()
        for line in lines:
            line.order = order
        OrderItem.objects.bulk_create(lines)
        written = sales_credits_write(order=order, credits=credits, new_order=True)
        # The new order as stored, for its answer and its audit entry without reading it back.
        order.prefetched_items, order.prefetched_sales_credits = lines, written
        audit_record(order, "created", children=("items", "sales_credits"),
                     rows={"items": lines, "sales_credits": written})
        _emit_order(order, "order.created")
    return order, True


def sales_credits_checked(*, organization: Organization, credits: list[dict]) -> list[tuple]:
    """(rep, share) pairs for §4's `SalesCredits`: every rep of the organization and active, each
    once, each share above 0 with up to 4 decimals, the shares adding up to exactly 1."""
    errors: dict[str, list[str]] = {}
    numbers = [credit["rep_number"] for credit in credits]
    reps = {rep.rep_number: rep for rep in OrganizationSalesRep.objects.select_related(*REP_SHOWN).filter(
        organization=organization, rep_number__in=numbers)}
    checked, seen = [], set()
    for index, credit in enumerate(credits):
        rep = reps.get(credit["rep_number"])
        field = f"SalesCredits[{index}]"
        if rep is None:
            errors[f"{field}.RepNumber"] = [f"No sales rep '{credit['rep_number']}' in this organization."]
        elif not rep.active:
            errors[f"{field}.RepNumber"] = [f"Sales rep '{rep.rep_number}' is inactive."]
        elif rep.pk in seen:
            errors[f"{field}.RepNumber"] = [f"Sales rep '{rep.rep_number}' is credited twice."]
        else:
            seen.add(rep.pk)
        share = credit["share"]
        if not (Decimal("0") < share <= Decimal("1")) or share != share.quantize(Decimal("0.0001")):
            errors[f"{field}.Share"] = ["A share is above 0, at most 1, with up to 4 decimals."]
        checked.append((rep, share))
    if not errors and sum(share for _, share in checked) != 1:
        errors["SalesCredits"] = [f"The shares add up to {sum(s for _, s in checked)}, not 1."]
    if errors:
        raise serializers.ValidationError(errors)
    return checked


def sales_credits_write(*, order: Order, credits: list[tuple], new_order: bool = False) -> list[SalesCredit]:
    """Replaces the order's credits with (rep, share) pairs, in the order given (a new order has
    none); returns them as stored."""
    if not new_order:
        SalesCredit.objects.filter(order=order).delete()
    return SalesCredit.objects.bulk_create([
        SalesCredit(order=order, sales_rep=rep, share=share.quantize(SHARE_PLACES), position=index)
        for index, (rep, share) in enumerate(credits)
    ])


def order_place_idempotent(**kwargs) -> tuple[Order, bool]:
    """order_place, where a duplicate that raced past the lock (the unique constraint caught it)
    answers with the order that won."""
    try:
        with transaction.atomic():
            return order_place(**kwargs)
    except IntegrityError:
        replay = _replayed(kwargs["organization"], kwargs.get("idempotency_key"), kwargs.get("external_id"),
                           kwargs.get("fingerprint", ""))
        if replay is None:
            raise
        return replay, False


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    before = audit_snapshot(order)
    if Invoice.objects.filter(order=order).exists():
        raise Conflict("An invoiced order cannot be cancelled.")
    if order.status not in (OrderStatus.PENDING, OrderStatus.PROCESSING):
        raise Conflict(f"A {order.status} order cannot be cancelled.")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = order.updated_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    audit_record(order, "cancelled", before=before)
    _emit_order(order, "order.cancelled")
    return order


@transaction.atomic
def order_advance(*, order: Order, status: str) -> Order:
    """Admins move an order forward: Pending → Processing → Shipped → Complete (skipping is fine)."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if status == OrderStatus.CANCELLED:
        return order_cancel(order=order)
    if order.status == OrderStatus.CANCELLED or FORWARD.index(status) <= FORWARD.index(order.status):
        raise Conflict(f"An order cannot go from {order.status} to {status}.")
    before = audit_snapshot(order)
    order.status = status
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    audit_record(order, "status_changed", before=before)
    _emit_order(order, "order.status_changed")
    return order


# ---------------------------------------------------------------- invoices

NET_DAYS = re.compile(r"^Net(\d+)$")


def due_date_for(invoice_date: datetime.date, terms: str) -> datetime.date:
    """NetN: N days after the invoice date; COD and Prepaid: the invoice date."""
    match = NET_DAYS.match(terms or "")
    return invoice_date + datetime.timedelta(days=int(match.group(1)) if match else 0)


@transaction.atomic
def invoice_create(*, order: Order, invoice_date: datetime.date | None = None) -> Invoice:
    """Invoices the whole order, once."""
    order = Order.objects.select_for_update(of=("self",)).select_related("organization").get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise Conflict("A cancelled order cannot be invoiced.")
    if Invoice.objects.filter(order=order).exists():
        raise Conflict("This order is invoiced already.", errors={"OrderId": ["Invoiced already."]})
    invoice_date = invoice_date or local_date(order.organization, timezone.now())
    items = list(order.items.all())
    invoice = Invoice.objects.create(
        organization=order.organization, order=order, customer_id=order.customer_id,
        primary_sales_rep_id=order.primary_sales_rep_id, invoice_number=next_number(order.organization_id, "INV"),
        invoice_date=invoice_date, due_date=due_date_for(invoice_date, order.terms), currency_code=order.currency_code,
        total=sum((item.line_total for item in items), Decimal("0.00")),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=item.position, order_item=item, product_id=item.product_id, sku=item.sku,
                    product_name=item.product_name, quantity=item.quantity, price=item.price, line_total=item.line_total)
        for item in items
    )
    audit_record(invoice, "created", children=("lines",))
    _emit_invoice(invoice, "invoice.created")
    return invoice


@transaction.atomic
def payment_record(*, invoice: Invoice, amount: Decimal, paid_at: datetime.datetime | None = None,
                   reference: str = "", actor_label: str) -> Invoice:
    """A partial payment makes the invoice PartiallyPaid; the one that completes it makes it Paid
    with that payment's time as PaidAt. Overpaying is refused."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("organization").get(pk=invoice.pk)
    before = audit_snapshot(invoice, ("payments",))
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        raise Conflict(f"A {invoice.status} invoice takes no payment.")
    if amount <= 0:
        raise invalid("Amount", "Must be more than zero.")
    if amount > invoice.balance:
        raise invalid("Amount", f"Overpays the invoice: the balance is {invoice.balance}.")
    paid_at = paid_at or timezone.now()
    try:
        paid_on = local_date(invoice.organization, paid_at)
    except OverflowError:  # 0001-01-01T00:00Z has no day in America/Chicago
        raise invalid("PaidAt", "Out of range in the organization's time zone.") from None
    Payment.objects.create(invoice=invoice, amount=amount, paid_at=paid_at, paid_on=paid_on, reference=reference,
                           recorded_by=actor_label)
    invoice.amount_paid += amount
    if invoice.amount_paid == invoice.total:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = paid_at
        invoice.paid_on = paid_on
    else:
        invoice.status = InvoiceStatus.PARTIALLY_PAID
    invoice.save(update_fields=["amount_paid", "status", "paid_at", "paid_on"])
    audit_record(invoice, "payment_recorded", before=before)
    _emit_invoice(invoice, "invoice.payment_recorded")
    if invoice.status == InvoiceStatus.PAID:
        _emit_invoice(invoice, "invoice.paid")
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice) -> Invoice:
    """Only while nothing is paid; a voided invoice stays void."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED or invoice.amount_paid:
        raise Conflict(f"A {invoice.status} invoice cannot be voided.")
    before = audit_snapshot(invoice)
    invoice.status = InvoiceStatus.VOIDED
    invoice.voided_at = timezone.now()
    invoice.save(update_fields=["status", "voided_at"])
    audit_record(invoice, "voided", before=before)
    _emit_invoice(invoice, "invoice.voided")
    return invoice


@transaction.atomic
def credit_memo_create(*, invoice: Invoice, credit_date: datetime.date, reason: str = "", lines: list[dict],
                       actor_label: str) -> CreditMemo:
    """A return against a paid invoice; across all its memos no line is credited beyond what was invoiced.
    A SKU on several lines is credited against them in order."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.PAID:
        raise Conflict("Credit memos are recorded against paid invoices only.")
    if not lines:
        raise invalid("Lines", "A credit memo needs at least one line.")
    invoice_lines = list(invoice.lines.annotate(credited=Sum("credit_lines__quantity")).order_by("position"))
    room = {line.pk: line.quantity - (line.credited or 0) for line in invoice_lines}
    memo_lines, errors = [], {}
    for index, requested in enumerate(lines):
        wanted = requested["quantity"]
        candidates = [line for line in invoice_lines if line.sku == requested["sku"]]
        if not candidates:
            errors[f"Lines[{index}].Sku"] = [f"'{requested['sku']}' is not on this invoice."]
            continue
        available = sum(room[line.pk] for line in candidates)
        if wanted > available:
            errors[f"Lines[{index}].Quantity"] = [f"Only {available} of {requested['sku']} can still be credited."]
            continue
        for line in candidates:
            take = min(wanted, room[line.pk])
            if take:
                room[line.pk] -= take
                wanted -= take
                memo_lines.append(CreditMemoLine(invoice_line=line, quantity=take, price=line.price,
                                                 amount=take * line.price))
    if errors:
        raise serializers.ValidationError(errors)
    memo = CreditMemo.objects.create(
        invoice=invoice, credit_date=credit_date, reason=reason, recorded_by=actor_label,
        total=sum((line.amount for line in memo_lines), Decimal("0.00")),
    )
    for line in memo_lines:
        line.credit_memo = memo
    CreditMemoLine.objects.bulk_create(memo_lines)
    audit_record(memo, "created", children=("lines",), organization_id=invoice.organization_id)
    webhook_emit(organization_id=invoice.organization_id, event_type="credit_memo.created",
                 data=lambda: CreditMemoSerializer(CreditMemo.objects.prefetch_related("lines__invoice_line").get(
                     pk=memo.pk)).data)
    return memo
