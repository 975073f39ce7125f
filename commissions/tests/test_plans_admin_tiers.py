"""The plan page's new fields (§4 "Commission plans", §9): basis, quota, method and accelerator tiers,
per-unit rules beside rate rules, every save through `plan_create` / `plan_update` with the service's
refusals on the page; the "test a line" page's multiplier (§6 "Accelerators"); and the statement page's
totals and line columns."""
import datetime
from decimal import Decimal

import pytest

from commissions.models import CommissionPlan
from commissions.plans import services as plans
from commissions.statements.services import statement_generate
from orders import services as orders
from orders.tests.conftest import add_product
from orders.tests.test_admin_credits import add_rows, admin_of, errors_of, page_form

pytestmark = pytest.mark.django_db

PLANS = "/admin/commissions/commissionplan/"
TIERS = [{"from_attainment": Decimal("0.5"), "multiplier": Decimal("1.5")},
         {"from_attainment": Decimal("1"), "multiplier": Decimal("2")}]
RULE = {"priority": "", "name": "", "rate": "", "amount_per_unit": "", "sku_patterns": "",
        "product_name_patterns": "", "customer_numbers": "", "min_line_amount": "", "max_line_amount": ""}


def make_plan(tenant, **fields) -> CommissionPlan:
    return plans.plan_create(organization=tenant.org, sales_rep=tenant.rep, **{
        "name": "Quota plan", "default_rate": Decimal("0.10"), **fields})


def change_url(plan) -> str:
    return f"{PLANS}{plan.pk}/change/"


def tiers_of(plan) -> list[tuple[Decimal, Decimal]]:
    return [(t.from_attainment, t.multiplier) for t in plan.accelerators.all()]


@pytest.fixture
def spy(monkeypatch):
    """Records every plan_create / plan_update the admin makes (and lets them run)."""
    calls = []
    for name in ("plan_create", "plan_update"):
        real = getattr(plans, name)
        monkeypatch.setattr(plans, name, lambda _real=real, _name=name, **kw: calls.append(_name) or _real(**kw))
    return calls


# ---------------------------------------------------------------- the plan page


def test_basis_quota_method_and_tiers_are_saved_through_the_service(staff_client, tenant, spy):
    plan = make_plan(tenant)
    spy.clear()
    data, options = page_form(staff_client, change_url(plan))
    assert set(options["commission_basis"]) == {"Invoice", "Payment"}
    assert set(options["accelerator_method"]) == {"Marginal", "Retroactive"}
    data.update({"commission_basis": "Payment", "quota": "1000", "accelerator_method": "Retroactive"})
    # typed out of order: saved in ascending From
    add_rows(data, "accelerators", {"from_attainment": "1", "multiplier": "2"},
             {"from_attainment": "0.5", "multiplier": "1.5"})
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 302, errors_of(response)
    assert spy == ["plan_update"]
    plan.refresh_from_db()
    assert (plan.commission_basis, plan.quota, plan.accelerator_method) == ("Payment", Decimal("1000.00"), "Retroactive")
    assert tiers_of(plan) == [(Decimal("0.5"), Decimal("1.5")), (Decimal("1"), Decimal("2"))]
    page = staff_client.get(change_url(plan)).content.decode()
    assert 'value="1000.00"' in page and 'value="0.5000"' in page and 'value="2.0000"' in page
    # a tier removed, another changed
    data, _ = page_form(staff_client, change_url(plan))
    data["accelerators-0-DELETE"] = "on"
    data["accelerators-1-multiplier"] = "3"
    assert staff_client.post(change_url(plan), data).status_code == 302
    assert tiers_of(plan) == [(Decimal("1"), Decimal("3"))]


