"""Sales reps through the API (§4 "Sales reps"): the seed, linking, duplicates, bad input, the
role matrix, revocation on deactivation, and `GET /api/salesreps/organizations`."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import client_for
from nymble.models import Membership, Role, User
from nymble.tests.factories import PASSWORD, OrganizationFactory, accept_invitation
from salesreps.models import OrganizationSalesRep, SalesRep
from salesreps.tests.factories import SalesRepFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SEED = {
    "FirstName": "Marcus",
    "LastName": "Chen",
    "Email": "marcus@example.com",
    "PhoneNumber": "+1-555-0188",
    "RepNumber": "REP-007",
    "Roles": ["SalesRep"],
}
FIELDS = {
    "OrganizationSalesRepId", "SalesRepId", "RepNumber", "FirstName", "LastName", "Email", "PhoneNumber",
    "Active", "Roles", "CreatedAt", "UpdatedAt",
}


def reps_path(org, rep_number=None, verb=None):
    path = f"/api/organizations/{org.id}/salesreps"
    if rep_number is not None:
        path += f"/{rep_number}"
    if verb is not None:
        path += f"/{verb}"
    return path


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def login(email, password=PASSWORD, org_code=None):
    body = {"Email": email, "Password": password}
    if org_code:
        body["OrgCode"] = org_code
    return APIClient().post("/api/auth/token", body, format="json")


def snapshot():
    """Everything a refused write must leave as it was."""
    reps = OrganizationSalesRep.objects.order_by("pk").values_list(
        "pk", "rep_number", "first_name", "last_name", "phone_number", "active", "roles", "updated_at"
    )
    return (
        list(reps),
        SalesRep.objects.count(),
        User.objects.count(),
        list(Membership.objects.order_by("pk").values_list("pk", "is_active", "token_version")),
    )


@pytest.fixture
def fresh_org(db):
    """An organization with an admin and no reps yet, so the seed's REP-007 is free."""
    org = OrganizationFactory(name="Initech", org_code="INIT")
    return org, client_for(Membership.objects.get(organization=org, role=Role.ADMIN))


# ---- create, read, round trip


