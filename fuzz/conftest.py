"""The world the fuzzer runs in, the callers it acts as, and the snapshot that proves scope.

The world is two organizations built like the root conftest's tenants (ACME, the caller's, and
GLOBEX, the other), each with a catalog, a paid, an issued and a pending order, an active plan, a
Draft statement and an API client. It is seeded once per module; every test item (one operation ×
one role) runs in a savepoint rolled back after it, so each starts from the same world.

The schema the fuzzer reads lists the world's objects as examples (`add_examples`): path
parameters name them by reference (`@own.order.paid`, …), which `World.resolve` turns into ids,
and request bodies name real customers, products, tiers and reps. So operations run on the
caller's objects, a colleague's and the other organization's, besides the fuzzer's own values.
"""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote, unquote

import pytest
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, models, transaction
from django.db.models import Q

from commissions.plans import services as plans

from commissions.statements import services as statements
from commissions.models import CommissionPlan, CommissionStatement
from conftest import Tenant, make_tenant
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from nymble import services as core
from nymble.models import Organization, User
from nymble.scoping import principal_of
from nymble.tokens import ApiClientUser, api_client_token, membership_tokens, principal_for_membership
from orders import services as orders
from orders.models import Invoice, Order, OrganizationSequence
from orders.tests.conftest import add_product
from salesreps.models import OrganizationSalesRep, SalesRep
from salesreps.tests.factories import SalesRepFactory
from audit.models import AuditEvent
from webhooks import services as webhooks
from webhooks.models import WebhookDelivery

ROLES = ("admin", "rep", "portal", "client")
PAID_ON = datetime.datetime(2026, 10, 10, 15, 0, tzinfo=datetime.UTC)
PERIOD = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
TENANT_APPS = ("nymble", "salesreps", "customers", "orders", "commissions", "audit", "webhooks")

# For each path parameter, the objects it may name: the caller's own first (Hypothesis shrinks
# towards the first), then a colleague's in the same organization, then the other organization's.
REFERENCES = {  # by the path parameters' names in the schema (`{customerNumber}`, as §4 writes them)
    "organizationId": ["@own.org", "@other.org"],
    "customerNumber": ["@own.customer", "@own.other_customer", "@other.only_customer"],
    "contactId": ["@own.contact", "@own.other_contact", "@other.contact"],
    "orderId": ["@own.order.paid", "@own.order.issued", "@own.order.pending", "@other.order.paid"],
    "invoiceId": ["@own.invoice.paid", "@own.invoice.issued", "@other.invoice.paid"],
    "planId": ["@own.plan", "@other.plan"],
    "statementId": ["@own.statement", "@other.statement"],
    "clientId": ["@own.client", "@other.client"],
    "repNumber": ["@own.rep", "@own.other_rep", "@other.only_rep"],
    "webhookId": ["@own.webhook", "@other.webhook"],
    "deliveryId": ["@own.delivery", "@other.delivery"],
    "sku": ["@own.sku", "@own.retired_sku", "@other.only_sku"],
}
ALL_REFERENCES = frozenset(reference for references in REFERENCES.values() for reference in references)

# Ids inside request bodies must be valid where the schema says uuid, so they are stand-ins that
# `World.resolve_body` swaps for the world's: REP-007's SalesRepId, REP-012's, GLOBEX's REP-007's.
SALES_REP_IDS = {
    "00000000-0000-4000-8000-000000000001": "@own.sales_rep_id",
    "00000000-0000-4000-8000-000000000002": "@own.other_sales_rep_id",
    "00000000-0000-4000-8000-000000000003": "@other.sales_rep_id",
}
# Examples for the request bodies' properties (component → property → values), so that writes reach
# the real rules with real customers, products, tiers and reps, the caller's and others'.
BODY_EXAMPLES = {
    "OrderCreateRequest": {"PriceTier": ["Wholesale"], "CurrencyCode": ["USD"], "Terms": ["Net30"]},
    "OrderCustomerRequest": {"CustomerNumber": ["CUST-0042", "CUST-0099", "CUST-GLOBEX"]},
    "OrderItemRequest": {"Sku": ["WDG-100-BLU", "BLT-7", "ONLY-GLOBEX"], "Quantity": [2, 10]},
    "RepRequest": {"RepNumber": ["REP-007", "REP-012", "REP-GLOBEX"]},
    "CustomerRequest": {"Pricing": ["Wholesale", "Retail"], "RepNumber": ["REP-007", "REP-012"],
                        "CurrencyCode": ["USD"], "Terms": ["Net30"]},
    "PatchedCustomerRequest": {"Pricing": ["Wholesale", "Retail"], "RepNumber": ["REP-007", "REP-012"],
                               "CurrencyCode": ["USD"], "Terms": ["Net30"]},
    "ContactRequest": {"Email": ["jane@cust-0042.acme.example"]},  # the contact with the portal login
    "ProductPriceRequest": {"PriceTier": ["Wholesale", "Retail"], "CurrencyCode": ["USD"]},
    "CommissionPlanRequest": {"SalesRepId": list(SALES_REP_IDS)},
    "PatchedCommissionPlanRequest": {"SalesRepId": list(SALES_REP_IDS)},
    "CustomerOverrideRequest": {"CustomerNumber": ["CUST-0042", "CUST-0099"]},
    "StatementGenerateRequest": {"SalesRepId": list(SALES_REP_IDS), "PeriodStart": ["2026-10-01"],
                                 "PeriodEnd": ["2026-10-31"], "CurrencyCode": ["USD"]},
    "PaymentRequest": {"Amount": [1]},
    "CreditMemoLineRequest": {"Sku": ["WDG-100-BLU"], "Quantity": [1]},
}


