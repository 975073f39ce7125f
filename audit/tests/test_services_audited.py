"""Every service that writes leaves an audit entry (§12), and a change that rolls back leaves none.

`WRITERS` lists the writing functions of each service module, `NOT_AUDITED_HERE` the public
functions that only read, or write only as a step of a writer that records the change; the first
test fails when a service module gains a public function in neither list, so a new writer cannot
slip past the trail. The walk below then calls every writer once, through the services, and
checks the entry it left.
"""
import datetime
import inspect
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from audit.actors import acting_as
from audit.models import AuditEvent
from commissions.models import CommissionStatement, StatementSchedule
from commissions.plans import services as plans
from commissions.statements import schedule
from commissions.statements import services as statements
from customers import services as customers
from nymble import logins
from nymble import services as core
from nymble.models import Membership
from nymble.scoping import Principal
from nymble.tests.factories import PASSWORD, tier
from orders import services as orders
from orders.catalog import services as products
from orders.models import Product
from webhooks import services as webhooks
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

WRITERS = {
    core: {"organization_create", "price_tier_create", "attribute_definition_create", "api_client_create",
           "api_client_revoke"},
    logins: {"login_link", "login_set_password", "invitations_resend", "invitation_accept", "password_reset_confirm"},
    customers: {"customer_create", "customer_update", "customer_upsert", "customer_set_active", "portal_login_create",
                "portal_login_revoke"},
    products: {"product_create", "product_update", "product_upsert", "products_set_active"},
    orders: {"order_place", "order_place_idempotent", "order_cancel", "order_advance", "invoice_create",
             "payment_record", "invoice_void", "credit_memo_create"},
    plans: {"plan_create", "plan_update", "plan_set_active"},
    statements: {"statement_start", "statement_fill", "statement_mark_failed", "statement_generate",
                 "statement_recalculate", "statement_approve", "statement_mark_paid", "statement_void",
                 "statements_mark_paid", "statement_adjust", "statement_adjustment_remove", "statement_dispute_raise",
                 "statement_dispute_resolve", "sales_credits_replace"},
    schedule: {"schedule_ensure", "schedule_update"},
    webhooks: {"endpoint_create", "endpoint_update", "endpoint_delete", "delivery_redeliver"},
}
NOT_AUDITED_HERE = {
    # reads, checks and counters (login limits live in the cache, not in records)
    "api_client_authenticate", "belongs_elsewhere", "password_checked", "invitation_token", "invitation_send",
    "password_reset_request", "login_guard", "login_failed", "login_succeeded", "login_with_password",
    "attributes_validated", "prices_validated", "price_view_for", "catalog_products", "displayed_price",
    "next_number", "local_date", "request_fingerprint", "sales_credits_checked", "due_date_for", "invalid",
    "sales_rep_by_global_id", "active_plan", "plan_spec", "plan_compiled", "plan_schedule", "previous_month",
    "task_name",
    # writes only as a step of order_place and sales_credits_replace, which record the order's credits
    "sales_credits_write",
    # copies the organization's time zone into the beat task's crontab (derived, not a change of its own)
    "schedule_follow_time_zone",
    # the delivery log is the record of events and attempts (an endpoint deactivated is audited)
    "webhook_emit", "delivery_attempt", "due_delivery_ids",
}