def test_seed_example_is_accepted_verbatim_and_round_trips(fresh_org):
    org, admin = fresh_org
    created = admin.post(reps_path(org), SEED, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == FIELDS  # no Password, ever
    assert {key: body[key] for key in SEED} == SEED
    assert body["Active"] is True
    rep = OrganizationSalesRep.objects.get(organization=org, rep_number="REP-007")
    assert body["OrganizationSalesRepId"] == str(rep.pk) and body["SalesRepId"] == str(rep.sales_rep_id)

    fetched = admin.get(reps_path(org, "REP-007"))
    assert fetched.status_code == 200 and fetched.json() == body
    # A fetched object can be sent back as it is: read-only keys are ignored, nothing moves.
    sent_back = admin.patch(reps_path(org, "REP-007"), fetched.json(), format="json")
    assert sent_back.status_code == 200, sent_back.json()
    assert {k: v for k, v in sent_back.json().items() if k != "UpdatedAt"} == {
        k: v for k, v in body.items() if k != "UpdatedAt"
    }
    assert admin.get(reps_path(org)).json()["Data"] == [admin.get(reps_path(org, "REP-007")).json()]


def test_defaults_keys_in_any_case_and_a_password_that_logs_in(fresh_org):
    org, admin = fresh_org
    response = admin.post(
        reps_path(org),
        {"repNumber": "R1", "firstname": "Ann", "LASTNAME": "Lee", "email": "Ann.Lee@Example.COM", "password": "s3cret-pass"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["Roles"] == ["SalesRep"] and body["Active"] is True and body["PhoneNumber"] == ""
    cleared = admin.patch(reps_path(org, "R1"), {"PhoneNumber": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["PhoneNumber"] == ""
    assert body["Email"] == "ann.lee@example.com"
    assert login("ann.lee@example.com", "s3cret-pass").status_code == 200


def test_rep_created_without_password_cannot_log_in_until_given_one(fresh_org):
    org, admin = fresh_org
    assert admin.post(reps_path(org), SEED, format="json").status_code == 201
    assert login("marcus@example.com", "").status_code in (400, 401)
    assert login("marcus@example.com", "anything-at-all").status_code == 401
    assert admin.patch(reps_path(org, "REP-007"), {"Password": "now-a-pass"}, format="json").status_code == 200
    assert login("marcus@example.com", "now-a-pass").status_code == 200


def test_inactive_on_create_cannot_log_in(fresh_org):
    org, admin = fresh_org
    response = admin.post(reps_path(org), {**SEED, "Active": False, "Password": "pass-word-1"}, format="json")
    assert response.status_code == 201 and response.json()["Active"] is False
    assert login("marcus@example.com", "pass-word-1").status_code == 401


def test_rep_of_another_organization_is_linked_to_the_same_global_identity(
    tenant, other_tenant, mailoutbox, django_capture_on_commit_callbacks
):
    email = tenant.rep.email
    body = {"RepNumber": "G-1", "FirstName": "Marcus", "LastName": "Chen", "Email": email.upper()}
    # Another tenant's admin may not choose the password of a login it shares (§2): nothing is made.
    refused = other_tenant.admin_api.post(reps_path(other_tenant.org), {**body, "Password": "taken-over!"}, format="json")
    assert "Password" in assert_problem(refused, 400)["errors"]
    assert not OrganizationSalesRep.objects.filter(organization=other_tenant.org, rep_number="G-1").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the invitation leaves after commit
        response = other_tenant.admin_api.post(reps_path(other_tenant.org), body, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["SalesRepId"] == str(tenant.rep.sales_rep_id)
    assert body["OrganizationSalesRepId"] != str(tenant.rep.pk)
    assert body["Email"] == email
    assert SalesRep.objects.filter(user__email=email).count() == 1
    # The membership waits for its person: the password does not open GLOBEX until the invitation is accepted.
    assert [m.to for m in mailoutbox] == [[email]]
    assert login(email, PASSWORD, "GLOBEX").status_code == 401
    assert login(email, PASSWORD, "ACME").status_code == 200
    # ...and neither admin may change it while the login is shared.
    refused = other_tenant.admin_api.patch(reps_path(other_tenant.org, "G-1"), {"Password": "taken-over!"}, format="json")
    assert "Password" in assert_problem(refused, 400)["errors"]
    refused = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"Password": "taken-over!"}, format="json")
    assert "Password" in assert_problem(refused, 400)["errors"]
    assert login(email, PASSWORD, "ACME").status_code == 200


def test_admin_may_set_the_password_of_a_login_of_its_organization_alone(tenant):
    response = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"password": "brand-new-pass"}, format="json")
    assert response.status_code == 200, response.json()
    assert "Password" not in response.json()
    assert login(tenant.rep.email, "brand-new-pass").status_code == 200
    assert login(tenant.rep.email, PASSWORD).status_code == 401


# ---- duplicates


def test_duplicate_rep_number_is_409_naming_it_and_changes_nothing(tenant):
    before = snapshot()
    response = tenant.admin_api.post(
        reps_path(tenant.org), {**SEED, "RepNumber": "REP-012", "Email": "new@example.com"}, format="json"
    )
    assert set(assert_problem(response, 409)["errors"]) == {"RepNumber"}
    assert snapshot() == before
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("whose", ["admin", "rep", "portal"])
def test_email_already_a_login_of_this_organization_is_409_naming_it(tenant, whose):
    email = {"admin": tenant.admin.user.email, "rep": tenant.rep.email, "portal": tenant.portal.user.email}[whose]
    before = snapshot()
    response = tenant.admin_api.post(reps_path(tenant.org), {**SEED, "RepNumber": "REP-999", "Email": email}, format="json")
    assert set(assert_problem(response, 409)["errors"]) == {"Email"}
    assert snapshot() == before


def test_patch_to_a_taken_rep_number_is_409_and_changes_nothing(tenant):
    before = snapshot()
    response = tenant.admin_api.patch(
        reps_path(tenant.org, "REP-007"), {"RepNumber": "REP-012", "FirstName": "Changed"}, format="json"
    )
    assert set(assert_problem(response, 409)["errors"]) == {"RepNumber"}
    assert snapshot() == before


def test_the_same_rep_number_in_two_organizations_is_fine(tenant, other_tenant):
    assert tenant.rep.rep_number == other_tenant.rep.rep_number == "REP-007"
    assert tenant.admin_api.get(reps_path(tenant.org, "REP-007")).json()["Email"] == tenant.rep.email


# ---- bad input


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"FirstName": None}, "FirstName"),
        ({"FirstName": ""}, "FirstName"),
        ({"FirstName": ["Marcus"]}, "FirstName"),
        ({"LastName": {"x": 1}}, "LastName"),
        ({"Email": "not-an-email"}, "Email"),
        ({"Email": 42}, "Email"),
        ({"RepNumber": "REP/007"}, "RepNumber"),
        ({"RepNumber": "REP 007"}, "RepNumber"),
        ({"RepNumber": "R" * 65}, "RepNumber"),
        ({"PhoneNumber": "5" * 41}, "PhoneNumber"),
        ({"Roles": ["Admin"]}, "Roles"),
        ({"Roles": ["SalesRep", "Customer"]}, "Roles"),
        ({"Roles": []}, "Roles"),
        ({"Roles": "SalesRep"}, "Roles"),
        ({"Roles": None}, "Roles"),
        ({"Active": "maybe"}, "Active"),
        ({"Active": None}, "Active"),
        ({"Password": "short"}, "Password"),
        ({"Password": ["pass-word-1"]}, "Password"),
        ({"PhoneNumber": True}, "PhoneNumber"),
        ({"Nickname": "Marc"}, "Nickname"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(fresh_org, change, field):
    org, admin = fresh_org
    before = snapshot()
    response = admin.post(reps_path(org), {**SEED, **change}, format="json")
    assert field in assert_problem(response, 400)["errors"]
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["FirstName", "LastName", "Email", "RepNumber"])
def test_required_fields(fresh_org, missing):
    org, admin = fresh_org
    body = {key: value for key, value in SEED.items() if key != missing}
    assert missing in assert_problem(admin.post(reps_path(org), body, format="json"), 400)["errors"]
    assert not OrganizationSalesRep.objects.filter(organization=org).exists()


