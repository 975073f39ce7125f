"""Who sees what (§5) for customers: one role × endpoint matrix.

Roles: the organization's admin, the rep that owns CUST-0042 (REP-007), another rep of the
organization (REP-012, owns CUST-0099), CUST-0042's portal user, the admin of another
organization (which has customers with the same numbers — they must never be confused), and
an anonymous caller. ACME-ONLY exists in ACME alone.
"""
import pytest
from rest_framework.test import APIClient

from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "rep", "other_rep", "portal", "other_org_admin", "anonymous"]


@pytest.fixture
def callers(tenant, other_tenant):
    CustomerFactory(organization=tenant.org, customer_number="ACME-ONLY", company_name="Only Here", sales_rep=tenant.rep)
    return {
        "admin": tenant.admin_api,
        "rep": tenant.rep_api,
        "other_rep": tenant.other_rep_api,
        "portal": tenant.portal_api,
        "other_org_admin": other_tenant.admin_api,
        "anonymous": APIClient(),
    }


def _status(api, method, path, body=None):
    return getattr(api, method)(path, body, format="json").status_code


LIST_EXPECTED = {
    "admin": ["ACME-ONLY", "CUST-0042", "CUST-0099"],
    "rep": ["ACME-ONLY", "CUST-0042"],
    "other_rep": ["CUST-0099"],
    "portal": ["CUST-0042"],
    "other_org_admin": ["CUST-0042", "CUST-0099"],  # its own, same numbers
}


@pytest.mark.parametrize("role", ROLES)
def test_list(callers, tenant, role):
    response = callers[role].get("/api/customers", {"sortOn": "CustomerNumber", "PageSize": 200})
    if role == "anonymous":
        assert response.status_code == 401
        return
    numbers = [c["CustomerNumber"] for c in response.json()["Data"]]
    assert numbers == LIST_EXPECTED[role]
    assert response.json()["TotalRecords"] == len(numbers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("params", [{"repNumber": "REP-012"}, {"repNumber": "REP-007"}, {"search": "CUST"},
                                    {"active": "true"}, {"pricing": "Wholesale"}, {"search": "Only Here"}])
def test_search_and_filters_never_widen_scope(callers, role, params):
    if role == "anonymous":
        return
    response = callers[role].get("/api/customers", {**params, "PageSize": 200})
    numbers = {c["CustomerNumber"] for c in response.json()["Data"]}
    assert numbers <= set(LIST_EXPECTED[role])


#   endpoint                                     admin rep other_rep portal other_org_admin anonymous
MATRIX = [
    ("get", "/api/customers/ACME-ONLY", None,     (200, 200, 404, 404, 404, 401)),
    ("get", "/api/customers/CUST-0099", None,     (200, 404, 200, 404, None, 401)),
    ("patch", "/api/customers/ACME-ONLY", {"CompanyPhone": "1"}, (200, 200, 404, 404, 404, 401)),
    ("patch", "/api/customers/CUST-0099", {"CompanyPhone": "1"}, (200, 404, 200, 404, None, 401)),
    ("post", "/api/customers/ACME-ONLY/deactivate", None, (200, 403, 404, 404, 404, 401)),
    ("post", "/api/customers/ACME-ONLY/activate", None,   (200, 403, 404, 404, 404, 401)),
    ("post", "/api/customers/CUST-0042/deactivate", None, (200, 403, 404, 403, None, 401)),
    ("put", "/api/customers", {"CustomerNumber": "ACME-ONLY", "CompanyName": "Taken", "CompanyEmail": "t@t.example",
                               "Pricing": "Wholesale"}, (200, 403, 403, 403, 201, 401)),
    ("post", "/api/customers", {"CustomerNumber": "NEW-1", "CompanyName": "N", "CompanyEmail": "n@n.example",
                                "Pricing": "Retail"}, (201, 201, 201, 403, 201, 401)),
]


@pytest.mark.parametrize("method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
def test_matrix(callers, tenant, method, path, body, expected, role_index, role):
    want = expected[role_index]
    if want is None:  # the other organization's own customer of that number: checked below
        return
    acme_before = list(Customer.objects.filter(organization=tenant.org).values().order_by("pk"))
    assert _status(callers[role], method, path, body) == want
    if want in (401, 403, 404) or role == "other_org_admin":
        acme_after = list(Customer.objects.filter(organization=tenant.org).values().order_by("pk"))
        assert acme_after == acme_before, "a refused or foreign call changed ACME's customers"


def test_portal_login_routes(callers, tenant):
    contact = tenant.customer.contacts.get()
    path = f"/api/customers/CUST-0042/contacts/{contact.id}/portal-login"
    expected = {"anonymous": 401, "rep": 403, "other_rep": 404, "portal": 403, "other_org_admin": 404}
    for role, status in expected.items():
        assert _status(callers[role], "delete", path) == status, role
        assert _status(callers[role], "post", path, {"Password": "long-enough-1"}) == status, role
    assert tenant.customer.contacts.get().portal_membership_id is not None
    assert _status(callers["admin"], "delete", path) == 204


def test_same_number_in_another_organization_is_another_customer(callers, tenant, other_tenant):
    mine = callers["admin"].get("/api/customers/CUST-0042").json()
    theirs = callers["other_org_admin"].get("/api/customers/CUST-0042").json()
    assert mine["Contacts"][0]["ContactId"] != theirs["Contacts"][0]["ContactId"]
    callers["other_org_admin"].patch("/api/customers/CUST-0042", {"CompanyName": "Globex's"}, format="json")
    assert callers["admin"].get("/api/customers/CUST-0042").json()["CompanyName"] == "Acme Wholesale Ltd."
