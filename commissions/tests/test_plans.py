"""Commission plans through the API (§4 "Commission plans"): fields, validation, activation, who sees them."""
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from commissions.models import CommissionPlan
from commissions.plans.services import plan_compiled
from salesreps.tests.factories import SalesRepFactory

pytestmark = pytest.mark.django_db


def plan_body(tenant, **extra):
    return {
        "SalesRepId": str(tenant.rep.sales_rep_id),
        "Name": "Standard Wholesale Rate",
        "Description": "Base plan",
        "DefaultRate": 0.05,
        "EffectiveStartDate": "2026-01-01",
        "Rules": [
            {"Priority": 10, "Name": "High-margin SKUs", "Rate": 0.12, "Match": {"SkuPatterns": ["WDG-*", "A[1]"]}},
            {"Priority": 20, "Name": "Big lines", "Rate": 0.03, "Match": {"MinLineAmount": 1000, "MaxLineAmount": 5000}},
        ],
        "CustomerOverrides": [
            {"CustomerNumber": "CUST-0042", "DefaultRate": 0.07, "EffectiveStartDate": "2026-02-01",
             "EffectiveEndDate": "2026-12-31",
             "Rules": [{"Priority": 1, "Name": "Acme widgets", "Rate": 0.15, "Match": {"SkuPatterns": ["WDG-100-*"]}}]},
        ],
        **extra,
    }


