"""The organization's webhook endpoints, which every write that emits asks for, kept in the shared
cache per generation (nymble.cache): read once, and afresh after every kind of endpoint write."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]


def emitted(org) -> tuple[set, int]:
    """The endpoints one order.created reaches, and how many queries asked for the endpoints."""
    before = set(WebhookDelivery.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        services.webhook_emit(organization_id=org.pk, event_type="order.created", data=lambda: {"Order": 1})
    reached = {d.endpoint.url for d in WebhookDelivery.objects.exclude(pk__in=before).select_related("endpoint")}
    asked = sum(WebhookEndpoint._meta.db_table in q["sql"] and q["sql"].startswith("SELECT") for q in queries)
    return reached, asked


def endpoint(org, name, events=("order.created",)):
    return services.endpoint_create(organization=org, url=f"https://{name}.hooks.invalid/in", events=list(events))


def test_endpoints_are_read_once_and_again_after_every_write(tenant):
    org = tenant.org
    cache.clear()  # (making the tenant emitted already)
    assert emitted(org) == (set(), 1)
    assert emitted(org) == (set(), 0)  # nothing changed: from the cache
    first = endpoint(org, "first")
    assert emitted(org) == ({"https://first.hooks.invalid/in"}, 1)
    assert emitted(org) == ({"https://first.hooks.invalid/in"}, 0)
    second = endpoint(org, "second", ["*"])
    endpoint(org, "other", ["invoice.paid"])
    assert emitted(org)[0] == {"https://first.hooks.invalid/in", "https://second.hooks.invalid/in"}
    services.endpoint_update(endpoint=first, active=False)
    assert emitted(org) == ({"https://second.hooks.invalid/in"}, 1)
    services.endpoint_update(endpoint=second, events=["invoice.paid"])
    assert emitted(org) == (set(), 1)
    services.endpoint_update(endpoint=first, active=True)
    assert emitted(org)[0] == {"https://first.hooks.invalid/in"}
    services.endpoint_delete(endpoint=first)
    assert emitted(org) == (set(), 1)


def test_an_endpoint_deactivated_after_failing_gets_no_more_events(tenant):
    org = tenant.org
    failing = endpoint(org, "failing")
    assert emitted(org)[0] == {"https://failing.hooks.invalid/in"}
    services._deactivate(failing)
    assert emitted(org) == (set(), 1)


def test_one_organizations_endpoints_are_not_anothers(tenant, other_tenant):
    endpoint(tenant.org, "ours")
    assert emitted(tenant.org)[0] == {"https://ours.hooks.invalid/in"}
    assert emitted(other_tenant.org)[0] == set()