@pytest.mark.parametrize("raw", ['{"FirstName": ', "[1, 2]", '"a string"', "null"])
def test_malformed_or_non_object_body_is_400(fresh_org, raw):
    org, admin = fresh_org
    assert_problem(admin.post(reps_path(org), raw, content_type="application/json"), 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Email": "someone-else@example.com"}, "Email"),
        ({"Roles": ["Admin"]}, "Roles"),
        ({"FirstName": ""}, "FirstName"),
        ({"Active": "perhaps"}, "Active"),
        ({"Colour": "blue"}, "Colour"),
    ],
)
def test_bad_patch_is_400_naming_the_field_and_changes_nothing(tenant, change, field):
    before = snapshot()
    response = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"LastName": "Changed", **change}, format="json")
    assert field in assert_problem(response, 400)["errors"]
    assert snapshot() == before


def test_patch_may_send_the_same_email_in_another_case(tenant):
    response = tenant.admin_api.patch(
        reps_path(tenant.org, "REP-007"), {"Email": tenant.rep.email.upper(), "PhoneNumber": "+1-555-0100"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["PhoneNumber"] == "+1-555-0100"


def test_put_and_delete_are_not_routes(tenant):
    assert_problem(tenant.admin_api.put(reps_path(tenant.org, "REP-007"), SEED, format="json"), 405)
    assert_problem(tenant.admin_api.delete(reps_path(tenant.org, "REP-007")), 405)


# ---- who may do what


def caller(who, tenant, other_tenant):
    return {
        "admin": lambda: tenant.admin_api,
        "rep": lambda: tenant.rep_api,  # REP-007
        "portal": lambda: tenant.portal_api,
        "other_org_admin": lambda: other_tenant.admin_api,
        "other_org_rep": lambda: other_tenant.rep_api,  # also REP-007, in the other organization
        "anonymous": APIClient,
    }[who]()


NEW_REP = {**SEED, "RepNumber": "REP-100", "Email": "new-rep@example.com"}

# (who, method, target, body, expected); target None is the collection, else a RepNumber of `tenant`.
MATRIX = [
    # list
    ("admin", "get", None, None, 200),
    ("rep", "get", None, None, 200),
    ("portal", "get", None, None, 403),
    ("other_org_admin", "get", None, None, 404),
    ("other_org_rep", "get", None, None, 404),
    ("anonymous", "get", None, None, 401),
    # create
    ("admin", "post", None, NEW_REP, 201),
    ("rep", "post", None, NEW_REP, 403),
    ("portal", "post", None, NEW_REP, 403),
    ("other_org_admin", "post", None, NEW_REP, 404),
    ("anonymous", "post", None, NEW_REP, 401),
    # retrieve
    ("admin", "get", "REP-007", None, 200),
    ("admin", "get", "REP-404", None, 404),
    ("rep", "get", "REP-007", None, 200),
    ("rep", "get", "REP-012", None, 404),
    ("portal", "get", "REP-007", None, 404),
    ("other_org_admin", "get", "REP-007", None, 404),
    ("other_org_rep", "get", "REP-007", None, 404),
    ("anonymous", "get", "REP-007", None, 401),
    # partial update
    ("admin", "patch", "REP-007", {"FirstName": "Mark"}, 200),
    ("rep", "patch", "REP-007", {"FirstName": "Mark"}, 403),
    ("rep", "patch", "REP-012", {"FirstName": "Mark"}, 404),
    ("portal", "patch", "REP-007", {"FirstName": "Mark"}, 404),
    ("other_org_admin", "patch", "REP-007", {"FirstName": "Mark"}, 404),
    ("anonymous", "patch", "REP-007", {"FirstName": "Mark"}, 401),
]
for _verb in ("activate", "deactivate"):
    MATRIX += [
        ("admin", "post", f"REP-012/{_verb}", None, 200),
        ("rep", "post", f"REP-007/{_verb}", None, 403),
        ("rep", "post", f"REP-012/{_verb}", None, 404),
        ("portal", "post", f"REP-007/{_verb}", None, 404),
        ("other_org_admin", "post", f"REP-007/{_verb}", None, 404),
        ("other_org_rep", "post", f"REP-007/{_verb}", None, 404),
        ("anonymous", "post", f"REP-007/{_verb}", None, 401),
    ]


@pytest.mark.parametrize(("who", "method", "target", "body", "expected"), MATRIX)
def test_role_matrix(tenant, other_tenant, who, method, target, body, expected):
    api = caller(who, tenant, other_tenant)
    path = reps_path(tenant.org) + (f"/{target}" if target else "")
    before = snapshot()
    response = getattr(api, method)(path, body, format="json") if body is not None else getattr(api, method)(path)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == PROBLEM
        if method != "get":
            assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "expected"),
    [("rep", 200), ("admin", 403), ("portal", 403), ("other_org_admin", 403), ("anonymous", 401)],
)
def test_role_matrix_of_my_organizations(tenant, other_tenant, who, expected):
    response = caller(who, tenant, other_tenant).get("/api/salesreps/organizations")
    assert response.status_code == expected, response.content


