"""A new order is answered, and its audit entry written, from what order_place just stored.

`POST /api/orders` no longer reads the order back: the 201's body must be exactly what a `GET` of
the order answers, and the "created" audit entry exactly what a snapshot read from the database
records, for every kind of order (a rep's, an admin's with split credits, named reps and prices
given with fewer decimals than stored, a portal user's). A replay still reads the stored order.
"""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_snapshot, changes_between
from orders.models import Order

pytestmark = pytest.mark.django_db

CHILDREN = ("items", "sales_credits")


def placed(api, body):
    key = str(uuid.uuid4())
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.json()
    return response, key, [q["sql"] for q in queries.captured_queries]


def assert_answered_as_stored(api, body):
    response, key, queries = placed(api, body)
    answer = response.json()
    assert api.get(f"/api/orders/{answer['OrderId']}").json() == answer
    assert not [sql for sql in queries if sql.startswith("SELECT") and '"orders_orderitem"' in sql], \
        "the new order's items were read back"
    order = Order.objects.get(pk=answer["OrderId"])
    entry = AuditEvent.objects.get(object_id=order.order_number, action="created")
    assert entry.changes == changes_between({}, audit_snapshot(order, CHILDREN))
    replay = api.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (replay.status_code, replay.json()) == (200, answer)
    return answer


def test_a_reps_order_is_answered_as_stored(tenant, catalog):
    answer = assert_answered_as_stored(tenant.rep_api, {
        "Customer": {"CustomerNumber": "CUST-0042"},
        "Items": [{"Sku": "WDG-100-BLU", "Quantity": 48}, {"Sku": "BLT-7", "Quantity": 15}]})
    assert answer["TakenBySalesRep"]["Email"] and answer["SalesCredits"][0]["Share"] == 1


def test_an_admins_order_with_split_credits_named_reps_and_short_prices_is_answered_as_stored(tenant, catalog):
    answer = assert_answered_as_stored(tenant.admin_api, {
        "Customer": {"CustomerNumber": "CUST-0099"}, "OrderType": "Assisted", "Channel": "Phone",
        "PONumber": "PO-1", "ExternalId": "erp-77", "PriceTier": "Retail", "Terms": "COD",
        "PrimarySalesRep": {"RepNumber": "REP-012"}, "TakenBySalesRep": {"RepNumber": "REP-007"},
        "SalesCredits": [{"RepNumber": "REP-012", "Share": 0.5}, {"RepNumber": "REP-007", "Share": 0.5}],
        "Items": [{"Sku": "WDG-100-BLU", "Quantity": 3, "Price": 18.5}, {"Sku": "RTL-1", "Quantity": 1, "Price": 9}]})
    assert [item["Price"] for item in answer["Items"]] == [18.5, 9]
    assert [(c["RepNumber"], c["Share"]) for c in answer["SalesCredits"]] == [("REP-012", 0.5), ("REP-007", 0.5)]


def test_a_portal_users_order_is_answered_as_stored(tenant, catalog):
    assert_answered_as_stored(tenant.portal_api, {"Customer": {"CustomerNumber": "CUST-0042"},
                                                  "Items": [{"Sku": "WDG-100-BLU", "Quantity": 2}]})
