"""The plans admin: scoped, rules inline, activation through the service, and the "test a line" helper."""
import datetime
from decimal import Decimal

import pytest

from commissions.plans import services as plans
from commissions.models import CommissionPlan
from commissions.tests.test_plans import create

pytestmark = pytest.mark.django_db


def test_test_a_line_shows_the_winning_rule(staff_client, tenant):
    plan = create(tenant)
    url = f"/admin/commissions/commissionplan/{plan['CommissionPlanId']}/test-line/"
    page = staff_client.get(url, {"sku": "WDG-100-BLU", "product_name": "Widget", "customer_number": "CUST-0042",
                                  "amount": "100.00", "line_date": "2026-03-01"}).content.decode()
    assert "Override CUST-0042: Rule: Acme widgets" in page and "15.00" in page
    before = staff_client.get(url, {"sku": "X", "customer_number": "C", "amount": "1", "line_date": "2025-01-01"})
    assert b"outside the plan" in before.content


def test_plan_pages_are_scoped(staff_client, tenant, other_tenant):
    theirs = create(other_tenant)
    assert staff_client.get(f"/admin/commissions/commissionplan/{theirs['CommissionPlanId']}/change/").status_code == 302
    assert staff_client.get(f"/admin/commissions/commissionplan/{theirs['CommissionPlanId']}/test-line/").status_code == 404
    mine = create(tenant)
    page = staff_client.get("/admin/commissions/commissionplan/").content.decode()
    assert f"{mine['CommissionPlanId']}/change/" in page and f"{theirs['CommissionPlanId']}/change/" not in page


def test_activate_action_goes_through_the_service(staff_client, tenant):
    first = create(tenant, Active=True)
    second = create(tenant, Name="Second")
    staff_client.post("/admin/commissions/commissionplan/",
                      {"action": "activate", "_selected_action": [second["CommissionPlanId"]]})
    assert list(CommissionPlan.objects.filter(active=True).values_list("name", flat=True)) == ["Second"]
    assert first["Active"] is True


def test_duplicate_rule_priorities_are_a_form_error(staff_client, tenant):
    plan = CommissionPlan.objects.get(pk=create(tenant, CustomerOverrides=[], Rules=[])["CommissionPlanId"])
    data = {
        "sales_rep": tenant.rep.pk, "name": plan.name, "description": "", "default_rate": "0.05",
        "effective_start": "", "effective_end": "",
        "rules-TOTAL_FORMS": "2", "rules-INITIAL_FORMS": "0",
        "rules-0-priority": "1", "rules-0-name": "a", "rules-0-rate": "0.1", "rules-0-sku_patterns": "",
        "rules-0-product_name_patterns": "", "rules-0-customer_numbers": "",
        "rules-1-priority": "1", "rules-1-name": "b", "rules-1-rate": "0.2", "rules-1-sku_patterns": "",
        "rules-1-product_name_patterns": "", "rules-1-customer_numbers": "",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    }
    response = staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", data)
    assert response.status_code == 200 and b"share priority 1" in response.content
    assert not plan.rules.exists()
    data["rules-1-priority"] = "2"
    assert staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", data).status_code == 302
    assert list(plan.rules.values_list("name", flat=True)) == ["a", "b"]


def _plan_form(plan, tenant, **rules):
    data = {
        "sales_rep": tenant.rep.pk, "name": plan.name, "description": "", "default_rate": "0.05",
        "effective_start": "", "effective_end": "", "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0",
        "rules-0-priority": "1", "rules-0-name": "Widgets", "rules-0-rate": "0.1", "rules-0-sku_patterns": '["WDG-*"]',
        "rules-0-product_name_patterns": "", "rules-0-customer_numbers": "",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    }
    data.update({f"rules-0-{key}": value for key, value in rules.items()})
    return data


def test_patterns_are_typed_one_per_line_and_never_read_letter_by_letter(staff_client, tenant):
    """Regression: the patterns were a raw JSON box, where '"WDG-*"' (a JSON string) was read as the
    patterns W, D, G, -, * — and '*' matched every SKU. Now staff type one pattern per line."""
    plan = CommissionPlan.objects.get(pk=create(tenant, CustomerOverrides=[], Rules=[])["CommissionPlanId"])
    url = f"/admin/commissions/commissionplan/{plan.pk}/change/"
    form = _plan_form(plan, tenant, sku_patterns=" WDG-*\r\n\r\nBLT-*  \r\n", product_name_patterns="Bolts M8, box*",
                      customer_numbers="CUST-0042")
    assert staff_client.post(url, form).status_code == 302
    rule = plan.rules.get()
    assert (rule.sku_patterns, rule.product_name_patterns, rule.customer_numbers) == (
        ["WDG-*", "BLT-*"], ["Bolts M8, box*"], ["CUST-0042"])
    page = staff_client.get(url).content.decode()
    assert ">\nWDG-*\nBLT-*</textarea>" in page and "[&quot;" not in page
    engine, day = plans.plan_compiled(plan), datetime.date(2026, 3, 1)
    assert engine.rate("GAD-1", "Gadget", "CUST-0042", Decimal("10"), day).source == "Plan default"
    assert engine.rate("BLT-8", "Bolts M8, box of 100", "CUST-0042", Decimal("10"), day).source == "Rule: Widgets"


def test_rule_constraints_read_as_plain_words(staff_client, tenant):
    plan = CommissionPlan.objects.get(pk=create(tenant, CustomerOverrides=[], Rules=[])["CommissionPlanId"])
    response = staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/",
                                 _plan_form(plan, tenant, min_line_amount="10", max_line_amount="5"))
    assert b"The maximum line amount is below the minimum." in response.content


def test_a_plan_stays_with_its_rep_in_the_admin_too(staff_client, tenant):
    """Regression: the admin let staff move a plan to another rep, which the API refuses."""
    plan = CommissionPlan.objects.get(pk=create(tenant, CustomerOverrides=[], Rules=[])["CommissionPlanId"])
    data = _plan_form(plan, tenant, sku_patterns="")
    data["sales_rep"] = tenant.other_rep.pk
    staff_client.post(f"/admin/commissions/commissionplan/{plan.pk}/change/", data)
    plan.refresh_from_db()
    assert plan.sales_rep_id == tenant.rep.pk


def test_the_admin_shows_times_in_the_organizations_time_zone(staff_client, tenant):
    """Regression: the admin showed UTC while the printable statement showed the organization's time."""
    from django.utils import formats, timezone

    created = tenant.customer.created_at
    local = formats.date_format(timezone.localtime(created, tenant.org.zone), "DATETIME_FORMAT")
    utc = formats.date_format(timezone.localtime(created, datetime.timezone.utc), "DATETIME_FORMAT")
    page = staff_client.get(f"/admin/customers/customer/{tenant.customer.pk}/change/").content.decode()
    assert local in page and utc not in page