def create(tenant, **extra):
    response = tenant.admin_api.post("/api/commissions/plans", plan_body(tenant, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_and_read_back_a_plan(tenant):
    plan = create(tenant)
    assert plan["CommissionPlanId"] and plan["RepNumber"] == "REP-007" and plan["Active"] is False
    assert plan["DefaultRate"] == 0.05 and plan["EffectiveStartDate"] == "2026-01-01" and plan["EffectiveEndDate"] is None
    assert [r["Name"] for r in plan["Rules"]] == ["High-margin SKUs", "Big lines"]
    assert plan["Rules"][1]["Match"] == {"SkuPatterns": [], "ProductNamePatterns": [], "CustomerNumbers": [],
                                         "MinLineAmount": 1000.00, "MaxLineAmount": 5000.00}
    override = plan["CustomerOverrides"][0]
    assert (override["CustomerNumber"], override["DefaultRate"], override["Rules"][0]["Rate"]) == ("CUST-0042", 0.07, 0.15)
    assert tenant.admin_api.get(f"/api/commissions/plans/{plan['CommissionPlanId']}").json() == plan


def test_the_stored_plan_drives_the_engine(tenant):
    plan = CommissionPlan.objects.get(pk=create(tenant)["CommissionPlanId"])
    engine = plan_compiled(plan)
    import datetime

    day = datetime.date(2026, 3, 1)
    assert engine.rate("WDG-100-BLU", "Widget", "CUST-0042", Decimal("10"), day).source == "Override CUST-0042: Rule: Acme widgets"
    assert engine.rate("GAD-1", "Gadget", "CUST-0042", Decimal("10"), day).source == "Override CUST-0042: default"
    assert engine.rate("WDG-9", "Widget", "CUST-0099", Decimal("10"), day).source == "Rule: High-margin SKUs"
    assert engine.rate("a[1]", "Odd", "CUST-0099", Decimal("10"), day).rate == Decimal("0.12")
    assert engine.rate("GAD-1", "Gadget", "CUST-0099", Decimal("1000.00"), day).source == "Rule: Big lines"
    assert engine.rate("GAD-1", "Gadget", "CUST-0099", Decimal("999.99"), day).source == "Plan default"
    assert engine.rate("GAD-1", "Gadget", "CUST-0099", Decimal("1"), datetime.date(2025, 12, 31)) is None


def test_effective_dates_accept_datetimes_counted_in_the_organizations_time_zone(tenant):
    plan = create(tenant, EffectiveStartDate="2026-01-01T03:00:00Z", EffectiveEndDate="2026-06-30T12:00:00-05:00")
    assert (plan["EffectiveStartDate"], plan["EffectiveEndDate"]) == ("2025-12-31", "2026-06-30")  # Chicago


@pytest.mark.parametrize(
    "change, field",
    [
        ({"DefaultRate": 1.5}, "DefaultRate"),
        ({"DefaultRate": -0.01}, "DefaultRate"),
        ({"DefaultRate": "0.12345"}, "DefaultRate"),
        ({"SalesRepId": "00000000-0000-0000-0000-000000000000"}, "SalesRepId"),
        ({"SalesRepId": "not-a-uuid"}, "SalesRepId"),
        ({"EffectiveStartDate": "2026-05-01", "EffectiveEndDate": "2026-04-30"}, "EffectiveEndDate"),
        ({"EffectiveStartDate": "May first"}, "EffectiveStartDate"),
        ({"Rules": [{"Priority": 1, "Name": "a", "Rate": 0.1}, {"Priority": 1, "Name": "b", "Rate": 0.1}]},
         "Rules[1].Priority"),
        ({"Rules": [{"Priority": 1, "Name": "a", "Rate": 2}]}, "Rules[0].Rate"),
        ({"Rules": [{"Priority": 1, "Name": "a", "Rate": 0.1, "Match": {"MinLineAmount": 10, "MaxLineAmount": 5}}]},
         "Rules[0].Match.MaxLineAmount"),
        ({"Rules": [{"Priority": 1, "Name": "a", "Rate": 0.1, "Match": {"SkuPattern": ["x"]}}]}, "Rules[0].Match.SkuPattern"),
        ({"Rules": [{"Priority": 1, "Name": "a", "Rate": 0.1, "Match": {"SkuPatterns": "WDG-*"}}]},
         "Rules[0].Match.SkuPatterns"),
        ({"CustomerOverrides": [{"CustomerNumber": "NOPE"}]}, "CustomerOverrides[0].CustomerNumber"),
        ({"CustomerOverrides": [{"CustomerNumber": "CUST-0042", "EffectiveStartDate": "2026-02-02",
                                 "EffectiveEndDate": "2026-02-01"}]}, "CustomerOverrides[0].EffectiveEndDate"),
        ({"CustomerOverrides": [{"CustomerNumber": "CUST-0042", "Rules": [
            {"Priority": 3, "Name": "a", "Rate": 0.1}, {"Priority": 3, "Name": "b", "Rate": 0.2}]}]},
         "CustomerOverrides[0].Rules[1].Priority"),
        ({"Bonus": 1}, "Bonus"),
    ],
)
def test_validation_names_the_field_and_creates_nothing(tenant, change, field):
    response = tenant.admin_api.post("/api/commissions/plans", plan_body(tenant, **change), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not CommissionPlan.objects.exists()


def test_another_organizations_customer_or_rep_cannot_be_named(tenant, other_tenant):
    theirs = plan_body(tenant, SalesRepId=str(other_tenant.rep.sales_rep_id))
    assert tenant.admin_api.post("/api/commissions/plans", theirs, format="json").status_code == 400


def test_same_priority_in_plan_and_in_an_override_is_fine(tenant):
    body = plan_body(tenant)
    body["CustomerOverrides"][0]["Rules"][0]["Priority"] = 10
    assert tenant.admin_api.post("/api/commissions/plans", body, format="json").status_code == 201


def test_put_replaces_and_patch_updates(tenant):
    plan = create(tenant)
    path = f"/api/commissions/plans/{plan['CommissionPlanId']}"
    patched = tenant.admin_api.patch(path, {"DefaultRate": 0.06, "Rules": []}, format="json").json()
    assert patched["DefaultRate"] == 0.06 and patched["Rules"] == [] and len(patched["CustomerOverrides"]) == 1
    replaced = tenant.admin_api.put(path, {"SalesRepId": str(tenant.rep.sales_rep_id), "Name": "Lean",
                                           "DefaultRate": 0.04}, format="json").json()
    assert (replaced["Name"], replaced["Description"], replaced["CustomerOverrides"], replaced["EffectiveStartDate"]) == (
        "Lean", "", [], None)
    moved = tenant.admin_api.patch(path, {"SalesRepId": str(tenant.other_rep.sales_rep_id)}, format="json")
    assert moved.status_code == 400 and "SalesRepId" in moved.json()["errors"]
    assert tenant.admin_api.patch(path, plan, format="json").status_code == 200  # a fetched plan sent back


def test_only_one_active_plan_per_rep(tenant):
    first = create(tenant, Active=True)
    second = create(tenant, Name="Second")
    activated = tenant.admin_api.post(f"/api/commissions/plans/{second['CommissionPlanId']}/activate").json()
    assert activated["Active"] is True
    assert tenant.admin_api.get(f"/api/commissions/plans/{first['CommissionPlanId']}").json()["Active"] is False
    assert CommissionPlan.objects.filter(active=True).count() == 1
    deactivated = tenant.admin_api.post(f"/api/commissions/plans/{second['CommissionPlanId']}/deactivate").json()
    assert deactivated["Active"] is False
    other_reps = create(tenant, SalesRepId=str(tenant.other_rep.sales_rep_id), Active=True, CustomerOverrides=[])
    assert other_reps["Active"] is True  # one per rep, not per organization


def test_the_database_enforces_one_active_plan_per_rep(tenant):
    create(tenant, Active=True)
    plan = CommissionPlan.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionPlan.objects.create(organization=tenant.org, sales_rep=tenant.rep, name="x", default_rate=0, active=True)
    assert plan.active


@pytest.mark.django_db(transaction=True)
def test_racing_activations_leave_exactly_one_active_plan(tenant, postgres_only):
    ids = [create(tenant, Name=f"P{n}", CustomerOverrides=[])["CommissionPlanId"] for n in range(6)]
    api = tenant.admin_api
    barrier = threading.Barrier(len(ids))

    def activate(plan_id):
        barrier.wait()
        try:
            return api.post(f"/api/commissions/plans/{plan_id}/activate").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(ids)) as pool:
        statuses = list(pool.map(activate, ids))
    assert set(statuses) <= {200, 409}
    assert CommissionPlan.objects.filter(active=True).count() == 1


def test_list_filters(tenant):
    create(tenant, Active=True)
    create(tenant, SalesRepId=str(tenant.other_rep.sales_rep_id), Name="Priya's", CustomerOverrides=[])
    api = tenant.admin_api

    def names(**params):
        return sorted(p["Name"] for p in api.get("/api/commissions/plans", params).json()["Data"])

    assert names() == ["Priya's", "Standard Wholesale Rate"]
    assert names(active="true") == ["Standard Wholesale Rate"]
    assert names(salesRepId=str(tenant.other_rep.sales_rep_id)) == ["Priya's"]
    assert names(repNumber="REP-007") == ["Standard Wholesale Rate"]


ROLES = ["admin", "rep", "other_rep", "portal", "other_org_admin", "anonymous"]
#   route (on REP-007's plan)                    admin rep other_rep portal other_org_admin anonymous
MATRIX = [
    ("get", "/api/commissions/plans/{id}", None, (200, 200, 404, 404, 404, 401)),
    ("patch", "/api/commissions/plans/{id}", {"Name": "x"}, (200, 403, 404, 404, 404, 401)),
    ("put", "/api/commissions/plans/{id}", "body", (200, 403, 404, 404, 404, 401)),
    ("post", "/api/commissions/plans/{id}/activate", None, (200, 403, 404, 404, 404, 401)),
    ("post", "/api/commissions/plans/{id}/deactivate", None, (200, 403, 404, 404, 404, 401)),
    ("post", "/api/commissions/plans", "body", (201, 403, 403, 404, 400, 401)),
    ("get", "/api/commissions/plans", None, (200, 200, 200, 404, 200, 401)),
]


@pytest.mark.parametrize("method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("index, role", list(enumerate(ROLES)))
def test_matrix(tenant, other_tenant, method, path, body, expected, index, role):
    plan = create(tenant)
    callers = {"admin": tenant.admin_api, "rep": tenant.rep_api, "other_rep": tenant.other_rep_api,
               "portal": tenant.portal_api, "other_org_admin": other_tenant.admin_api, "anonymous": APIClient()}
    if body == "body":
        body = plan_body(tenant)
    before = list(CommissionPlan.objects.values("name", "active", "default_rate"))
    response = getattr(callers[role], method)(path.format(id=plan["CommissionPlanId"]), body, format="json")
    assert response.status_code == expected[index], response.content
    if expected[index] >= 400:
        assert list(CommissionPlan.objects.values("name", "active", "default_rate")) == before


def test_rep_lists_only_its_own_plans(tenant):
    create(tenant)
    create(tenant, SalesRepId=str(tenant.other_rep.sales_rep_id), Name="Priya's", CustomerOverrides=[])
    assert [p["Name"] for p in tenant.rep_api.get("/api/commissions/plans").json()["Data"]] == ["Standard Wholesale Rate"]
    assert [p["Name"] for p in tenant.rep_api.get("/api/commissions/plans", {"repNumber": "REP-012"}).json()["Data"]] == []


@pytest.mark.parametrize("page_size", [5, 200])
def test_plan_list_query_count_is_constant(tenant, page_size, django_assert_max_num_queries):
    for n in range(12):
        rep = SalesRepFactory(organization=tenant.org, rep_number=f"R-{n}")
        create(tenant, SalesRepId=str(rep.sales_rep_id), Name=f"Plan {n}")
    api = tenant.admin_api
    with django_assert_max_num_queries(9):
        assert api.get("/api/commissions/plans", {"PageSize": page_size}).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"CustomerOverrides": [{"DefaultRate": 0.1}]}, "CustomerOverrides[0].CustomerNumber"),
    ({"Rules": [{"Name": "Widgets"}]}, "Rules[0].Priority"),
    ({"CustomerOverrides": [{"CustomerNumber": "CUST-0042", "Rules": [{"Rate": 0.1}]}]},
     "CustomerOverrides[0].Rules[0].Priority"),
])
def test_a_patch_gives_whole_rules_and_overrides(tenant, body, field):
    """Found by the schema fuzzer: a PATCH whose override had no CustomerNumber (or a rule no
    Priority) was a 500, DRF's partial update skipping the required fields of list items too."""
    plan = create(tenant)
    response = tenant.admin_api.patch(f"/api/commissions/plans/{plan['CommissionPlanId']}", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert tenant.admin_api.get(f"/api/commissions/plans/{plan['CommissionPlanId']}").json() == plan