def test_tiers_without_a_quota_are_refused_and_nothing_is_saved(staff_client, tenant):
    plan = make_plan(tenant)
    data, _ = page_form(staff_client, change_url(plan))
    data["name"] = "Renamed"
    add_rows(data, "accelerators", {"from_attainment": "0.5", "multiplier": "1.5"})
    response = staff_client.post(change_url(plan), data)
    page = errors_of(response)
    assert response.status_code == 200 and "Accelerators need a Quota." in page
    assert 'value="Renamed"' in page and 'value="1.5"' in page  # as it was sent
    plan.refresh_from_db()
    assert plan.name == "Quota plan" and not plan.accelerators.exists()


def test_clearing_the_quota_of_a_plan_with_tiers_is_refused(staff_client, tenant):
    plan = make_plan(tenant, quota=Decimal("1000"), accelerators=TIERS)
    data, _ = page_form(staff_client, change_url(plan))
    data["quota"] = ""
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 200 and "Accelerators need a Quota." in errors_of(response)
    plan.refresh_from_db()
    assert plan.quota == Decimal("1000.00") and len(tiers_of(plan)) == 2


def test_two_tiers_from_one_attainment_are_refused(staff_client, tenant):
    plan = make_plan(tenant, quota=Decimal("1000"))
    data, _ = page_form(staff_client, change_url(plan))
    add_rows(data, "accelerators", {"from_attainment": "0.5", "multiplier": "1.5"},
             {"from_attainment": "0.5", "multiplier": "2"})
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 200 and "Each tier&#x27;s From is above the one before it." in errors_of(response)
    assert not plan.accelerators.exists()


def test_a_negative_multiplier_or_quota_is_a_form_error_not_a_500(staff_client, tenant):
    plan = make_plan(tenant)
    data, _ = page_form(staff_client, change_url(plan))
    data["quota"] = "-5"
    add_rows(data, "accelerators", {"from_attainment": "0.5", "multiplier": "-1"})
    response = staff_client.post(change_url(plan), data)
    page = errors_of(response)
    assert response.status_code == 200 and "A quota is above 0." in page and "A multiplier is 0 or more." in page
    plan.refresh_from_db()
    assert plan.quota is None and not plan.accelerators.exists()


def test_a_rule_pays_a_rate_or_an_amount_per_unit(staff_client, tenant, spy):
    plan = make_plan(tenant)
    spy.clear()
    data, _ = page_form(staff_client, change_url(plan))
    add_rows(data, "rules", {**RULE, "priority": "1", "name": "Boxes", "amount_per_unit": "0.25",
                             "sku_patterns": "BOX-*"},
             {**RULE, "priority": "2", "name": "Both", "rate": "0.1", "amount_per_unit": "0.5"})
    response = staff_client.post(change_url(plan), data)
    page = errors_of(response)
    assert response.status_code == 200
    assert page.count("A rule pays either a Rate or an AmountPerUnit: give exactly one.") == 1
    assert 'value="0.25"' in page and "BOX-*</textarea>" in page
    assert not plan.rules.exists()
    data["rules-1-rate"], data["rules-1-amount_per_unit"] = "", ""  # neither
    assert "give exactly one." in errors_of(staff_client.post(change_url(plan), data))
    assert not plan.rules.exists()
    data["rules-1-rate"] = "0.12"
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 302, errors_of(response)
    assert list(plan.rules.values_list("name", "rate", "amount_per_unit", "sku_patterns")) == [
        ("Boxes", None, Decimal("0.2500"), ["BOX-*"]), ("Both", Decimal("0.1200"), None, [])]
    assert spy.count("plan_update") == 3
    engine = plans.plan_compiled(plan).rate("BOX-9", "Box", "CUST-0042", Decimal("10"), datetime.date(2026, 3, 1))
    assert (engine.amount_per_unit, engine.rate) == (Decimal("0.2500"), None)


def test_a_negative_amount_per_unit_is_a_form_error(staff_client, tenant):
    plan = make_plan(tenant)
    data, _ = page_form(staff_client, change_url(plan))
    add_rows(data, "rules", {**RULE, "priority": "1", "name": "Boxes", "amount_per_unit": "-1"})
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 200 and "greater than or equal to 0" in errors_of(response)
    assert not plan.rules.exists()


