"""Machine logins: API clients, their hashed secrets, the per-client login limit, revocation."""
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from nymble.models import ApiClient
from nymble.ratelimit import limit_hit

pytestmark = pytest.mark.django_db


def create_client(tenant, name="ERP sync"):
    response = tenant.admin_api.post(f"/api/organizations/{tenant.org.id}/apiclients", {"Name": name}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def client_login(api, org_code, client_id, secret):
    return api.post(
        "/api/auth/login", {"OrgCode": org_code, "ClientId": client_id, "ClientSecret": secret}, format="json"
    )


def test_admin_creates_a_client_whose_secret_is_shown_once_and_stored_hashed(tenant):
    created = create_client(tenant)
    assert set(created) == {"ClientId", "Name", "CreatedAt", "ClientSecret"}
    stored = ApiClient.objects.get(pk=created["ClientId"])
    assert created["ClientSecret"] not in stored.secret_hash
    listed = tenant.admin_api.get(f"/api/organizations/{tenant.org.id}/apiclients").json()
    assert [c["ClientId"] for c in listed["Data"]] == [created["ClientId"]]
    assert "ClientSecret" not in listed["Data"][0]


def test_client_logs_in_with_admin_rights_in_its_organization(tenant, anon_api):
    created = create_client(tenant)
    response = client_login(anon_api, "ACME", created["ClientId"], created["ClientSecret"])
    assert response.status_code == 200
    assert set(response.json()) == {"AccessToken", "TokenType", "ExpiresIn"}
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['AccessToken']}")
    tiers = anon_api.post(f"/api/organizations/{tenant.org.id}/pricetiers", {"Code": "Gold", "Name": "Gold"}, format="json")
    assert tiers.status_code == 201


def test_wrong_secret_or_wrong_org_is_401(tenant, other_tenant, anon_api):
    created = create_client(tenant)
    assert client_login(anon_api, "ACME", created["ClientId"], "wrong").status_code == 401
    assert client_login(anon_api, "GLOBEX", created["ClientId"], created["ClientSecret"]).status_code == 401
    assert client_login(anon_api, "ACME", "not-a-uuid", "x").status_code == 401


def test_eleventh_login_in_a_minute_is_429(tenant, anon_api):
    created = create_client(tenant)
    statuses = [client_login(anon_api, "ACME", created["ClientId"], created["ClientSecret"]).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert client_login(anon_api, "ACME", created["ClientId"], "wrong").status_code == 401  # failures count apart
    other = create_client(tenant, "CRM")  # the limit is per client
    assert client_login(anon_api, "ACME", other["ClientId"], other["ClientSecret"]).status_code == 200


def test_revoked_client_token_fails_at_once(tenant, anon_api):
    created = create_client(tenant)
    token = client_login(anon_api, "ACME", created["ClientId"], created["ClientSecret"]).json()["AccessToken"]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon_api.get(f"/api/organizations/{tenant.org.id}").status_code == 200
    deleted = tenant.admin_api.delete(f"/api/organizations/{tenant.org.id}/apiclients/{created['ClientId']}")
    assert deleted.status_code == 204
    assert anon_api.get(f"/api/organizations/{tenant.org.id}").status_code == 401
    anon_api.credentials()
    assert client_login(anon_api, "ACME", created["ClientId"], created["ClientSecret"]).status_code == 401


def test_only_admins_manage_clients_and_only_their_own(tenant, other_tenant):
    path = f"/api/organizations/{tenant.org.id}/apiclients"
    assert tenant.rep_api.get(path).status_code == 403
    assert tenant.portal_api.post(path, {"Name": "x"}, format="json").status_code == 403
    assert other_tenant.admin_api.get(path).status_code == 404
    created = create_client(tenant)
    assert other_tenant.admin_api.delete(f"{path}/{created['ClientId']}").status_code == 404
    assert other_tenant.admin_api.delete(
        f"/api/organizations/{other_tenant.org.id}/apiclients/{created['ClientId']}"
    ).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_limit_counts_atomically_in_the_database_cache_across_connections(postgres_only):
    """Without Redis the database cache's increment is a locked row, so racing processes never lose a count."""
    database_cache = {"default": {"BACKEND": "nymble.cache.AtomicDatabaseCache", "LOCATION": "nymble_cache"}}
    with override_settings(CACHES=database_cache):
        call_command("createcachetable", verbosity=0)  # absent when the suite runs with Redis
        hits = []

        def attempt():
            try:
                hits.append(limit_hit("race-key", limit=10))
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt) for _ in range(15)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected_over = max(0, len(threads) - 10)
        assert hits.count(True) == expected_over
        assert len(hits) == len(threads)


def test_the_limit_counts_per_client_however_its_id_is_spelt(tenant, anon_api):
    """Found by the schema fuzzer (its random ClientIds became cache keys): each spelling of one id
    (upper case, braces, `urn:uuid:`) had a bucket of its own, so the limit could be walked around."""
    created = create_client(tenant)
    lower = created["ClientId"]
    spellings = [lower, lower.upper(), "{" + lower + "}", "urn:uuid:" + lower, lower.replace("-", "")]
    statuses = [client_login(anon_api, "ACME", spellings[n % 5], created["ClientSecret"]).status_code
                for n in range(11)]
    assert statuses == [200] * 10 + [429]
    assert client_login(anon_api, "ACME", "not-a-uuid\x01", "x").status_code == 401


def test_wrong_secrets_are_limited_per_client_and_address_so_a_stranger_cannot_lock_the_client_out(tenant):
    """Found in the attack: ten wrong secrets from anywhere used up the client's logins for the
    minute. Now a stranger's address gets the 429; the ERP job on its own address logs in."""
    from rest_framework.test import APIClient

    created = create_client(tenant)
    stranger, erp = APIClient(REMOTE_ADDR="203.0.113.9"), APIClient(REMOTE_ADDR="198.51.100.20")
    statuses = [client_login(stranger, "ACME", created["ClientId"], "guess").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    refused = client_login(stranger, "ACME", created["ClientId"], created["ClientSecret"])
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"] == "application/problem+json"
    assert client_login(erp, "ACME", created["ClientId"], created["ClientSecret"]).status_code == 200
    assert client_login(erp, "ACME", created["ClientId"], "typo").status_code == 401  # its own count