def test_a_rep_lists_only_itself_whatever_it_asks(tenant):
    for params in ({}, {"search": "Nair"}, {"active": "true"}, {"sortOn": "Name", "sortDirection": "desc"}):
        body = tenant.rep_api.get(reps_path(tenant.org), params).json()
        expected = [] if params.get("search") == "Nair" else ["REP-007"]
        assert [r["RepNumber"] for r in body["Data"]] == expected
        assert body["TotalRecords"] == len(expected)


def test_another_organizations_id_is_404_even_for_its_own_rep_numbers(tenant, other_tenant):
    assert_problem(tenant.admin_api.get(reps_path(other_tenant.org, "REP-012")), 404)
    assert_problem(tenant.admin_api.get("/api/organizations/not-an-id/salesreps"), 404)
    response = tenant.admin_api.patch(reps_path(other_tenant.org, "REP-012"), {"FirstName": "Hacked"}, format="json")
    assert_problem(response, 404)
    other_tenant.other_rep.refresh_from_db()
    assert other_tenant.other_rep.first_name == "Priya"


# ---- activation and tokens


def test_deactivate_revokes_the_reps_tokens_and_reactivation_revives_none(tenant):
    tokens = login(tenant.rep.email).json()
    api = tenant.rep_api
    assert api.get(reps_path(tenant.org, "REP-007")).status_code == 200

    response = tenant.admin_api.post(reps_path(tenant.org, "REP-007", "deactivate"))
    assert response.status_code == 200 and response.json()["Active"] is False
    assert_problem(api.get(reps_path(tenant.org, "REP-007")), 401)
    assert_problem(APIClient().post("/api/auth/token/refresh", {"RefreshToken": tokens["RefreshToken"]}, format="json"), 401)
    assert login(tenant.rep.email).status_code == 401
    # an inactive rep is still there for admins
    assert tenant.admin_api.get(reps_path(tenant.org, "REP-007")).json()["Active"] is False
    assert [r["RepNumber"] for r in tenant.admin_api.get(reps_path(tenant.org), {"active": "false"}).json()["Data"]] == [
        "REP-007"
    ]

    response = tenant.admin_api.post(reps_path(tenant.org, "REP-007", "activate"))
    assert response.status_code == 200 and response.json()["Active"] is True
    assert_problem(api.get(reps_path(tenant.org, "REP-007")), 401)
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['AccessToken']}")
    assert_problem(old.get(reps_path(tenant.org, "REP-007")), 401)
    fresh = login(tenant.rep.email)
    assert fresh.status_code == 200
    new = APIClient()
    new.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh.json()['AccessToken']}")
    assert new.get(reps_path(tenant.org, "REP-007")).status_code == 200