def test_two_rules_may_swap_priorities(staff_client, tenant):
    plan = make_plan(tenant, rules=[{"priority": 1, "name": "a", "rate": Decimal("0.1")},
                                    {"priority": 2, "name": "b", "rate": Decimal("0.2")}])
    data, _ = page_form(staff_client, change_url(plan))
    data["rules-0-priority"], data["rules-1-priority"] = "2", "1"
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 302, errors_of(response)
    assert list(plan.rules.values_list("name", flat=True)) == ["b", "a"]


def test_a_new_plan_is_made_by_plan_create_with_its_tiers_and_rules(staff_client, tenant, spy):
    data, _ = page_form(staff_client, f"{PLANS}add/")
    data.update({"sales_rep": str(tenant.rep.pk), "name": "New", "default_rate": "0.05", "quota": "2000",
                 "accelerator_method": "Marginal", "commission_basis": "Invoice"})
    add_rows(data, "accelerators", {"from_attainment": "1", "multiplier": "1.25"})
    add_rows(data, "rules", {**RULE, "priority": "5", "name": "Per unit", "amount_per_unit": "1"})
    response = staff_client.post(f"{PLANS}add/", data)
    assert response.status_code == 302, errors_of(response)
    plan = CommissionPlan.objects.get(name="New")
    assert spy == ["plan_create"]
    assert (plan.organization, plan.quota, tiers_of(plan)) == (tenant.org, Decimal("2000.00"),
                                                               [(Decimal("1"), Decimal("1.25"))])
    assert list(plan.rules.values_list("amount_per_unit", flat=True)) == [Decimal("1.0000")]
    assert response["Location"].endswith(PLANS)


def test_a_refused_new_plan_is_shown_again_and_not_made(staff_client, tenant):
    data, _ = page_form(staff_client, f"{PLANS}add/")
    data.update({"sales_rep": str(tenant.rep.pk), "name": "New", "default_rate": "0.05"})
    add_rows(data, "accelerators", {"from_attainment": "1", "multiplier": "1.25"})
    response = staff_client.post(f"{PLANS}add/", data)
    assert response.status_code == 200 and "Accelerators need a Quota." in errors_of(response)
    assert not CommissionPlan.objects.exists()


def test_an_override_edited_on_the_plan_page_keeps_its_rules(staff_client, tenant):
    plan = make_plan(tenant, overrides=[{"customer_number": "CUST-0042", "default_rate": Decimal("0.07"), "rules": [
        {"priority": 1, "name": "Acme boxes", "amount_per_unit": Decimal("0.5"), "sku_patterns": ["BOX-*"]}]}])
    data, _ = page_form(staff_client, change_url(plan))
    data["overrides-0-default_rate"] = "0.08"
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 302, errors_of(response)
    override = plan.overrides.get()
    assert override.default_rate == Decimal("0.0800")
    assert list(override.rules.values_list("name", "amount_per_unit")) == [("Acme boxes", Decimal("0.5000"))]
    data, _ = page_form(staff_client, change_url(plan))
    data["overrides-0-effective_start"], data["overrides-0-effective_end"] = "2026-05-01", "2026-01-01"
    response = staff_client.post(change_url(plan), data)
    assert response.status_code == 200 and "The override ends before it starts." in errors_of(response)
    assert plan.overrides.get().effective_start is None


