"""Placing orders (§4 "Orders"): the seed's assisted order, attribution, prices, quantities, idempotency."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from customers.services import customer_set_active, customer_update
from orders.models import Order, OrderItem, OrganizationSequence
from orders.tests.conftest import add_product

pytestmark = pytest.mark.django_db

SEED_ORDER = {
    "Customer": {"CustomerNumber": "CUST-0042", "CompanyName": "Acme Wholesale Ltd.", "CompanyEmail": "[email protected]"},
    "OrderType": "Assisted",
    "PONumber": "SHOW-2024-001",
    "PriceTier": "Wholesale",
    "CurrencyCode": "USD",
    "PrimarySalesRep": {"RepNumber": "REP-007"},
    "TakenBySalesRep": {"RepNumber": "REP-012"},
    "Items": [{"Sku": "WDG-100-BLU", "Quantity": 48, "Price": 18.50}],
    "Channel": "TradeShow",
    "Terms": "Net30",
}


def order_body(sku="WDG-100-BLU", quantity=1, customer="CUST-0042", **extra):
    return {"Customer": {"CustomerNumber": customer}, "Items": [{"Sku": sku, "Quantity": quantity}], **extra}


def test_seed_assisted_order_is_accepted_verbatim(tenant, catalog):
    response = tenant.admin_api.post("/api/orders", SEED_ORDER, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["OrderNumber"] == "ORD-00001"
    assert (order["OrderType"], order["Channel"], order["Status"]) == ("Assisted", "TradeShow", "Pending")
    assert (order["PONumber"], order["PriceTier"], order["CurrencyCode"], order["Terms"]) == (
        "SHOW-2024-001", "Wholesale", "USD", "Net30")
    assert order["PrimarySalesRep"] == {"RepNumber": "REP-007", "FirstName": "Marcus", "LastName": "Chen",
                                        "Email": tenant.rep.email, "PhoneNumber": "+1-555-0188"}
    assert order["TakenBySalesRep"]["RepNumber"] == "REP-012" and order["TakenBySalesRep"]["FirstName"] == "Priya"
    item = order["Items"][0]
    assert item == {"Sku": "WDG-100-BLU", "ProductName": "Widget Blue", "Quantity": 48, "Price": 18.50,
                    "CatalogPrice": 17.25, "LineTotal": 888.00}
    assert order["Subtotal"] == 888.00
    assert order["Customer"]["CustomerNumber"] == "CUST-0042"
    assert order["Customer"]["CompanyName"] == "Acme Wholesale Ltd."  # the stored customer, not the body's
    assert order["PlacedBy"] == {"Name": tenant.admin.user.email, "Role": "Admin"}
    assert order["CreatedAt"]
    assert b'"LineTotal":888.00' in response.content  # money keeps its two decimals on the wire
    assert tenant.admin_api.get(f"/api/orders/{order['OrderId']}").json() == order


def test_rep_places_for_its_customer_and_is_recorded_as_taker(tenant, catalog):
    response = tenant.rep_api.post("/api/orders", order_body(quantity=2), format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["OrderType"] == "Assisted"
    assert order["PrimarySalesRep"]["RepNumber"] == "REP-007"
    assert order["TakenBySalesRep"]["RepNumber"] == "REP-007"
    assert order["Items"][0]["Price"] == 18.50  # catalog price by default
    assert order["PriceTier"] == "Wholesale" and order["Terms"] == "Net30"  # the customer's defaults


def test_colleague_at_the_booth_is_recorded_as_taker(tenant, catalog):
    body = order_body(TakenBySalesRep={"RepNumber": "REP-012"})
    order = tenant.rep_api.post("/api/orders", body, format="json").json()
    assert (order["PrimarySalesRep"]["RepNumber"], order["TakenBySalesRep"]["RepNumber"]) == ("REP-007", "REP-012")


def test_rep_orders_only_for_its_own_customers_and_keeps_their_commission_attribution(tenant, catalog):
    foreign = tenant.rep_api.post("/api/orders", order_body(customer="CUST-0099"), format="json")
    assert foreign.status_code == 400 and "Customer.CustomerNumber" in foreign.json()["errors"]
    redirect = tenant.rep_api.post("/api/orders", order_body(PrimarySalesRep={"RepNumber": "REP-012"}), format="json")
    assert redirect.status_code == 400 and "PrimarySalesRep.RepNumber" in redirect.json()["errors"]
    assert Order.objects.count() == 0


def test_admin_may_name_any_primary_rep(tenant, catalog):
    body = order_body(PrimarySalesRep={"RepNumber": "REP-012"})
    assert tenant.admin_api.post("/api/orders", body, format="json").json()["PrimarySalesRep"]["RepNumber"] == "REP-012"
    unknown = tenant.admin_api.post("/api/orders", order_body(PrimarySalesRep={"RepNumber": "REP-404"}), format="json")
    assert unknown.status_code == 400 and "PrimarySalesRep.RepNumber" in unknown.json()["errors"]


def test_portal_user_orders_for_itself_as_standard_at_catalog_prices(tenant, catalog):
    api = tenant.portal_api
    order = api.post("/api/orders", order_body(quantity=3), format="json")
    assert order.status_code == 201, order.json()
    assert (order.json()["OrderType"], order.json()["Channel"]) == ("Standard", "Portal")
    assert order.json()["PlacedBy"]["Role"] == "Customer"
    same_price = order_body(quantity=1)
    same_price["Items"][0]["Price"] = 18.50
    assert api.post("/api/orders", same_price, format="json").status_code == 201
    cases = [
        (order_body(Items=[{"Sku": "WDG-100-BLU", "Quantity": 1, "Price": 1.00}]), "Items[0].Price"),
        (order_body(OrderType="Assisted"), "OrderType"),
        (order_body(customer="CUST-0099"), "Customer.CustomerNumber"),
        (order_body(PriceTier="Retail"), "PriceTier"),
        (order_body(TakenBySalesRep={"RepNumber": "REP-007"}), "TakenBySalesRep"),
    ]
    for body, field in cases:
        response = api.post("/api/orders", body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], (field, response.json())
    assert Order.objects.count() == 2


def test_rep_or_admin_price_override_keeps_the_catalog_price_beside_it(tenant, catalog):
    body = order_body(Items=[{"Sku": "WDG-100-BLU", "Quantity": 2, "Price": "15.00"}])
    item = tenant.rep_api.post("/api/orders", body, format="json").json()["Items"][0]
    assert (item["Price"], item["CatalogPrice"], item["LineTotal"]) == (15.00, 18.50, 30.00)


def test_quantity_breaks_pick_the_largest_break_at_or_below_the_quantity(tenant, catalog):
    prices = [tenant.admin_api.post("/api/orders", order_body(quantity=q), format="json").json()["Items"][0]["Price"]
              for q in (47, 48, 500)]
    assert prices == [18.50, 17.25, 17.25]


@pytest.mark.parametrize(
    "item, field",
    [
        ({"Sku": "NOPE", "Quantity": 1}, "Items[0].Sku"),
        ({"Sku": "OLD-1", "Quantity": 1}, "Items[0].Sku"),  # inactive product
        ({"Sku": "RTL-1", "Quantity": 1}, "Items[0].Sku"),  # not priced in the customer's tier
        ({"Sku": "WDG-100-BLU", "Quantity": 0}, "Items[0].Quantity"),
        ({"Sku": "WDG-100-BLU", "Quantity": -3}, "Items[0].Quantity"),
        ({"Sku": "WDG-100-BLU", "Quantity": 1.5}, "Items[0].Quantity"),
        ({"Sku": "WDG-100-BLU", "Quantity": "many"}, "Items[0].Quantity"),
        ({"Sku": "WDG-100-BLU", "Quantity": 10**12}, "Items[0].Quantity"),
        ({"Sku": "BLT-7", "Quantity": 5}, "Items[0].Quantity"),  # below the minimum of 10
        ({"Sku": "BLT-7", "Quantity": 12}, "Items[0].Quantity"),  # not a multiple of 5
        ({"Sku": "WDG-100-BLU", "Quantity": 1, "Price": -1}, "Items[0].Price"),
        ({"Sku": "WDG-100-BLU", "Quantity": 1, "Price": 1e20}, "Items[0].Price"),
        ({"Sku": "WDG-100-BLU", "Quantity": 1, "Price": "1.005"}, "Items[0].Price"),
        ({"Sku": "WDG-100-BLU", "Quantity": 1, "Colour": "red"}, "Items[0].Colour"),
    ],
)
def test_bad_items_are_400_naming_the_field_and_leave_nothing(tenant, catalog, item, field):
    body = {"Customer": {"CustomerNumber": "CUST-0042"}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}, item]}
    body["Items"] = [item]
    response = tenant.admin_api.post("/api/orders", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Order.objects.count() == OrderItem.objects.count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}, "Customer"),
        ({"Customer": {"CustomerNumber": "CUST-0042"}, "Items": []}, "Items"),
        ({"Customer": {"CustomerNumber": "CUST-0042"}}, "Items"),
        ({"Customer": "CUST-0042", "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}, "Customer"),
        (order_body(Channel="Fax"), "Channel"),
        (order_body(CurrencyCode="EUR"), "Items[0].Sku"),  # no EUR price
        (order_body(CurrencyCode="ZZZ"), "CurrencyCode"),
        (order_body(PriceTier="Platinum"), "PriceTier"),
        (order_body(Terms="Someday"), "Terms"),
        (order_body(Unknown=1), "Unknown"),
    ],
)
def test_bad_orders_are_400_naming_the_field(tenant, catalog, body, field):
    response = tenant.admin_api.post("/api/orders", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert Order.objects.count() == 0


def test_a_failed_order_gives_its_number_back(tenant, catalog):
    bad = {"Customer": {"CustomerNumber": "CUST-0042"},
           "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}, {"Sku": "NOPE", "Quantity": 1}]}
    assert tenant.admin_api.post("/api/orders", bad, format="json").status_code == 400
    assert tenant.admin_api.post("/api/orders", order_body(), format="json").json()["OrderNumber"] == "ORD-00001"


def test_inactive_customer_cannot_order(tenant, catalog):
    customer_set_active(customer=tenant.customer, active=False)
    response = tenant.admin_api.post("/api/orders", order_body(), format="json")
    assert response.status_code == 400 and "Customer.CustomerNumber" in response.json()["errors"]


def test_customer_without_terms_needs_terms_on_the_order(tenant, catalog):
    customer_update(customer=tenant.customer, terms="")
    response = tenant.admin_api.post("/api/orders", order_body(), format="json")
    assert response.status_code == 400 and "Terms" in response.json()["errors"]
    assert tenant.admin_api.post("/api/orders", order_body(Terms="COD"), format="json").json()["Terms"] == "COD"


def test_order_numbers_count_per_organization(tenant, other_tenant, catalog):
    add_product(other_tenant.org, "WDG-100-BLU", "Their widget", [("Wholesale", 1, "1.00")])
    numbers = [tenant.admin_api.post("/api/orders", order_body(), format="json").json()["OrderNumber"] for _ in range(2)]
    theirs = other_tenant.admin_api.post("/api/orders", order_body(), format="json").json()["OrderNumber"]
    assert numbers == ["ORD-00001", "ORD-00002"] and theirs == "ORD-00001"


def test_repeated_post_with_the_same_idempotency_key_returns_the_first_order(tenant, catalog):
    api = tenant.rep_api
    first = api.post("/api/orders", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/orders", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["OrderId"] == again.json()["OrderId"]
    lower_keys = {"customer": {"customerNumber": "CUST-0042"}, "items": [{"sku": "WDG-100-BLU", "quantity": 1}]}
    assert api.post("/api/orders", lower_keys, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 200
    different = api.post("/api/orders", order_body(quantity=2), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert different.status_code == 409
    assert Order.objects.count() == 1


def test_external_id_makes_a_repeat_harmless_too(tenant, catalog):
    body = order_body(ExternalId="erp-77")
    first = tenant.admin_api.post("/api/orders", body, format="json").json()
    assert tenant.admin_api.post("/api/orders", body, format="json").json()["OrderId"] == first["OrderId"]
    assert tenant.admin_api.post("/api/orders", order_body(quantity=5, ExternalId="erp-77"), format="json").status_code == 409


@pytest.mark.django_db(transaction=True)
def test_eight_racing_identical_posts_create_one_order(tenant, catalog, postgres_only):
    token_client = tenant.rep_api
    barrier = threading.Barrier(8)

    def post(_):
        barrier.wait()
        try:
            return token_client.post("/api/orders", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["OrderId"] for r in responses}) == 1
    assert Order.objects.count() == 1
    assert OrganizationSequence.objects.get(organization=tenant.org, name="ORD").last_value == 1


@pytest.mark.django_db(transaction=True)
def test_racing_orders_get_distinct_consecutive_numbers(tenant, catalog, postgres_only):
    api = tenant.admin_api
    barrier = threading.Barrier(8)

    def post(n):
        barrier.wait()
        try:
            return api.post("/api/orders", order_body(quantity=n + 1), format="json").json()["OrderNumber"]
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(post, range(8)))
    assert sorted(numbers) == [f"ORD-{n:05d}" for n in range(1, 9)]


@pytest.mark.parametrize("lines", [1, 100])
def test_placing_an_order_runs_the_same_queries_for_1_or_100_lines(tenant, catalog, lines, django_assert_max_num_queries):
    for n in range(lines):
        add_product(tenant.org, f"BULK-{n:03d}", f"Bulk {n}", [("Wholesale", 1, "2.00")])
    body = {"Customer": {"CustomerNumber": "CUST-0042"},
            "Items": [{"Sku": f"BULK-{n:03d}", "Quantity": 1} for n in range(lines)]}
    api = tenant.rep_api
    with django_assert_max_num_queries(24):
        response = api.post("/api/orders", body, format="json")
    assert response.status_code == 201 and len(response.json()["Items"]) == lines


def test_cancel_before_invoicing_only(tenant, catalog):
    order = tenant.rep_api.post("/api/orders", order_body(), format="json").json()
    cancelled = tenant.rep_api.post(f"/api/orders/{order['OrderId']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["Status"] == "Cancelled"
    assert tenant.rep_api.post(f"/api/orders/{order['OrderId']}/cancel").status_code == 409
    invoiced = tenant.admin_api.post("/api/orders", order_body(), format="json").json()
    assert tenant.admin_api.post(f"/api/orders/{invoiced['OrderId']}/invoice").status_code == 201
    assert tenant.admin_api.post(f"/api/orders/{invoiced['OrderId']}/cancel").status_code == 409
    assert tenant.admin_api.post(f"/api/orders/{order['OrderId']}/invoice").status_code == 409  # cancelled


def test_admins_move_status_forward_only(tenant, catalog):
    order = tenant.admin_api.post("/api/orders", order_body(), format="json").json()
    path = f"/api/orders/{order['OrderId']}"
    assert tenant.admin_api.patch(path, {"Status": "Shipped"}, format="json").json()["Status"] == "Shipped"
    assert tenant.admin_api.patch(path, {"Status": "Processing"}, format="json").status_code == 409
    assert tenant.admin_api.patch(path, {"Status": "Lost"}, format="json").status_code == 400
    assert tenant.rep_api.patch(path, {"Status": "Complete"}, format="json").status_code == 403
    assert tenant.admin_api.patch(path, {"Status": "Complete"}, format="json").json()["Status"] == "Complete"


def test_list_filters(tenant, catalog):
    tenant.rep_api.post("/api/orders", order_body(Channel="Phone"), format="json")
    tenant.admin_api.post("/api/orders", order_body(customer="CUST-0099", Channel="TradeShow"), format="json")
    api = tenant.admin_api

    def numbers(**params):
        return sorted(o["OrderNumber"] for o in api.get("/api/orders", params).json()["Data"])

    assert numbers() == ["ORD-00001", "ORD-00002"]
    assert numbers(customerNumber="CUST-0099") == ["ORD-00002"]
    assert numbers(repNumber="REP-007") == ["ORD-00001"]
    assert numbers(channel="Phone") == ["ORD-00001"]
    assert numbers(orderType="Assisted", status="Pending") == ["ORD-00001", "ORD-00002"]
    assert numbers(dateFrom="2000-01-01", dateTo="2999-12-31") == ["ORD-00001", "ORD-00002"]
    assert numbers(dateTo="2000-01-01") == []
    assert api.get("/api/orders", {"status": "Lost"}).status_code == 400
    assert api.get("/api/orders", {"dateFrom": "yesterday"}).status_code == 400
    nested = api.get("/api/customers/CUST-0042/orders").json()
    assert [o["OrderNumber"] for o in nested["Data"]] == ["ORD-00001"]


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Tokyo"])
@pytest.mark.parametrize("path", ["/api/orders", "/api/invoices"])
def test_date_filters_at_the_ends_of_the_calendar(tenant, catalog, zone, path):
    """Found by the schema fuzzer: `?dateTo=9999-12-31` was a 500 (no day after it), and so was
    `?dateFrom=0001-01-01` in a time zone east of UTC (its first moment is before year 1 in UTC)."""
    tenant.org.time_zone = zone
    tenant.org.save(update_fields=["time_zone"])
    placed = tenant.admin_api.post("/api/orders", order_body(), format="json").json()
    tenant.admin_api.post(f"/api/orders/{placed['OrderId']}/invoice")
    everything = tenant.admin_api.get(path).json()["Data"]
    assert len(everything) == 1
    for params in ({"dateTo": "9999-12-31"}, {"dateFrom": "0001-01-01"}, {"dateFrom": "0001-01-01", "dateTo": "9999-12-31"}):
        response = tenant.admin_api.get(path, params)
        assert response.status_code == 200 and response.json()["Data"] == everything, params
    assert tenant.admin_api.get(path, {"dateFrom": "9999-12-31"}).json()["Data"] == []
    assert tenant.admin_api.get(path, {"dateTo": "0001-01-01"}).json()["Data"] == []


@pytest.mark.parametrize("price, quantity", [("0.10", 3), ("2.49", 5), ("0.07", 3), ("19.99", 7)])
def test_totals_check_to_the_cent_on_every_backend(tenant, price, quantity):
    """Regression: on SQLite (the embedded default) the exact-total CHECK compared floats, so
    3 × 0.10 was refused as a conflict."""
    add_product(tenant.org, "CENTS", "Cents", [("Wholesale", 1, price)])
    response = tenant.admin_api.post("/api/orders", order_body(sku="CENTS", quantity=quantity), format="json")
    assert response.status_code == 201, response.json()
    invoice = tenant.admin_api.post(f"/api/orders/{response.json()['OrderId']}/invoice").json()
    from decimal import Decimal
    assert Decimal(str(invoice["Total"])) == Decimal(price) * quantity