def test_patch_active_false_goes_through_deactivation(tenant):
    api = tenant.rep_api
    response = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"Active": False, "FirstName": "Marc"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["Active"] is False and response.json()["FirstName"] == "Marc"
    assert_problem(api.get(reps_path(tenant.org, "REP-007")), 401)
    assert not Membership.objects.get(pk=tenant.rep.membership_id).is_active
    response = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"active": True}, format="json")
    assert response.json()["Active"] is True
    assert_problem(api.get(reps_path(tenant.org, "REP-007")), 401)
    assert login(tenant.rep.email).status_code == 200


def test_deactivating_in_one_organization_leaves_the_other_alone(tenant, other_tenant):
    accept_invitation(SalesRepFactory(organization=other_tenant.org, rep_number="G-1", email=tenant.rep.email).membership)
    tenant.admin_api.post(reps_path(tenant.org, "REP-007", "deactivate"))
    assert login(tenant.rep.email, org_code="ACME").status_code == 401
    assert login(tenant.rep.email, org_code="GLOBEX").status_code == 200


def test_deactivating_another_rep_leaves_a_reps_tokens_alone(tenant):
    api = tenant.rep_api
    tenant.admin_api.post(reps_path(tenant.org, "REP-012", "deactivate"))
    assert api.get(reps_path(tenant.org, "REP-007")).status_code == 200


# ---- RepNumber changes