def test_an_overrides_own_page_saves_its_rules_through_the_service(staff_client, tenant, spy):
    plan = make_plan(tenant, overrides=[
        {"customer_number": "CUST-0042", "rules": [{"priority": 1, "name": "r", "rate": Decimal("0.2")}]},
        {"customer_number": "CUST-0099", "default_rate": Decimal("0.01")}])
    spy.clear()
    first = plan.overrides.get(customer__customer_number="CUST-0042")
    url = f"/admin/commissions/customeroverride/{first.pk}/change/"
    data, _ = page_form(staff_client, url)
    data["default_rate"] = "0.03"
    data["rules-0-rate"], data["rules-0-amount_per_unit"] = "", "2"
    add_rows(data, "rules", {**RULE, "priority": "2", "name": "bad", "rate": "0.1", "amount_per_unit": "1"})
    response = staff_client.post(url, data)
    assert response.status_code == 200 and "give exactly one." in errors_of(response)
    assert list(plan.overrides.get(pk=first.pk).rules.values_list("rate", flat=True)) == [Decimal("0.2000")]
    data["rules-1-amount_per_unit"] = ""
    response = staff_client.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert response["Location"] == change_url(plan)  # back to the plan
    assert spy == ["plan_update", "plan_update"]
    mine = plan.overrides.get(customer__customer_number="CUST-0042")
    assert mine.default_rate == Decimal("0.0300")
    assert list(mine.rules.values_list("name", "rate", "amount_per_unit")) == [
        ("r", None, Decimal("2.0000")), ("bad", Decimal("0.1000"), None)]
    other = plan.overrides.get(customer__customer_number="CUST-0099")
    assert other.default_rate == Decimal("0.0100")  # the plan's other override as it was
    assert list(plan.overrides.values_list("customer__customer_number", flat=True)) == ["CUST-0042", "CUST-0099"]


# ---------------------------------------------------------------- the "test a line" page


def line_url(plan) -> str:
    return f"{PLANS}{plan.pk}/test-line/"


LINE = {"sku": "GAD-1", "product_name": "Gadget", "customer_number": "CUST-0042", "line_date": "2026-03-01"}


def test_the_test_a_line_page_shows_the_marginal_multiplier(staff_client, tenant):
    """Quota 1000, ×1.5 from 0.5, ×2 from 1; 400 sold so far, a line of 800 covers 400 → 1200:
    100 × 1 + 500 × 1.5 + 200 × 2 = 1250, / 800 = 1.5625; at 10 %: 80 × 1.5625 = 125.00."""
    plan = make_plan(tenant, quota=Decimal("1000"), accelerators=TIERS)
    page = staff_client.get(line_url(plan), {**LINE, "amount": "800", "sales_so_far": "400"}).content.decode()
    assert '<strong id="multiplier">1.562500</strong>' in page
    assert '<strong id="commission">125.00 USD</strong>' in page
    assert "Rate 0.1000 — Plan default" in page and "80.00 USD" in page  # the base
    assert "Σ 1250.00" in page and "attainment 1.2000" in page
    # Nothing sold before: 500 × 1 + 300 × 1.5 = 950, / 800 = 1.1875
    page = staff_client.get(line_url(plan), {**LINE, "amount": "800"}).content.decode()
    assert '<strong id="multiplier">1.187500</strong>' in page and "95.00 USD" in page


def test_the_test_a_line_page_shows_the_retroactive_multiplier(staff_client, tenant):
    plan = make_plan(tenant, quota=Decimal("1000"), accelerators=TIERS, accelerator_method="Retroactive")
    page = staff_client.get(line_url(plan), {**LINE, "amount": "800", "sales_so_far": "400"}).content.decode()
    assert '<strong id="multiplier">2.000000</strong>' in page and '<strong id="commission">160.00 USD</strong>' in page
    page = staff_client.get(line_url(plan), {**LINE, "amount": "100", "sales_so_far": "400"}).content.decode()
    assert '<strong id="multiplier">1.500000</strong>' in page and "15.00 USD" in page  # m(500) = 1.5


