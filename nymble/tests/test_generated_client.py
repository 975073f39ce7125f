"""A client generated from the live `/api/schema/` with openapi-python-client runs the main flows of §4
over HTTP (tier, product with breaks, rep, customer, rep login, assisted order, invoice, two
payments, plan, statement, approve, pay, CSV), without touching raw JSON (§3).

The client is generated the way a user would (the generator's command line, from the schema a
running server serves) and is told to raise on any status its operation does not document;
each answer is parsed by the generated models, so a body the schema misdescribes fails here.
"""
import datetime
import importlib
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from nymble.services import organization_create

pytestmark = pytest.mark.django_db(transaction=True)  # the live server reads what the test writes

PASSWORD = "generated-client-pass"
ADMIN_EMAIL = "admin@generated.example"
REP_EMAIL = "marcus.chen@generated.example"
PACKAGE = "nymble_client"
GENERATOR_CONFIG = f"package_name_override: {PACKAGE}\nproject_name_override: nymble-client\npost_hooks: []\n"


@pytest.fixture
def client_package(live_server, tmp_path, monkeypatch):
    """The package openapi-python-client generates from the schema the live server serves."""
    schema = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"})
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_text(schema.text)
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = [sys.executable, "-c", "from openapi_python_client.cli import app; app()"]
    run = subprocess.run(
        [*generator, "generate", "--path", "schema.json", "--meta", "none", "--output-path", PACKAGE,
         "--config", "config.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "warning" not in report.lower() and "error" not in report.lower(), report
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def call(operation, status: int, kind: type, **kwargs):
    """One operation through the generated client: the documented status, parsed into its model."""
    response = operation.sync_detailed(**kwargs)
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, kind), (type(response.parsed), response.content)
    return response.parsed


def api(module: str, name: str):
    return importlib.import_module(f"{PACKAGE}.api.{module}.{name}")


def test_the_main_flows_through_a_generated_client(client_package, live_server):
    organization = organization_create(name="Generated Co.", org_code="GEN", admin_email=ADMIN_EMAIL,
                                       admin_password=PASSWORD)
    org_id = str(organization.id)
    m = importlib.import_module(f"{PACKAGE}.models")
    Client, AuthenticatedClient = client_package.Client, client_package.AuthenticatedClient
    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def login(email: str):
        tokens = call(api("auth", "auth_token_create"), 200, m.TokenResponse, client=anonymous,
                      body=m.TokenRequest(email=email, password=PASSWORD))
        assert tokens.token_type == m.TokenTypeEnum.BEARER
        return AuthenticatedClient(base_url=live_server.url, token=tokens.access_token, raise_on_unexpected_status=True)

    admin = login(ADMIN_EMAIL)
    assert call(api("organizations", "organizations_retrieve"), 200, m.Organization, client=admin,
                organization_id=org_id).org_code == "GEN"

    # Organization settings and catalog: a tier, and a product with a quantity break.
    tier = call(api("organizations", "organizations_pricetiers_create"), 201, m.PriceTier, client=admin,
                organization_id=org_id, body=m.PriceTierRequest(code="Wholesale", name="Wholesale"))
    assert tier.code == "Wholesale"
    product = call(api("products", "products_create"), 201, m.Product, client=admin, body=m.ProductRequest(
        sku="WDG-100-BLU", name="Widget, blue", prices=[
            m.ProductPriceRequest(price_tier="Wholesale", price=18.50),
            m.ProductPriceRequest(price_tier="Wholesale", price=17.25, at_quantity=48)]))
    assert sorted((p.at_quantity, p.price) for p in product.prices) == [(1, 18.5), (48, 17.25)]
    tier_view = call(api("products", "products_list"), 200, m.PaginatedProductList, client=admin,
                     price_tier="Wholesale")
    assert (tier_view.data[0].price, tier_view.data[0].currency_code) == (18.5, "USD")

    # The seed's rep (and the colleague who takes the order at the booth), then its customer.
    reps = api("salesreps", "organizations_salesreps_create")
    rep = call(reps, 201, m.SalesRep, client=admin, organization_id=org_id, body=m.SalesRepRequest(
        first_name="Marcus", last_name="Chen", email=REP_EMAIL, phone_number="+1-555-0188", rep_number="REP-007",
        roles=[m.SalesRepRoleEnum.SALESREP], password=PASSWORD))
    call(reps, 201, m.SalesRep, client=admin, organization_id=org_id, body=m.SalesRepRequest(
        first_name="Priya", last_name="Nair", email="priya.nair@generated.example", rep_number="REP-012"))
    customer = call(api("customers", "customers_create"), 201, m.Customer, client=admin, body=m.CustomerRequest(
        customer_number="CUST-0042", company_name="Acme Wholesale Ltd.", company_email="orders@acme.example",
        company_phone="+1-555-0100", pricing="Wholesale", active=True, rep_number="REP-007", terms="Net30",
        external_id="erp_cust_9982",
        addresses=[m.AddressRequest(address_1="123 Industrial Ave", city="Chicago", state_province="IL",
                                    zip_postal_code="60601", country="US", address_type="Shipping", default=True)],
        contacts=[m.ContactRequest(first_name="Jane", last_name="Smith", email="jane.smith@acme.example",
                                   phone="+1-555-0101", contact_type="Primary")]))
    assert customer.addresses[0].address_id and customer.contacts[0].has_portal_login is False

    # The rep logs in, finds its customer and places the seed's assisted order.
    rep_api = login(REP_EMAIL)
    mine = call(api("customers", "customers_list"), 200, m.PaginatedCustomerList, client=rep_api, search="acme")
    assert [c.customer_number for c in mine.data] == ["CUST-0042"] and mine.total_records == 1
    order = call(api("orders", "orders_create"), 201, m.Order, client=rep_api, body=m.OrderCreateRequest(
        customer=m.OrderCustomerRequest(customer_number="CUST-0042", company_name="Acme Wholesale Ltd.",
                                        company_email="orders@acme.example"),
        order_type=m.OrderTypeEnum.ASSISTED, po_number="SHOW-2024-001", price_tier="Wholesale", currency_code="USD",
        primary_sales_rep=m.RepRequest(rep_number="REP-007"), taken_by_sales_rep=m.RepRequest(rep_number="REP-012"),
        items=[m.OrderItemRequest(sku="WDG-100-BLU", quantity=48, price=18.50)], channel=m.ChannelEnum.TRADESHOW,
        terms="Net30"))
    assert (order.status, order.channel, order.order_type) == (
        m.OrderStatusEnum.PENDING, m.ChannelEnum.TRADESHOW, m.OrderTypeEnum.ASSISTED)
    assert (order.primary_sales_rep.first_name, order.taken_by_sales_rep.last_name) == ("Marcus", "Nair")
    assert order.customer.shipping_address.city == "Chicago" and order.customer.billing_address is None
    assert (order.items[0].catalog_price, order.items[0].line_total, order.subtotal) == (17.25, 888.0, 888.0)
    assert order.placed_by.role == m.RoleEnum.SALESREP
    listed = call(api("customers", "customers_orders_list"), 200, m.PaginatedOrderList, client=rep_api,
                  customer_number="CUST-0042")
    assert [o.order_id for o in listed.data] == [order.order_id]

    # Invoiced, and paid in two payments.
    invoice = call(api("orders", "orders_invoice_create"), 201, m.Invoice, client=admin, order_id=str(order.order_id))
    assert (invoice.status, invoice.total, invoice.paid_at) == (m.InvoiceStatusEnum.ISSUED, 888.0, None)
    pay = api("invoices", "invoices_payments_create")
    first = call(pay, 201, m.Invoice, client=admin, invoice_id=str(invoice.invoice_id),
                 body=m.PaymentRequest(amount=400.00, reference="CHK-1001"))
    assert (first.status, first.balance) == (m.InvoiceStatusEnum.PARTIALLYPAID, 488.0)
    paid = call(pay, 201, m.Invoice, client=admin, invoice_id=str(invoice.invoice_id),
                body=m.PaymentRequest(amount=488.00, reference="CHK-1002"))
    assert paid.status == m.InvoiceStatusEnum.PAID and [p.reference for p in paid.payments] == ["CHK-1001", "CHK-1002"]
    assert isinstance(paid.paid_at, datetime.datetime)

    # A plan (its start given as a date-time, as §3 allows), a statement, approved and paid.
    plan = call(api("commissions", "commissions_plans_create"), 201, m.CommissionPlan, client=admin,
                body=m.CommissionPlanRequest(
                    sales_rep_id=rep.sales_rep_id, name="Standard Wholesale Rate", default_rate=0.05, active=True,
                    effective_start_date=datetime.datetime(2020, 1, 1, 9, 30, tzinfo=datetime.UTC),
                    rules=[m.RuleRequest(priority=10, name="Widgets", rate=0.08,
                                         match=m.MatchRequest(sku_patterns=["WDG-*"]))]))
    assert plan.effective_start_date == datetime.date(2020, 1, 1) and plan.active is True
    today = timezone.localdate(timezone=organization.zone)
    statement = call(api("commissions", "commissions_statements_create"), 201, m.Statement, client=admin,
                     body=m.StatementGenerateRequest(sales_rep_id=rep.sales_rep_id, period_start=today.replace(day=1),
                                                     period_end=today))
    assert statement.status == m.StatementStatusEnum.DRAFT
    line = statement.entries[0].lines[0]
    assert (line.sku, line.line_amount, line.rate, line.rate_source, line.commission) == (
        "WDG-100-BLU", 888.0, 0.08, "Rule: Widgets", 71.04)
    assert Decimal(str(statement.total)) == Decimal("71.04")
    statement_id = str(statement.commission_statement_id)
    approved = call(api("commissions", "commissions_statements_approve_create"), 200, m.Statement, client=admin,
                    statement_id=statement_id, body=m.NoteRequest(note="Checked against the invoices"))
    assert approved.status == m.StatementStatusEnum.APPROVED
    paid_statement = call(api("commissions", "commissions_statements_mark_paid_create"), 200, m.Statement,
                          client=admin, statement_id=statement_id, body=m.MarkPaidRequest(reference="PAYROLL-2026-12"))
    assert paid_statement.status == m.StatementStatusEnum.PAID
    assert [e.type_ for e in paid_statement.events] == [
        m.StatementEventTypeEnum.CREATED, m.StatementEventTypeEnum.APPROVED, m.StatementEventTypeEnum.PAID]
    headers = call(api("commissions", "commissions_statements_list"), 200, m.PaginatedStatementHeaderList,
                   client=rep_api)
    assert [h.commission_statement_id for h in headers.data] == [statement.commission_statement_id]

    # The statement as CSV, and the payouts for payroll.
    csv = call(api("commissions", "commissions_statements_export_csv"), 200, str, client=rep_api,
               statement_id=statement_id)
    assert csv.splitlines()[0] == "InvoiceNumber,CustomerNumber,Sku,ProductName,Quantity,LineAmount,Rate,RateSource,Commission"
    assert csv.splitlines()[1].startswith(f"{invoice.invoice_number},CUST-0042,WDG-100-BLU,")
    payouts = call(api("commissions", "commissions_payouts_csv"), 200, str, client=admin)
    assert "PAYROLL" not in payouts.splitlines()[0] and "REP-007" in payouts
