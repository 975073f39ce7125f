"""Logins, claims, refresh, logout and revocation (§2)."""
import jwt
import pytest
from django.conf import settings
from django.core.management import call_command

from conftest import client_for
from customers.services import customer_set_active, portal_login_revoke
from nymble.models import Membership, Organization, Role
from nymble.tests.factories import accept_invitation
from nymble.tokens import membership_revoke_tokens
from salesreps.services import sales_rep_set_active
from salesreps.tests.factories import SalesRepFactory

pytestmark = pytest.mark.django_db


def login(api, email, password, org_code=None):
    body = {"Email": email, "Password": password}
    if org_code is not None:
        body["OrgCode"] = org_code
    return api.post("/api/auth/token", body, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def me(api, tenant):
    return api.get(f"/api/organizations/{tenant.org.id}")


def test_admin_logs_in_and_gets_bearer_tokens_with_org_and_role_claims(tenant, anon_api, password):
    response = login(anon_api, tenant.admin.user.email, password)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["TokenType"] == "Bearer"
    assert body["ExpiresIn"] == int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    access = claims(body["AccessToken"])
    assert access["OrganizationId"] == str(tenant.org.id)
    assert access["Roles"] == ["Admin"]
    assert "RepNumber" not in access and "CustomerNumber" not in access
    assert claims(body["RefreshToken"])["token_type"] == "refresh"


def test_rep_token_carries_rep_number_and_global_sales_rep_id(tenant, anon_api, password):
    response = login(anon_api, tenant.rep.email, password, "acme")  # OrgCode is case-insensitive
    access = claims(response.json()["AccessToken"])
    assert access["Roles"] == ["SalesRep"]
    assert access["RepNumber"] == "REP-007"
    assert access["SalesRepId"] == str(tenant.rep.sales_rep_id)


def test_portal_token_carries_customer_number_and_price_tier(tenant, anon_api, password):
    response = login(anon_api, tenant.portal.user.email.upper(), password)  # email is case-insensitive
    access = claims(response.json()["AccessToken"])
    assert access["Roles"] == ["Customer"]
    assert access["CustomerNumber"] == "CUST-0042"
    assert access["PriceTier"] == "Wholesale"


def test_wrong_password_and_unknown_email_are_the_same_401(tenant, anon_api):
    wrong = login(anon_api, tenant.admin.user.email, "nope-nope-nope")
    unknown = login(anon_api, "nobody@nowhere.test", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong["Content-Type"] == "application/problem+json"


def test_rep_of_two_organizations_must_name_the_org(tenant, other_tenant, anon_api, password):
    shared = SalesRepFactory(organization=other_tenant.org, rep_number="X-1", email=tenant.rep.email)
    accept_invitation(shared.membership)
    response = login(anon_api, tenant.rep.email, password)
    assert response.status_code == 400
    assert "OrgCode" in response.json()["errors"]
    chosen = login(anon_api, tenant.rep.email, password, "GLOBEX")
    assert claims(chosen.json()["AccessToken"])["OrganizationId"] == str(other_tenant.org.id)
    assert login(anon_api, tenant.rep.email, password, "NOPE").status_code == 401


def test_refresh_gives_a_new_access_token(tenant, anon_api, password):
    refresh = login(anon_api, tenant.rep.email, password).json()["RefreshToken"]
    response = anon_api.post("/api/auth/token/refresh", {"RefreshToken": refresh}, format="json")
    assert response.status_code == 200
    assert claims(response.json()["AccessToken"])["RepNumber"] == "REP-007"
    assert anon_api.post("/api/auth/token/refresh", {"RefreshToken": "garbage"}, format="json").status_code == 401


def test_logout_revokes_the_refresh_token(tenant, anon_api, password):
    refresh = login(anon_api, tenant.admin.user.email, password).json()["RefreshToken"]
    assert anon_api.post("/api/auth/logout", {"RefreshToken": refresh}, format="json").status_code == 204
    response = anon_api.post("/api/auth/token/refresh", {"RefreshToken": refresh}, format="json")
    assert response.status_code == 401


def test_revoked_token_fails_on_its_next_request_and_cannot_refresh(tenant, anon_api, password):
    tokens = login(anon_api, tenant.admin.user.email, password).json()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['AccessToken']}")
    assert me(anon_api, tenant).status_code == 200
    membership_revoke_tokens(tenant.admin.pk)
    assert me(anon_api, tenant).status_code == 401
    refreshed = anon_api.post("/api/auth/token/refresh", {"RefreshToken": tokens["RefreshToken"]}, format="json")
    assert refreshed.status_code == 401
    assert login(anon_api, tenant.admin.user.email, password).status_code == 200  # logging in again works


def test_deactivated_rep_loses_tokens_at_once_and_reactivation_revives_none(tenant, anon_api, password):
    tokens = login(anon_api, tenant.rep.email, password).json()
    api = client_for(tenant.rep.membership)
    sales_rep_set_active(rep=tenant.rep, active=False)
    assert me(api, tenant).status_code == 401
    assert login(anon_api, tenant.rep.email, password).status_code == 401
    sales_rep_set_active(rep=tenant.rep, active=True)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['AccessToken']}")
    assert me(anon_api, tenant).status_code == 401
    assert login(anon_api, tenant.rep.email, password).status_code == 200


def test_deactivated_customer_portal_user_cannot_log_in_or_use_old_tokens(tenant, anon_api, password):
    api = client_for(tenant.portal)
    assert me(api, tenant).status_code == 200
    customer_set_active(customer=tenant.customer, active=False)
    assert me(api, tenant).status_code == 401
    assert login(anon_api, tenant.portal.user.email, password).status_code == 401
    customer_set_active(customer=tenant.customer, active=True)
    assert me(api, tenant).status_code == 401
    assert login(anon_api, tenant.portal.user.email, password).status_code == 200


def test_revoked_portal_login_fails_at_once(tenant, anon_api, password):
    api = client_for(tenant.portal)
    email = tenant.portal.user.email
    portal_login_revoke(contact=tenant.portal.portal_contact)
    assert me(api, tenant).status_code == 401
    assert login(anon_api, email, password).status_code == 401
    assert not Membership.objects.filter(user__email=email).exists()


def test_access_token_is_not_accepted_as_refresh_and_vice_versa(tenant, anon_api, password):
    tokens = login(anon_api, tenant.admin.user.email, password).json()
    response = anon_api.post("/api/auth/token/refresh", {"RefreshToken": tokens["AccessToken"]}, format="json")
    assert response.status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['RefreshToken']}")
    assert me(anon_api, tenant).status_code == 401


def test_create_organization_prints_the_id_on_its_last_line(db, capsys):
    call_command("create_organization", "Initech", "--code", "INIT", "--admin-email", "boss@initech.test",
                 "--admin-password", "pass-word-1")
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    organization = Organization.objects.get(pk=last_line)
    assert organization.org_code == "INIT"
    assert organization.memberships.get().role == Role.ADMIN
