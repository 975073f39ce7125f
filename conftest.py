"""Role fixtures shared by every app's tests: one organization with an admin, two reps, a
customer of the first rep with a portal login, and a second organization to prove nothing leaks."""
import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.tests.factories import CustomerFactory, give_portal_login
from nymble.models import Membership, Organization, Role
from nymble.tests.factories import PASSWORD, OrganizationFactory
from nymble.tokens import membership_tokens
from orders.tests.conftest import catalog  # noqa: F401  (shared by the orders and commissions tests)
from salesreps.tests.factories import SalesRepFactory


def pytest_configure(config):
    """Under pytest-xdist (scripts/test runs one worker per CPU) each worker gets a Redis database
    of its own, as it gets a test database of its own: the tests clear the cache, and login limits
    counted by one worker must not be another's. Worker gwN takes the database N below REDIS_URL's
    (CI's 15: 15, 14, …)."""
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache = settings.CACHES["default"]
    if worker.startswith("gw") and "redis" in cache["BACKEND"].lower():
        url = urlsplit(cache["LOCATION"])
        base = int(url.path.strip("/") or 0)
        cache["LOCATION"] = urlunsplit(url._replace(path=f"/{(base - int(worker[2:])) % 16}"))


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login limits live in the cache: each test starts with none counted. (The database cache's
    rows roll back with each test already; Redis keeps them.)"""
    from django.conf import settings
    from django.core.cache import cache

    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()
    yield


@pytest.fixture
def shared_cache(settings, monkeypatch):
    """A cache that nymble.cache counts as shared, whatever the run's: Redis when REDIS_URL is set,
    else a local memory cache let in for the test (the database cache never holds generations)."""
    from django.core.cache import cache

    from nymble import cache as nymble_cache

    if not nymble_cache.cache_shared():
        locmem = "django.core.cache.backends.locmem.LocMemCache"
        settings.CACHES = {"default": {"BACKEND": locmem}}
        monkeypatch.setattr(nymble_cache, "SHARED_BACKENDS", (*nymble_cache.SHARED_BACKENDS, locmem))
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _celery_in_process():
    """Tasks run in the test's process even when a broker is configured (CI sets REDIS_URL)."""
    from nymble.celery import app

    # The configuration is namespaced (CELERY_…): its keys win over lower-case ones.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def client_for(membership: Membership) -> APIClient:
    """A client logged in as the membership as it is now (its current token version)."""
    membership.refresh_from_db()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {membership_tokens(membership)['AccessToken']}")
    return client


@dataclass
class Tenant:
    org: Organization
    admin: Membership
    rep: object
    other_rep: object
    customer: object
    other_customer: object  # assigned to other_rep
    portal: Membership

    @property
    def admin_api(self) -> APIClient:
        return client_for(self.admin)

    @property
    def rep_api(self) -> APIClient:
        return client_for(self.rep.membership)

    @property
    def other_rep_api(self) -> APIClient:
        return client_for(self.other_rep.membership)

    @property
    def portal_api(self) -> APIClient:
        return client_for(self.portal)


def make_tenant(name: str, code: str) -> Tenant:
    org = OrganizationFactory(name=name, org_code=code)
    rep = SalesRepFactory(organization=org, rep_number="REP-007", first_name="Marcus", last_name="Chen")
    other_rep = SalesRepFactory(organization=org, rep_number="REP-012", first_name="Priya", last_name="Nair")
    customer = CustomerFactory(organization=org, customer_number="CUST-0042", company_name="Acme Wholesale Ltd.", sales_rep=rep)
    other_customer = CustomerFactory(organization=org, customer_number="CUST-0099", company_name="Zenith Supply", sales_rep=other_rep)
    contact = give_portal_login(customer)
    return Tenant(
        org=org,
        admin=Membership.objects.get(organization=org, role=Role.ADMIN),
        rep=rep,
        other_rep=other_rep,
        customer=customer,
        other_customer=other_customer,
        portal=contact.portal_membership,
    )


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("Acme Corp", "ACME")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("Globex", "GLOBEX")


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def staff_client(tenant, client):
    """The Django test client logged in to the admin as the tenant's admin (a staff user)."""
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client