def _public_functions(module) -> set[str]:
    return {name for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")}


def test_every_public_service_function_is_known_as_a_writer_or_not():
    from salesreps import services as salesreps

    modules = {**WRITERS, salesreps: {"sales_rep_create", "sales_rep_update", "sales_rep_set_active"}}
    for module, writers in modules.items():
        unknown = _public_functions(module) - writers - NOT_AUDITED_HERE
        assert not unknown, f"{module.__name__}: classify {sorted(unknown)} as a writer (and audit it) or not"
        assert writers <= _public_functions(module), f"{module.__name__}: {sorted(writers - _public_functions(module))}"


class Trail:
    """Asserts that each step leaves (at least) the entry named."""

    def __init__(self, organization):
        self.organization = organization
        self.seen: set[str] = set()

    def step(self, service: str, object_type: str, action: str, call, *, elsewhere: bool = False):
        since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        result = call()
        new = AuditEvent.objects.filter(pk__gt=since)
        if not elsewhere:
            new = new.filter(organization=self.organization)
        entry = new.filter(object_type=object_type, action=action).first()
        assert entry is not None, (service, object_type, action, list(new.values_list("object_type", "action")))
        assert entry.actor not in ("", "system"), entry.actor  # the test's actor, or the person acting for itself
        self.seen.add(service)
        return result


def test_each_writer_leaves_its_entry(tenant, other_tenant, catalog):
    org, rep, customer = tenant.org, tenant.rep, tenant.customer
    admin = Principal(organization_id=org.pk, role="Admin", membership_id=tenant.admin.pk)
    trail = Trail(org)
    with acting_as("tester@example.test"):
        new_org = trail.step("organization_create", "Organization", "created", lambda: core.organization_create(
            name="Initech", org_code="INIT", admin_email="boss@initech.test", admin_password=PASSWORD), elsewhere=True)
        assert AuditEvent.objects.filter(organization=new_org, object_type="Membership", action="created").exists()
        trail.seen.add("login_link")
        trail.step("price_tier_create", "PriceTier", "created",
                   lambda: core.price_tier_create(organization=org, code="Gold", name="Gold prices"))
        trail.step("attribute_definition_create", "CustomerAttribute", "created",
                   lambda: core.attribute_definition_create(organization=org, key="region", type="string"))
        client, _ = trail.step("api_client_create", "ApiClient", "created",
                               lambda: core.api_client_create(organization=org, name="ERP"))
        trail.step("api_client_revoke", "ApiClient", "revoked", lambda: core.api_client_revoke(client=client))

        # logins: another organization's admin invited here, resent, accepted; a reset
        pending = trail.step("login_link", "Membership", "created", lambda: logins.login_link(
            email=other_tenant.admin.user.email, organization=org, role="Admin"))
        trail.step("invitations_resend", "Membership", "invitation_sent",
                   lambda: logins.invitations_resend(memberships=Membership.objects.filter(pk=pending.pk)))
        pending.refresh_from_db()
        trail.step("invitation_accept", "Membership", "invitation_accepted", lambda: logins.invitation_accept(
            token=logins.invitation_token(pending), password="a-new-pass-456"))
        user = tenant.admin.user
        trail.step("login_set_password", "Membership", "password_changed",
                   lambda: logins.login_set_password(user=user, password="another-pass-789", by_admin=False))
        token = logins._reset_token(user)
        trail.step("password_reset_confirm", "Membership", "password_changed",
                   lambda: logins.password_reset_confirm(token=token, password="third-pass-000"))

        # sales reps
        from salesreps import services as salesreps

        new_rep = trail.step("sales_rep_create", "SalesRep", "created", lambda: salesreps.sales_rep_create(
            organization=org, rep_number="REP-100", first_name="Ann", last_name="Lee", email="ann@acme.test"))
        trail.step("sales_rep_update", "SalesRep", "updated",
                   lambda: salesreps.sales_rep_update(rep=new_rep, phone_number="+1-555-0199"))
        trail.step("sales_rep_set_active", "SalesRep", "deactivated",
                   lambda: salesreps.sales_rep_set_active(rep=new_rep, active=False))

        # customers
        wholesale = tier(org, "Wholesale")
        made = trail.step("customer_create", "Customer", "created", lambda: customers.customer_create(
            organization=org, customer_number="CUST-7", company_name="Seven", company_email="a@seven.test",
            price_tier=wholesale, terms="Net30",
            contacts=[{"first_name": "Sam", "last_name": "Seven", "email": "sam@seven.test"}]))
        trail.step("customer_update", "Customer", "updated",
                   lambda: customers.customer_update(customer=made, company_name="Seven Ltd."))
        trail.step("customer_upsert", "Customer", "updated", lambda: customers.customer_upsert(
            organization=org, customer_number="CUST-7", company_name="Seven Inc.", company_email="a@seven.test",
            price_tier=wholesale, terms="Net30"))
        trail.step("customer_set_active", "Customer", "deactivated",
                   lambda: customers.customer_set_active(customer=made, active=False))
        contact = made.contacts.get()
        trail.step("portal_login_create", "Customer", "portal_login_created",
                   lambda: customers.portal_login_create(contact=contact, password=PASSWORD))
        contact.refresh_from_db()
        trail.step("portal_login_revoke", "Customer", "portal_login_revoked",
                   lambda: customers.portal_login_revoke(contact=contact))

        # catalog
        gizmo = trail.step("product_create", "Product", "created", lambda: products.product_create(
            organization=org, sku="GIZ-1", name="Gizmo",
            prices=[{"price_tier": wholesale, "price": Decimal("5.00")}]))
        trail.step("product_update", "Product", "updated",
                   lambda: products.product_update(product=gizmo, name="Gizmo II"))
        trail.step("product_upsert", "Product", "updated",
                   lambda: products.product_upsert(organization=org, sku="GIZ-1", name="Gizmo III"))
        trail.step("products_set_active", "Product", "deactivated", lambda: products.products_set_active(
            products=Product.objects.filter(pk=gizmo.pk), active=False))

        # orders and invoices
        def place(**extra):
            return orders.order_place(organization=org, actor=admin, actor_label="tester", customer=customer,
                                      items=[{"sku": "WDG-100-BLU", "quantity": 2}], **extra)

        first, _ = trail.step("order_place", "Order", "created", place)
        second, _ = trail.step("order_place_idempotent", "Order", "created",
                               lambda: orders.order_place_idempotent(organization=org, actor=admin, actor_label="t",
                                                                     customer=customer, idempotency_key="k-1",
                                                                     items=[{"sku": "WDG-100-BLU", "quantity": 1}]))
        trail.step("order_cancel", "Order", "cancelled", lambda: orders.order_cancel(order=second))
        trail.step("order_advance", "Order", "status_changed",
                   lambda: orders.order_advance(order=first, status="Processing"))
        third, _ = place()
        unpaid = orders.invoice_create(order=third)
        trail.step("invoice_void", "Invoice", "voided", lambda: orders.invoice_void(invoice=unpaid))
        invoice = trail.step("invoice_create", "Invoice", "created", lambda: orders.invoice_create(order=first))
        paid_at = datetime.datetime(2026, 3, 20, 18, tzinfo=datetime.UTC)
        trail.step("payment_record", "Invoice", "payment_recorded", lambda: orders.payment_record(
            invoice=invoice, amount=invoice.total, paid_at=paid_at, actor_label="tester"))
        trail.step("credit_memo_create", "CreditMemo", "created", lambda: orders.credit_memo_create(
            invoice=invoice, credit_date=datetime.date(2026, 4, 2), lines=[{"sku": "WDG-100-BLU", "quantity": 1}],
            actor_label="tester"))

        # plans
        plan = trail.step("plan_create", "CommissionPlan", "created", lambda: plans.plan_create(
            organization=org, sales_rep=rep, name="Standard", default_rate=Decimal("0.1")))
        trail.step("plan_update", "CommissionPlan", "updated",
                   lambda: plans.plan_update(plan=plan, default_rate=Decimal("0.12")))
        trail.step("plan_set_active", "CommissionPlan", "activated",
                   lambda: plans.plan_set_active(plan=plan, active=True))

        # statements
        march = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
        started = trail.step("statement_start", "CommissionStatement", "generation_started",
                             lambda: statements.statement_start(rep=rep, period_start=march[0], period_end=march[1]))
        trail.step("statement_mark_failed", "CommissionStatement", "generation_failed",
                   lambda: statements.statement_mark_failed(started.pk, "test", "tester@example.test"))
        trail.step("statement_void", "CommissionStatement", "voided",
                   lambda: statements.statement_void(statement=started, actor="tester@example.test"))
        started = statements.statement_start(rep=rep, period_start=march[0], period_end=march[1])
        draft = trail.step("statement_fill", "CommissionStatement", "generated",
                           lambda: statements.statement_fill(started, actor="tester@example.test"))
        trail.step("statement_recalculate", "CommissionStatement", "recalculated",
                   lambda: statements.statement_recalculate(statement=draft, actor="tester@example.test"))
        adjustment = trail.step("statement_adjust", "CommissionStatement", "adjusted", lambda: statements.statement_adjust(
            statement=draft, amount=Decimal("5.00"), reason="bonus", actor="tester@example.test"))
        trail.step("statement_adjustment_remove", "CommissionStatement", "adjustment_removed",
                   lambda: statements.statement_adjustment_remove(statement=draft, adjustment_id=adjustment.pk,
                                                                  actor="tester@example.test"))
        dispute = trail.step("statement_dispute_raise", "CommissionStatement", "dispute_raised",
                             lambda: statements.statement_dispute_raise(statement=draft, note="?",
                                                                        actor="tester@example.test"))
        trail.step("statement_dispute_resolve", "CommissionStatement", "dispute_resolved",
                   lambda: statements.statement_dispute_resolve(statement=draft, dispute_id=dispute.pk,
                                                                resolution="ok", actor="tester@example.test"))
        trail.step("statement_approve", "CommissionStatement", "approved",
                   lambda: statements.statement_approve(statement=draft, actor="tester@example.test"))
        trail.step("statement_mark_paid", "CommissionStatement", "paid",
                   lambda: statements.statement_mark_paid(statement=draft, actor="tester@example.test",
                                                          reference="PAY-1"))
        april = (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
        other = trail.step("statement_generate", "CommissionStatement", "generated", lambda: statements.statement_generate(
            rep=rep, period_start=april[0], period_end=april[1], actor="tester@example.test"))
        statements.statement_approve(statement=other, actor="tester@example.test")
        trail.step("statements_mark_paid", "CommissionStatement", "paid", lambda: statements.statements_mark_paid(
            statement_ids=[other.pk], organization_id=org.pk, actor="tester@example.test"))
        fourth, _ = place()
        trail.step("sales_credits_replace", "Order", "sales_credits_replaced", lambda: statements.sales_credits_replace(
            order=fourth, credits=[{"rep_number": rep.rep_number, "share": Decimal("0.5")},
                                   {"rep_number": tenant.other_rep.rep_number, "share": Decimal("0.5")}]))

        # the statement schedule
        StatementSchedule.objects.filter(organization=org).delete()
        made_schedule = trail.step("schedule_ensure", "StatementSchedule", "created",
                                   lambda: schedule.schedule_ensure(organization=org))
        trail.step("schedule_update", "StatementSchedule", "updated", lambda: schedule.schedule_update(
            schedule=made_schedule, enabled=False, day_of_month=2, hour=4))

        # webhooks (an unreachable address: the attempts fail, which is not what is checked here)
        hook = trail.step("endpoint_create", "WebhookEndpoint", "created", lambda: webhooks.endpoint_create(
            organization=org, url="https://name-that-does-not-resolve.invalid/hooks", events=["*"]))
        trail.step("endpoint_update", "WebhookEndpoint", "updated",
                   lambda: webhooks.endpoint_update(endpoint=hook, description="ERP"))
        webhooks.webhook_emit(organization_id=org.pk, event_type="order.created", data=lambda: {})
        trail.step("delivery_redeliver", "WebhookEndpoint", "redelivered",
                   lambda: webhooks.delivery_redeliver(delivery=WebhookDelivery.objects.get()))
        trail.step("endpoint_delete", "WebhookEndpoint", "deleted", lambda: webhooks.endpoint_delete(endpoint=hook))

    every_writer = set().union(*WRITERS.values()) | {"sales_rep_create", "sales_rep_update", "sales_rep_set_active"}
    assert trail.seen == every_writer, sorted(every_writer - trail.seen)
    assert CommissionStatement.objects.filter(organization=org).exists()


def test_a_change_that_rolls_back_leaves_no_entry(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        customers.customer_update(customer=tenant.customer, company_name="Never")
        assert AuditEvent.objects.count() == before + 1  # written in the change's own transaction
        raise RuntimeError("the request failed after the service")
    assert AuditEvent.objects.count() == before


def test_a_refused_change_leaves_no_entry(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(Exception):
        customers.customer_update(customer=tenant.customer, customer_number=tenant.other_customer.customer_number)
    assert AuditEvent.objects.count() == before


def test_an_update_records_old_and_new_and_a_change_to_nothing_records_nothing(tenant):
    customer = tenant.customer
    with acting_as("someone@acme.test"):
        customers.customer_update(customer=customer, company_name="Acme Renamed", terms="Net60")
        entry = AuditEvent.objects.filter(object_type="Customer", object_id=customer.customer_number).first()
        assert entry.action == "updated" and entry.actor == "someone@acme.test"
        assert entry.changes == {"company_name": ["Acme Wholesale Ltd.", "Acme Renamed"], "terms": [customer.terms, "Net60"]}
        count = AuditEvent.objects.count()
        customers.customer_update(customer=customer, company_name="Acme Renamed")
        assert AuditEvent.objects.count() == count
    assert entry.occurred_at <= timezone.now()


def test_nothing_secret_is_recorded(tenant):
    from salesreps import services as salesreps

    client, secret = core.api_client_create(organization=tenant.org, name="ERP")
    salesreps.sales_rep_update(rep=tenant.rep, password="chosen-pass-321")
    logins.login_set_password(user=tenant.admin.user, password="my-own-pass-654", by_admin=False)
    text = str(list(AuditEvent.objects.values_list("changes", flat=True)))
    client.refresh_from_db()
    for forbidden in (secret, client.secret_hash, "chosen-pass-321", "my-own-pass-654", tenant.admin.user.password,
                      "secret_hash", "password", "token_version"):
        assert forbidden not in text
    assert AuditEvent.objects.filter(object_type="Membership", action="password_changed",
                                     object_id=tenant.admin.user.email).exists()


def test_the_schedule_is_the_actor_of_its_run(tenant, catalog, monkeypatch, django_capture_on_commit_callbacks):
    from commissions.tasks import generate_monthly_statements
    from nymble.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    plans.plan_create(organization=tenant.org, sales_rep=tenant.rep, name="P", default_rate=Decimal("0.1"),
                      active=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_monthly_statements("2026-12-02", organization_id=str(tenant.org.pk)) == 1
    entries = AuditEvent.objects.filter(object_type="CommissionStatement")
    assert set(entries.values_list("action", "actor")) == {("generation_started", "schedule"),
                                                           ("generated", "schedule")}