def test_patch_rep_number_moves_the_url_and_keeps_customers_and_logins(tenant):
    api = tenant.rep_api
    response = tenant.admin_api.patch(reps_path(tenant.org, "REP-007"), {"RepNumber": "REP-700"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["RepNumber"] == "REP-700"
    assert body["OrganizationSalesRepId"] == str(tenant.rep.pk)
    assert_problem(tenant.admin_api.get(reps_path(tenant.org, "REP-007")), 404)
    assert tenant.admin_api.get(reps_path(tenant.org, "REP-700")).json() == body
    tenant.customer.refresh_from_db()
    assert tenant.customer.sales_rep_id == tenant.rep.pk
    assert api.get(reps_path(tenant.org, "REP-700")).status_code == 200  # same login, same record
    assert login(tenant.rep.email).status_code == 200


def test_rep_numbers_with_url_unfriendly_characters_round_trip(tenant):
    response = tenant.admin_api.post(
        reps_path(tenant.org), {**SEED, "RepNumber": "J.Smith#2?x=1", "Email": "js@example.com"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert tenant.admin_api.get(reps_path(tenant.org, "J.Smith%232%3Fx%3D1")).json()["Email"] == "js@example.com"


# ---- the rep's own organizations


def test_my_organizations_lists_every_organization_of_the_reps_identity(tenant, other_tenant):
    linked = SalesRepFactory(organization=other_tenant.org, rep_number="G-42", email=tenant.rep.email)
    body = tenant.rep_api.get("/api/salesreps/organizations").json()
    assert set(body) == {"Data", "TotalRecords", "CurrentPage", "PageSize", "TotalPages"}
    assert body["TotalRecords"] == 2
    assert body["Data"] == [  # ordered by organization name
        {
            "OrganizationId": str(tenant.org.id),
            "Name": "Acme Corp",
            "OrgCode": "ACME",
            "RepNumber": "REP-007",
            "OrganizationSalesRepId": str(tenant.rep.pk),
            "Active": True,
        },
        {
            "OrganizationId": str(other_tenant.org.id),
            "Name": "Globex",
            "OrgCode": "GLOBEX",
            "RepNumber": "G-42",
            "OrganizationSalesRepId": str(linked.pk),
            "Active": True,
        },
    ]
    # the same from the other organization's token; an inactive membership shows as such
    other_tenant.admin_api.post(reps_path(other_tenant.org, "G-42", "deactivate"))
    data = tenant.rep_api.get("/api/salesreps/organizations").json()["Data"]
    assert [(o["OrgCode"], o["Active"]) for o in data] == [("ACME", True), ("GLOBEX", False)]
    # other reps see only their own
    assert [o["RepNumber"] for o in tenant.other_rep_api.get("/api/salesreps/organizations").json()["Data"]] == ["REP-012"]
    assert [o["OrgCode"] for o in other_tenant.rep_api.get("/api/salesreps/organizations").json()["Data"]] == ["GLOBEX"]


# ---- list: search, filter, sort, query count


def test_search_filter_and_sort(tenant):
    SalesRepFactory(organization=tenant.org, rep_number="REP-003", first_name="Zoe", last_name="Adams", email="zoe@adams.test")
    tenant.admin_api.post(reps_path(tenant.org, "REP-003", "deactivate"))

    def numbers(**params):
        response = tenant.admin_api.get(reps_path(tenant.org), params)
        assert response.status_code == 200, response.content
        return [r["RepNumber"] for r in response.json()["Data"]]

    assert numbers() == ["REP-003", "REP-007", "REP-012"]
    assert numbers(search="nair") == ["REP-012"]
    assert numbers(search="MARCUS") == ["REP-007"]
    assert numbers(search="adams.test") == ["REP-003"]
    assert numbers(search="rep-01") == ["REP-012"]
    assert numbers(active="true") == ["REP-007", "REP-012"]
    assert numbers(active="false") == ["REP-003"]
    assert numbers(sortOn="Name") == ["REP-003", "REP-007", "REP-012"]  # Adams, Chen, Nair
    assert numbers(sortOn="name", sortDirection="desc") == ["REP-012", "REP-007", "REP-003"]
    assert numbers(sortOn="CreatedAt") == ["REP-007", "REP-012", "REP-003"]
    assert numbers(sortOn="RepNumber", sortDirection="desc") == ["REP-012", "REP-007", "REP-003"]
    assert "sortOn" in assert_problem(tenant.admin_api.get(reps_path(tenant.org), {"sortOn": "Email"}), 400)["errors"]
    assert numbers(active="FALSE") == ["REP-003"]
    assert "active" in assert_problem(tenant.admin_api.get(reps_path(tenant.org), {"active": "maybe"}), 400)["errors"]
    assert_problem(tenant.admin_api.get(reps_path(tenant.org), {"PageSize": 201}), 400)


def test_list_query_count_does_not_grow_with_page_size(tenant, django_assert_max_num_queries):
    for n in range(60):
        SalesRepFactory(organization=tenant.org, rep_number=f"BULK-{n:03d}")
    api = tenant.admin_api
    with CaptureQueriesContext(connection) as small:
        assert len(api.get(reps_path(tenant.org), {"PageSize": 5}).json()["Data"]) == 5
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(reps_path(tenant.org), {"PageSize": 200}).json()["Data"]) == 62


def test_my_organizations_query_count_does_not_grow_with_page_size(tenant, django_assert_max_num_queries):
    for n in range(4):
        org = OrganizationFactory(name=f"Org {n}", org_code=f"ORGX{n}")
        SalesRepFactory(organization=org, rep_number="R-1", email=tenant.rep.email)
    api = tenant.rep_api
    with CaptureQueriesContext(connection) as small:
        assert len(api.get("/api/salesreps/organizations", {"PageSize": 1}).json()["Data"]) == 1
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get("/api/salesreps/organizations", {"PageSize": 200}).json()["Data"]) == 5


# ---- races (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("clash", ["RepNumber", "Email"])
def test_racing_creates_of_one_rep_end_as_one_201_and_one_409(postgres_only, tenant, clash):
    def body(n):
        same = {"RepNumber": "RACE-1", "Email": "race@example.com"}
        other = {"RepNumber": f"RACE-{n + 10}", "Email": f"race{n}@example.com"}
        return {**SEED, **other, clash: same[clash]}

    clients = [tenant.admin_api for _ in range(2)]  # built here: tokens need the test's connection

    def create(n):
        try:
            response = clients[n].post(reps_path(tenant.org), body(n), format="json")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(create, range(2)))
    assert sorted(status for status, _ in results) == [201, 409], results
    (conflict,) = [body for status, body in results if status == 409]
    assert clash in conflict["errors"]
    assert OrganizationSalesRep.objects.filter(organization=tenant.org, rep_number__startswith="RACE").count() == 1