def test_the_test_a_line_page_pays_per_unit_rules_at_the_multiplier(staff_client, tenant):
    plan = make_plan(tenant, quota=Decimal("1000"), accelerators=TIERS,
                     rules=[{"priority": 1, "name": "Boxes", "amount_per_unit": Decimal("0.5"),
                             "sku_patterns": ["BOX-*"]}])
    query = {**LINE, "sku": "BOX-1", "amount": "800", "sales_so_far": "400", "quantity": "10"}
    page = staff_client.get(line_url(plan), query).content.decode()
    # B = 10 × 0.50 = 5.00; × 1.5625 = 7.8125 → 7.81
    assert "0.5000 USD per unit — Rule: Boxes" in page and "5.00 USD" in page
    assert '<strong id="multiplier">1.562500</strong>' in page and '<strong id="commission">7.81 USD</strong>' in page
    page = staff_client.get(line_url(plan), {**query, "quantity": ""}).content.decode()  # 1 unit
    assert '<strong id="commission">0.78 USD</strong>' in page


def test_without_accelerators_the_multiplier_is_one(staff_client, tenant):
    plan = make_plan(tenant)
    page = staff_client.get(line_url(plan), {**LINE, "amount": "800", "sales_so_far": "400"}).content.decode()
    assert '<strong id="multiplier">1.000000</strong>' in page and "80.00 USD" in page
    assert "No quota, so no accelerators" in page
    bad = staff_client.get(line_url(plan), {**LINE, "amount": "800", "sales_so_far": "-1"})
    assert bad.status_code == 200 and "greater than or equal to 0" in bad.content.decode()


# ---------------------------------------------------------------- the statement page


def test_the_statement_page_shows_the_totals_and_the_new_line_columns(staff_client, tenant):
    """Pay on collection, a 60/40 split, quota 1000 with tiers: 400 then 600 paid of 1000 gives REP-007
    lines of 240.00 (×1) and 360.00 (240 → 600: 260 × 1 + 100 × 1.5 = 410, / 360 = 1.138889)."""
    make_plan(tenant, quota=Decimal("1000"), accelerators=TIERS, commission_basis="Payment", active=True)
    add_product(tenant.org, "BIG-1", "Big thing", [("Wholesale", 1, "100.00")])
    order, _ = orders.order_place(organization=tenant.org, actor=admin_of(tenant), actor_label="test",
                                  customer=tenant.customer, items=[{"sku": "BIG-1", "quantity": 10}],
                                  sales_credits=[{"rep_number": "REP-007", "share": Decimal("0.6")},
                                                 {"rep_number": "REP-012", "share": Decimal("0.4")}])
    invoice = orders.invoice_create(order=order)
    for day, amount in ((5, "400.00"), (20, "600.00")):
        invoice = orders.payment_record(invoice=invoice, amount=Decimal(amount), actor_label="test", reference="wire",
                                        paid_at=datetime.datetime(2026, 3, day, 15, tzinfo=datetime.timezone.utc))
    statement = statement_generate(rep=tenant.rep, period_start=datetime.date(2026, 3, 1),
                                   period_end=datetime.date(2026, 3, 31), actor="test")
    assert (statement.sales_total, statement.lines_total) == (Decimal("600.00"), Decimal("65.00"))
    page = staff_client.get(f"/admin/commissions/commissionstatement/{statement.pk}/change/").content.decode()
    totals = page.split("Totals, in USD")[1].split("</fieldset>")[0]
    for field, shown in (("sales_total", "600.00"), ("quota", "1000.00"), ("attainment_shown", "0.6000 (60.00 %)"),
                         ("lines_total", "65.00"), ("total", "65.00")):
        assert f'field-{field}">' in totals and f'<div class="readonly">{shown}</div>' in totals, field
    lines = page.split('id="lines-group"')[1].split("</table>")[0]
    for column in ("Line date", "Share", "Rate", "Amount per unit", "Multiplier", "Payment", "Commission"):
        assert f">{column}</th>" in lines, column
    first, second = invoice.payments.all()
    assert "March 5, 2026" in lines and "0.6000" in lines and "1.000000" in lines and "1.138889" in lines
    assert f'title="PaymentId {first.public_id}">400.00</span>' in lines
    assert f'title="PaymentId {second.public_id}">600.00</span>' in lines
    assert "24.00" in lines and "41.00" in lines