def add_examples(raw_schema: dict) -> None:
    """Writes the world's references into the schema the fuzzer reads: every path parameter lists
    them as its examples, and the request bodies' properties get `BODY_EXAMPLES`."""
    for methods in raw_schema["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                references = REFERENCES.get(parameter["name"]) if parameter.get("in") == "path" else None
                if references:
                    parameter["examples"] = {reference[1:]: {"value": reference} for reference in references}
    components = raw_schema["components"]["schemas"]
    for component, properties in BODY_EXAMPLES.items():
        for name, values in properties.items():
            components[component]["properties"][name]["examples"] = values


@dataclass
class Org:
    """One organization of the world and the objects its references name."""

    tenant: Tenant
    objects: dict = field(default_factory=dict)  # reference key → id or number (and the API client itself)


def _seed(tenant: Tenant, *, only_suffix: str) -> Org:
    org = tenant.org
    add_product(org, "WDG-100-BLU", "Widget Blue", [("Wholesale", 1, "18.50"), ("Retail", 1, "24.99")])
    add_product(org, "BLT-7", "Bolt pack", [("Wholesale", 1, "3.10")], minimum_order_quantity=10, quantity_increment=5)
    add_product(org, "OLD-1", "Retired", [("Wholesale", 1, "1.00")], active=False)
    add_product(org, f"ONLY-{only_suffix}", "Only here", [("Wholesale", 1, "2.00")])
    only_rep = SalesRepFactory(organization=org, rep_number=f"REP-{only_suffix}")
    only_customer = CustomerFactory(organization=org, customer_number=f"CUST-{only_suffix}", sales_rep=only_rep)
    actor = principal_for_membership(tenant.admin)

    def order(customer, sku, quantity):
        placed, _ = orders.order_place(organization=org, actor=actor, actor_label="seed", customer=customer,
                                       items=[{"sku": sku, "quantity": quantity}])
        return placed

    paid = order(tenant.customer, "WDG-100-BLU", 2)
    paid_invoice = orders.invoice_create(order=paid)
    orders.payment_record(invoice=paid_invoice, amount=paid_invoice.total, paid_at=PAID_ON, actor_label="seed")
    issued = order(tenant.customer, "BLT-7", 10)
    issued_invoice = orders.invoice_create(order=issued)
    pending = order(tenant.other_customer, "WDG-100-BLU", 1)
    plan = plans.plan_create(
        organization=org, sales_rep=tenant.rep, name="Standard", default_rate=Decimal("0.05"), active=True,
        rules=[{"priority": 10, "name": "Widgets", "rate": Decimal("0.10"), "sku_patterns": ["WDG-*"]}],
        overrides=[{"customer_number": tenant.customer.customer_number, "default_rate": Decimal("0.07")}],
    )
    statement = statements.statement_generate(rep=tenant.rep, period_start=PERIOD[0], period_end=PERIOD[1],
                                              actor="seed")
    client, _ = core.api_client_create(organization=org, name="ERP sync")
    # A webhook for an event only admins make (so no rep's or portal user's request sends to it), at
    # a name that never resolves, with one delivery queued (never sent: the seed does not commit).
    webhook = webhooks.endpoint_create(organization=org, url=f"https://{only_suffix.lower()}.hooks.invalid/nymble",
                                       events=["statement.approved"])
    webhooks.webhook_emit(organization_id=org.id, event_type="statement.approved", data=lambda: {"Seed": True})
    return Org(tenant=tenant, objects={
        "org": str(org.id),
        "sales_rep_id": str(tenant.rep.sales_rep_id),
        "other_sales_rep_id": str(tenant.other_rep.sales_rep_id),
        "customer": tenant.customer.customer_number,
        "other_customer": tenant.other_customer.customer_number,
        "only_customer": only_customer.customer_number,
        "contact": str(tenant.customer.contacts.first().id),
        "other_contact": str(tenant.other_customer.contacts.first().id),
        "order.paid": str(paid.id),
        "order.issued": str(issued.id),
        "order.pending": str(pending.id),
        "invoice.paid": str(paid_invoice.id),
        "invoice.issued": str(issued_invoice.id),
        "plan": str(plan.id),
        "statement": str(statement.id),
        "client": str(client.id),
        "rep": tenant.rep.rep_number,
        "other_rep": tenant.other_rep.rep_number,
        "only_rep": only_rep.rep_number,
        "sku": "WDG-100-BLU",
        "retired_sku": "OLD-1",
        "only_sku": f"ONLY-{only_suffix}",
        "client_object": client,
        "webhook": str(webhook.id),
        "delivery": str(WebhookDelivery.objects.get(endpoint=webhook).id),
    })


class World:
    def __init__(self, own: Org, other: Org):
        self.own, self.other = own, other
        self.reset()

    def reset(self) -> None:
        """Forget what one test item learnt: its callers and its last snapshot."""
        self._callers: dict[str, tuple] = {}
        self.snapshot: Snapshot | None = None

    def resolve(self, value):
        """`@own.order.paid` (as the path carries it, percent-encoded) → that order's id in this
        world; anything else is left as it is."""
        reference = unquote(value) if isinstance(value, str) else ""
        if reference not in ALL_REFERENCES:
            return value
        side, key = reference[1:].split(".", 1)
        return quote((self.own if side == "own" else self.other).objects[key], safe="")

    def resolve_body(self, body):
        """The body with the stand-in ids of `SALES_REP_IDS` swapped for the world's."""
        if isinstance(body, dict):
            return {key: self.resolve_body(value) for key, value in body.items()}
        if isinstance(body, list):
            return [self.resolve_body(item) for item in body]
        if isinstance(body, str) and body in SALES_REP_IDS:
            side, key = SALES_REP_IDS[body][1:].split(".", 1)
            return (self.own if side == "own" else self.other).objects[key]
        return body

    def secrets(self, role: str) -> set[str]:
        """What no answer to the role may contain (compared case-insensitively): anything of
        GLOBEX's, and for a rep or a portal user, its colleagues' customers and their orders; for a
        portal user, the commission plan and statement too."""
        other, own = self.other.objects, self.own.objects
        hidden = {"globex", *(other[key] for key in ("org", "contact", "order.paid", "invoice.paid", "plan",
                                                     "statement", "client", "webhook", "delivery"))}
        if role in ("rep", "portal"):
            hidden |= {own[key] for key in ("other_customer", "only_customer", "other_contact", "order.pending")}
        if role == "portal":
            hidden |= {own["plan"], own["statement"]}
        return {value.lower() for value in hidden}

    def caller(self, role: str):
        """(the Authorization header, the request user as the API sees it) for a role in ACME."""
        if role not in self._callers:
            self._callers[role] = self._caller(role)
        return self._callers[role]

    def _caller(self, role: str):
        tenant = self.own.tenant
        if role == "client":
            client = self.own.objects["client_object"]
            return f"Bearer {api_client_token(client)['AccessToken']}", ApiClientUser(client)
        membership = {"admin": tenant.admin, "rep": tenant.rep.membership, "portal": tenant.portal}[role]
        membership.refresh_from_db()
        user = membership.user
        user.principal = principal_for_membership(membership)
        return f"Bearer {membership_tokens(membership)['AccessToken']}", user

    def out_of_scope(self, user) -> Snapshot:
        """Every row the caller may not change: all of GLOBEX's, and in ACME what lies outside the
        caller's scope as §5 draws it (`_scope`), written here apart from the product's own
        `visible_to` so that a mistake there cannot hide itself."""
        principal = principal_of(user)
        scope = _scope(principal)
        snapshot = Snapshot()
        for model in _tenant_models():
            manager, label, owner = model._default_manager, model._meta.label, _path_to_organization(model)
            if owner is None:
                continue
            in_caller_organization = manager.filter(**{owner: principal.organization_id})
            outside = manager.filter(**{owner: self.other.tenant.org.id})
            if scope is not None:
                outside = outside | in_caller_organization.exclude(_in_scope(model, scope))
            snapshot.rows[label] = {row[0]: row for row in outside.distinct().values_list()}
            snapshot.known[label] = set(in_caller_organization.values_list("pk", flat=True))
        return snapshot


@dataclass
class Snapshot:
    rows: dict[str, dict] = field(default_factory=dict)  # per table: the out-of-scope rows by pk
    known: dict[str, set] = field(default_factory=dict)  # per table: the pks of the caller's organization

    def changes_since(self, before: Snapshot) -> list[str]:
        """Out-of-scope rows changed, removed or created since `before`. A row of the caller's own
        organization that the request moved out of the caller's scope (a revoked API client) was in
        scope when it changed."""
        changes = []
        for label, rows in before.rows.items():
            now = self.rows[label]
            for pk, row in rows.items():
                if pk not in now:
                    model = apps.get_model(label)
                    current = model._default_manager.filter(pk=pk).values_list().first()
                    if current != row:
                        changes.append(f"{label} {pk} {'removed' if current is None else 'changed'}")
                elif now[pk] != row:
                    changes.append(f"{label} {pk} changed")
            for pk in now.keys() - rows.keys():
                if pk not in before.known.get(label, ()):
                    changes.append(f"{label} {pk} created")
        return changes


def rows_written() -> int | None:
    """How many rows this connection has written so far (None where the database cannot say):
    a request that wrote nothing cannot have changed anything, in scope or out of it."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.total_changes
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_all_tables")
            return cursor.fetchone()[0]
    return None


EVERY_ROW = Q(pk__isnull=False)  # (an empty Q() would exclude nothing)
# What any caller's change writes in its own organization besides the change: order numbers, its
# audit entry, the deliveries of the organization's webhooks (none of the seed's: admins' events).
WRITTEN_FOR_EVERY_CALLER = {AuditEvent: EVERY_ROW, WebhookDelivery: EVERY_ROW}


def _scope(principal) -> dict[type[models.Model], Q] | None:
    """§5 as a table: for a rep or a portal user, the rows of its organization it may change (with
    their children); None for admins and API clients, whose scope is the whole organization.
    Everything else of the organization (catalog, settings, other logins) only admins change."""
    if principal.is_rep:
        rep = principal.sales_rep_id
        return {Customer: Q(sales_rep_id=rep), Order: Q(customer__sales_rep_id=rep),
                Invoice: Q(customer__sales_rep_id=rep), CommissionPlan: Q(sales_rep_id=rep),
                CommissionStatement: Q(sales_rep_id=rep), OrganizationSalesRep: Q(pk=rep),
                OrganizationSequence: EVERY_ROW, **WRITTEN_FOR_EVERY_CALLER}
    if principal.is_customer:
        customer = principal.customer_id
        return {Customer: Q(pk=customer), Order: Q(customer_id=customer), Invoice: Q(customer_id=customer),
                OrganizationSequence: EVERY_ROW, **WRITTEN_FOR_EVERY_CALLER}
    return None


def _in_scope(model, scope: dict) -> Q:
    """The rows of `model` inside `scope`: its own entry, or its parent's through a foreign key
    (an order's items, an invoice's payments, a credit memo's lines)."""
    path = _path_to(model, tuple(scope))
    if path is None:
        return Q(pk__in=[])
    target, prefix = path
    if not prefix:
        return scope[target]
    parents = target._default_manager.filter(scope[target]).values("pk")
    return Q(**{f"{prefix}__in": parents})


def _path_to(model, targets: tuple, seen=()) -> tuple[type[models.Model], str] | None:
    if model in targets:
        return model, ""
    for fk in model._meta.concrete_fields:
        if fk.is_relation and fk.related_model not in seen and fk.related_model._meta.app_label in TENANT_APPS:
            found = _path_to(fk.related_model, targets, (*seen, model))
            if found is not None:
                return found[0], f"{fk.name}__{found[1]}" if found[1] else fk.name
    return None


@functools.cache
def _tenant_models() -> list[type[models.Model]]:
    return [model for name in TENANT_APPS for model in apps.get_app_config(name).get_models()]


def _path_to_organization(model, seen=()) -> str | None:
    """The ORM path from a model to the organization that owns its rows, following FKs (a login
    or a global rep: through its memberships)."""
    if model is Organization:
        return "pk"
    if model is User:
        return "memberships__organization"
    if model is SalesRep:
        return "organization_reps__organization"
    for fk in model._meta.concrete_fields:
        if fk.is_relation and fk.related_model is Organization:
            return fk.name
    for fk in model._meta.concrete_fields:
        if fk.is_relation and fk.related_model not in seen and fk.related_model._meta.app_label in TENANT_APPS:
            rest = _path_to_organization(fk.related_model, (*seen, model))
            if rest is not None:
                return fk.name if rest == "pk" else f"{fk.name}__{rest}"
    return None


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction():
    """Requests go straight to the WSGI application, whose request signals would close the
    connection (and so the test's transaction); Django's test client unhooks them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def seeded_world(django_db_setup, django_db_blocker):
    """The world, seeded once for the module inside a transaction that is rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield World(_seed(make_tenant("Acme Corp", "ACME"), only_suffix="ACME"),
                    _seed(make_tenant("Globex", "GLOBEX"), only_suffix="GLOBEX"))
        transaction.set_rollback(True)


@pytest.fixture
def world(seeded_world, db):
    """The seeded world as it was: each test item runs in a savepoint (`db`'s) rolled back after it."""
    seeded_world.reset()
    return seeded_world
