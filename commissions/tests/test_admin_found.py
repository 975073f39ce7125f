"""Regressions found looking at the plan pages as staff: a rate above 1 is a message on its field."""
import pytest

from commissions.models import CommissionPlan, CustomerOverride
from commissions.tests.test_plans import create
from commissions.tests.test_plans_admin import _plan_form

pytestmark = pytest.mark.django_db

RATE_MESSAGE = "A rate is between 0 and 1 (0.05 = 5%)."


def _plan(tenant):
    return CommissionPlan.objects.get(pk=create(tenant, CustomerOverrides=[], Rules=[])["CommissionPlanId"])


def test_a_rule_rate_above_one_is_a_message_on_its_field(staff_client, tenant):
    plan = _plan(tenant)
    response = staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", _plan_form(plan, tenant, rate="1.5"))
    assert response.status_code == 200
    row = response.context["inline_admin_formsets"][1].formset.forms[0]
    assert row.errors["rate"] == [RATE_MESSAGE]
    assert 'value="1.5"' in response.content.decode() and not plan.rules.exists()


def test_a_plan_default_rate_above_one_is_a_message_on_its_field(staff_client, tenant):
    plan = _plan(tenant)
    form = _plan_form(plan, tenant, name="Kept as typed")
    form["default_rate"] = "2"
    response = staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["default_rate"] == [RATE_MESSAGE]
    assert "Kept as typed" in response.content.decode()
    plan.refresh_from_db()
    assert str(plan.default_rate) != "2" and not plan.rules.exists()


def test_an_override_rate_above_one_is_a_message_on_its_field(staff_client, tenant):
    plan = CommissionPlan.objects.get(pk=create(tenant)["CommissionPlanId"])
    override = plan.overrides.get()
    url = f"/admin/commissions/customeroverride/{override.pk}/change/"
    rules = list(override.rules.all())
    data = {"default_rate": "1.01", "effective_start": "", "effective_end": "",
            "rules-TOTAL_FORMS": str(len(rules)), "rules-INITIAL_FORMS": str(len(rules))}
    for index, rule in enumerate(rules):
        data.update({f"rules-{index}-id": rule.pk, f"rules-{index}-override": override.pk,
                     f"rules-{index}-priority": rule.priority, f"rules-{index}-name": rule.name,
                     f"rules-{index}-rate": rule.rate or "", f"rules-{index}-amount_per_unit": rule.amount_per_unit or "",
                     f"rules-{index}-sku_patterns": "\n".join(rule.sku_patterns),
                     f"rules-{index}-product_name_patterns": "\n".join(rule.product_name_patterns),
                     f"rules-{index}-customer_numbers": "\n".join(rule.customer_numbers)})
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["default_rate"] == [RATE_MESSAGE]
    assert CustomerOverride.objects.get(pk=override.pk).default_rate != 1


def test_a_reps_page_shows_its_customers_plans_and_statements(staff_client, tenant):
    import datetime
    from decimal import Decimal

    from commissions.models import CommissionStatement

    plan = CommissionPlan.objects.get(pk=create(tenant, Quota=25000)["CommissionPlanId"])
    statement = CommissionStatement.objects.create(  # as generation leaves one: the page only reads it
        organization=tenant.org, sales_rep=tenant.rep, plan=plan, period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31), currency_code="USD", status="Draft", sales_total=Decimal("1234.50"),
        total=Decimal("61.73"))
    page = staff_client.get(f"/admin/salesreps/organizationsalesrep/{tenant.rep.pk}/change/").content.decode()
    assert "CUST-0042" in page  # its customers
    assert f'<a href="/admin/commissions/commissionplan/{plan.pk}/change/">{plan.name}</a>' in page
    assert "5%" in page and "25,000.00\xa0USD" in page  # default rate, quota with its currency
    assert f'<a href="/admin/commissions/commissionstatement/{statement.pk}/change/">2026-10-01 – 2026-10-31</a>' in page
    assert "1,234.50\xa0USD" in page and "61.73\xa0USD" in page
    assert f"/admin/commissions/commissionstatement/?sales_rep={tenant.rep.pk}" in page


def test_an_overrides_customer_is_shown_by_name_not_by_database_id(staff_client, tenant):
    plan = CommissionPlan.objects.get(pk=create(tenant)["CommissionPlanId"])
    page = staff_client.get(f"/admin/commissions/commissionplan/{plan.pk}/change/").content.decode()
    assert 'class="vForeignKeyRawIdAdminField"' not in page
    assert f'<option value="{tenant.customer.pk}" selected>CUST-0042 Acme Wholesale Ltd.</option>' in page
    found = staff_client.get("/admin/autocomplete/", {"term": "CUST-0042", "app_label": "commissions",
                                                      "model_name": "customeroverride", "field_name": "customer"})
    assert found.json()["results"] == [{"id": str(tenant.customer.pk), "text": "CUST-0042 Acme Wholesale Ltd."}]


def test_the_plans_list_shows_the_quota_with_its_currency(staff_client, tenant):
    create(tenant, Quota=25000)
    assert "25,000.00\xa0USD" in staff_client.get("/admin/commissions/commissionplan/").content.decode()


def test_an_override_customer_that_is_no_id_is_a_message_not_a_500(staff_client, tenant):
    """Found by posting each field a bad value: Django's autocomplete looked the posted text up."""
    from orders.tests.test_admin_credits import page_form

    plan = CommissionPlan.objects.get(pk=create(tenant)["CommissionPlanId"])
    url = f"/admin/commissions/commissionplan/{plan.pk}/change/"
    form, _ = page_form(staff_client, url)
    response = staff_client.post(url, {**form, "overrides-0-customer": "not-an-id"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
