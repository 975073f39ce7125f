"""The catalog through the API (§4 "Products"): writes, upsert, bad input, price resolution
per caller, quantity breaks, search, sorting, filters and constant query counts."""
import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from nymble.models import PriceTier
from nymble.tests.factories import tier
from orders.catalog.services import displayed_price
from orders.models import Product, ProductPrice
from orders.catalog.pricing import price_at
from orders.tests.factories import ProductFactory, price

pytestmark = pytest.mark.django_db

WIDGET = {
    "Sku": "WDG-100-BLU",
    "Name": "Widget Blue",
    "Description": "A blue widget, boxed.",
    "Category": "Widgets",
    "UPC": "012345678905",
    "Active": True,
    "MinimumOrderQuantity": 1,
    "QuantityIncrement": 1,
    "ExternalId": "erp_prod_100",
    "Prices": [
        {"PriceTier": "Wholesale", "Price": Decimal("18.50"), "CurrencyCode": "USD", "AtQuantity": 1},
        {"PriceTier": "Wholesale", "Price": Decimal("17.25"), "CurrencyCode": "USD", "AtQuantity": 48},
        {"PriceTier": "Retail", "Price": Decimal("24.99"), "CurrencyCode": "USD", "AtQuantity": 1},
    ],
}


def snapshot():
    products = [
        (p.organization_id, p.sku, p.name, p.description, p.category, p.upc, p.active, p.minimum_order_quantity,
         p.quantity_increment, p.external_id, p.updated_at)
        for p in Product.objects.order_by("organization_id", "sku")
    ]
    prices = sorted(
        ProductPrice.objects.values_list("product__sku", "price_tier__code", "currency_code", "at_quantity", "price")
    )
    return products, prices


def skus(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [p["Sku"] for p in response.json()["Data"]]


def tiers_of(product: dict) -> list[tuple]:
    return [(p["PriceTier"], p["CurrencyCode"], p["AtQuantity"], p["Price"]) for p in product["Prices"]]


# --- quantity breaks (orders.catalog.pricing) -------------------------------------------------------

BREAKS = [(5, Decimal("10.00")), (10, Decimal("9.00")), (100, Decimal("8.00"))]


@pytest.mark.parametrize(
    "quantity, expected",
    [(1, None), (4, None), (5, Decimal("10.00")), (7, Decimal("10.00")), (9, Decimal("10.00")),
     (10, Decimal("9.00")), (99, Decimal("9.00")), (100, Decimal("8.00")), (10_000, Decimal("8.00"))],
    ids=["far-below-first", "just-below-first", "at-first", "between-1", "just-below-second", "at-second",
         "between-2", "at-last", "above-last"],
)
def test_price_at_pays_the_largest_break_at_or_below_the_quantity(quantity, expected):
    assert price_at(BREAKS, quantity) == expected


def test_price_at_without_breaks_is_none():
    assert price_at([], 1) is None


@pytest.mark.parametrize(
    "breaks, moq, expected",
    [
        ([(1, Decimal("5.00")), (10, Decimal("4.00"))], 10, Decimal("5.00")),  # quantity 1 has a price: that one
        ([(10, Decimal("4.00")), (50, Decimal("3.00"))], 60, Decimal("3.00")),  # first break above 1: at the MOQ
        ([(10, Decimal("4.00")), (50, Decimal("3.00"))], 1, Decimal("4.00")),  # MOQ below the first break: first break
        ([(1, Decimal("0.00"))], 1, Decimal("0.00")),  # a free item is priced, not unpriced
        ([], 1, None),
    ],
)
def test_displayed_price(breaks, moq, expected):
    assert displayed_price(breaks, moq) == expected


# --- writes ---------------------------------------------------------------------------------


def test_admin_creates_a_product_and_gets_it_back_as_stored(tenant):
    response = tenant.admin_api.post("/api/products", WIDGET, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    for key in ("Sku", "Name", "Description", "Category", "UPC", "Active", "MinimumOrderQuantity",
                "QuantityIncrement", "ExternalId"):
        assert body[key] == WIDGET[key], key
    assert tiers_of(body) == [("Retail", "USD", 1, 24.99), ("Wholesale", "USD", 1, 18.5), ("Wholesale", "USD", 48, 17.25)]
    assert body["ProductId"] and body["CreatedAt"] and body["UpdatedAt"]
    assert "Price" not in body and "CurrencyCode" not in body  # an admin sees tiers, not a resolved price
    assert b'"Price":18.50' in response.content  # money is written with its two decimals
    assert tenant.admin_api.get("/api/products/WDG-100-BLU").json() == body


def test_defaults(tenant):
    body = {"Sku": "MIN-1", "Name": "Minimal", "Prices": [{"PriceTier": "Retail", "Price": 3}]}
    created = tenant.admin_api.post("/api/products", body, format="json").json()
    assert (created["Active"], created["MinimumOrderQuantity"], created["QuantityIncrement"]) == (True, 1, 1)
    assert (created["Description"], created["Category"], created["UPC"], created["ExternalId"]) == ("", "", "", None)
    assert tiers_of(created) == [("Retail", "USD", 1, 3.0)]  # the organization's currency, from one unit


def test_keys_are_matched_case_insensitively(tenant):
    body = {"sku": "LOW-1", "NAME": "Lower", "prices": [{"pricetier": "Retail", "PRICE": "2.50", "atQuantity": 3}]}
    response = tenant.admin_api.post("/api/products", body, format="json")
    assert response.status_code == 201, response.json()
    assert tiers_of(response.json()) == [("Retail", "USD", 3, 2.5)]


def test_a_fetched_product_can_be_sent_back_as_it_is(tenant):
    body = tenant.admin_api.post("/api/products", WIDGET, format="json").json()
    again = tenant.admin_api.patch("/api/products/WDG-100-BLU", body, format="json")
    assert again.status_code == 200, again.json()
    assert tiers_of(again.json()) == tiers_of(body)
    assert tenant.admin_api.put("/api/products", body, format="json").status_code == 200


def test_patch_changes_given_fields_and_given_prices_replace_the_stored_ones(tenant):
    tenant.admin_api.post("/api/products", WIDGET, format="json")
    response = tenant.admin_api.patch(
        "/api/products/WDG-100-BLU",
        {"Name": "Widget Navy", "Prices": [{"PriceTier": "Wholesale", "Price": "19.00"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["Name"] == "Widget Navy" and body["Category"] == "Widgets"
    assert tiers_of(body) == [("Wholesale", "USD", 1, 19.0)]
    kept = tenant.admin_api.patch("/api/products/WDG-100-BLU", {"Category": "Blue things"}, format="json").json()
    assert tiers_of(kept) == [("Wholesale", "USD", 1, 19.0)]  # prices left out are kept
    cleared = tenant.admin_api.patch("/api/products/WDG-100-BLU", {"Prices": []}, format="json").json()
    assert cleared["Prices"] == []


def test_put_upserts_by_sku_201_then_200_replacing(tenant):
    created = tenant.admin_api.put("/api/products", WIDGET, format="json")
    assert created.status_code == 201, created.json()
    tenant.admin_api.patch("/api/products/WDG-100-BLU", {"Active": False}, format="json")
    replacement = {"Sku": "WDG-100-BLU", "Name": "Widget Blue v2",
                   "Prices": [{"PriceTier": "Retail", "Price": "25.00", "AtQuantity": 1}]}
    replaced = tenant.admin_api.put("/api/products", replacement, format="json")
    assert replaced.status_code == 200, replaced.json()
    body = replaced.json()
    assert body["ProductId"] == created.json()["ProductId"]
    assert body["Name"] == "Widget Blue v2"
    assert (body["Description"], body["Category"], body["UPC"], body["ExternalId"]) == ("", "", "", None)  # reset
    assert body["Active"] is False  # Active left out keeps its state
    assert tiers_of(body) == [("Retail", "USD", 1, 25.0)]
    no_prices = tenant.admin_api.put("/api/products", {"Sku": "WDG-100-BLU", "Name": "v3"}, format="json").json()
    assert tiers_of(no_prices) == [("Retail", "USD", 1, 25.0)]  # Prices left out are kept
    assert Product.objects.filter(organization=tenant.org, sku="WDG-100-BLU").count() == 1


def test_duplicate_sku_is_409_naming_it_and_changes_nothing(tenant):
    tenant.admin_api.post("/api/products", WIDGET, format="json")
    before = snapshot()
    response = tenant.admin_api.post("/api/products", {**WIDGET, "ExternalId": None, "Name": "Other"}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "Sku" in response.json()["errors"]
    ProductFactory(organization=tenant.org, sku="OTHER-1")
    before = snapshot()
    renamed = tenant.admin_api.patch("/api/products/OTHER-1", {"Sku": "WDG-100-BLU"}, format="json")
    assert renamed.status_code == 409 and "Sku" in renamed.json()["errors"]
    assert snapshot() == before


def test_external_id_is_unique_within_the_organization(tenant, other_tenant):
    tenant.admin_api.post("/api/products", WIDGET, format="json")
    before = snapshot()
    other = {**WIDGET, "Sku": "WDG-200"}
    for method in ("post", "put"):
        response = getattr(tenant.admin_api, method)("/api/products", other, format="json")
        assert response.status_code == 409 and "ExternalId" in response.json()["errors"], method
    ProductFactory(organization=tenant.org, sku="WDG-300")
    before = snapshot()
    response = tenant.admin_api.patch("/api/products/WDG-300", {"ExternalId": "erp_prod_100"}, format="json")
    assert response.status_code == 409 and "ExternalId" in response.json()["errors"]
    assert snapshot() == before
    # Another organization may use the same SKU and ExternalId, and an empty ExternalId is none.
    assert other_tenant.admin_api.post("/api/products", WIDGET, format="json").status_code == 201
    assert tenant.admin_api.patch("/api/products/WDG-300", {"ExternalId": ""}, format="json").json()["ExternalId"] is None


def _bad_price(**overrides):
    return {"Prices": [{"PriceTier": "Wholesale", "Price": "1.00", **overrides}]}


BAD_INPUT = [
    ({"Colour": "blue"}, "Colour"),
    ({"Prices": [{"PriceTier": "Wholesale", "Price": "1.00", "Discount": 5}]}, "Prices[0].Discount"),
    (_bad_price(Price="-0.01"), "Prices[0].Price"),
    (_bad_price(Price="1.005"), "Prices[0].Price"),
    (_bad_price(Price=Decimal("1E+20")), "Prices[0].Price"),
    (_bad_price(Price="lots"), "Prices[0].Price"),
    (_bad_price(Price=True), "Prices[0].Price"),
    (_bad_price(Price=None), "Prices[0].Price"),
    (_bad_price(AtQuantity=0), "Prices[0].AtQuantity"),
    (_bad_price(AtQuantity=-3), "Prices[0].AtQuantity"),
    (_bad_price(AtQuantity=Decimal("1.5")), "Prices[0].AtQuantity"),
    (_bad_price(AtQuantity=10**30), "Prices[0].AtQuantity"),
    (_bad_price(PriceTier="Platinum"), "Prices[0].PriceTier"),
    (_bad_price(PriceTier=7), "Prices[0].PriceTier"),
    (_bad_price(CurrencyCode="XYZ"), "Prices[0].CurrencyCode"),
    (_bad_price(CurrencyCode="DOLLARS"), "Prices[0].CurrencyCode"),
    ({"Prices": [{"Price": "1.00"}]}, "Prices[0].PriceTier"),
    ({"Prices": [{"PriceTier": "Wholesale"}]}, "Prices[0].Price"),
    ({"Prices": [{"PriceTier": "Wholesale", "Price": "1.00"}, {"PriceTier": "Wholesale", "Price": "2.00", "CurrencyCode": "usd"}]},
     "Prices[1].AtQuantity"),
    ({"Prices": [{"PriceTier": "Retail", "Price": "1.00", "AtQuantity": 5},
                 {"PriceTier": "Wholesale", "Price": "1.00", "AtQuantity": 5},
                 {"PriceTier": "Retail", "Price": "0.90", "AtQuantity": 5}]}, "Prices[2].AtQuantity"),
    ({"Prices": {"PriceTier": "Wholesale"}}, "Prices"),
    ({"Prices": ["Wholesale"]}, "Prices[0]"),
    ({"Prices": None}, "Prices"),
    ({"MinimumOrderQuantity": 0}, "MinimumOrderQuantity"),
    ({"MinimumOrderQuantity": "ten"}, "MinimumOrderQuantity"),
    ({"MinimumOrderQuantity": 10**12}, "MinimumOrderQuantity"),
    ({"QuantityIncrement": -1}, "QuantityIncrement"),
    ({"Name": ""}, "Name"),
    ({"Name": ["Widget"]}, "Name"),
    ({"Name": "x" * 201}, "Name"),
    ({"Sku": "A/B"}, "Sku"),
    ({"Sku": "x" * 65}, "Sku"),
    ({"Active": "perhaps"}, "Active"),
    ({"UPC": "1" * 33}, "UPC"),
    # found by the schema fuzzer:
    ({"ExternalId": 0}, "ExternalId"),  # was stored as "0"
    ({"Active": 0}, "Active"),  # was taken as false
    ({"Sku": "T\u000b"}, "Sku"),  # was trimmed to "T", though the pattern refuses whitespace at either end
]


@pytest.mark.parametrize("body, field", BAD_INPUT, ids=[field + ":" + repr(body)[:40] for body, field in BAD_INPUT])
@pytest.mark.parametrize("method", ["patch", "post", "put"])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(tenant, body, field, method):
    ProductFactory(organization=tenant.org, sku="WDG-1")
    before = snapshot()
    if method == "patch":
        response = tenant.admin_api.patch("/api/products/WDG-1", body, format="json")
    else:  # a whole product, new (POST) or replacing WDG-1 (PUT), with the bad part in it
        whole = {"Sku": "WDG-1" if method == "put" else "NEW-1", "Name": "Whole", **body}
        response = getattr(tenant.admin_api, method)("/api/products", whole, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert snapshot() == before


def test_price_and_currency_code_are_not_promised_outside_a_customers_view(tenant):
    """Found by the schema fuzzer: the schema required `Price` and `CurrencyCode` on every product,
    but only a customer's view has them."""
    product = APIClient().get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]["Product"]
    assert {"Price", "CurrencyCode"} <= set(product["properties"])
    assert not {"Price", "CurrencyCode"} & set(product["required"])
    assert {"ProductId", "Sku", "Name"} <= set(product["required"])


@pytest.mark.parametrize("missing", ["Sku", "Name"])
def test_required_fields(tenant, missing):
    body = {k: v for k, v in WIDGET.items() if k != missing}
    for method in ("post", "put"):
        response = getattr(tenant.admin_api, method)("/api/products", body, format="json")
        assert response.status_code == 400 and missing in response.json()["errors"], method
    assert not Product.objects.exists()


@pytest.mark.parametrize("raw", [b"{not json", b'{"Sku": "N-1", "Name": "N", "Prices": [{"PriceTier": "Retail", "Price": NaN}]}',
                                 b"[1, 2]", b'"text"'])
def test_malformed_bodies_are_400(tenant, raw):
    response = tenant.admin_api.generic("POST", "/api/products", raw, content_type="application/json")
    assert response.status_code == 400
    assert not Product.objects.exists()


def test_another_organizations_tier_is_unknown_here(tenant, other_tenant):
    other_tenant.admin_api.post(f"/api/organizations/{other_tenant.org.id}/pricetiers",
                                {"Code": "Platinum", "Name": "P"}, format="json")
    response = tenant.admin_api.post("/api/products", {"Sku": "N-1", "Name": "N", **_bad_price(PriceTier="Platinum")},
                                     format="json")
    assert response.status_code == 400 and "Prices[0].PriceTier" in response.json()["errors"]


def test_services_check_rows_from_any_door(tenant, other_tenant):
    """The admin and the tests call orders.catalog.services directly: the same rules hold there."""
    from rest_framework.exceptions import ValidationError

    from orders.catalog.services import product_create

    foreign_tier = tier(other_tenant.org, "Wholesale")
    cases = [
        ({"price_tier": foreign_tier, "price": Decimal("1.00")}, "Prices[0].PriceTier"),
        ({"price_tier": "Wholesale", "price": Decimal("1.001")}, "Prices[0].Price"),
        ({"price_tier": "Wholesale", "price": 1.5}, "Prices[0].Price"),  # never a float
        ({"price_tier": "Wholesale", "price": Decimal("1"), "at_quantity": 0}, "Prices[0].AtQuantity"),
        ({"price_tier": "Wholesale", "price": Decimal("1"), "currency_code": "ABC"}, "Prices[0].CurrencyCode"),
    ]
    for row, field in cases:
        with pytest.raises(ValidationError) as raised:
            product_create(organization=tenant.org, sku="S-1", name="S", prices=[row])
        assert field in raised.value.detail, row
    with pytest.raises(ValidationError) as raised:
        product_create(organization=tenant.org, sku="S-1", name="S", minimum_order_quantity=0)
    assert "MinimumOrderQuantity" in raised.value.detail
    assert not Product.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_racing_first_upserts_of_one_sku_end_as_one_create_and_one_replace(postgres_only):
    from conftest import make_tenant

    tenant = make_tenant("Race Corp", "RACE")
    token_client = tenant.admin_api
    statuses = []
    barrier = threading.Barrier(6)

    def upsert(n):
        try:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=token_client._credentials["HTTP_AUTHORIZATION"])
            barrier.wait()
            body = {"Sku": "RACE-1", "Name": f"Racer {n}", "Prices": [{"PriceTier": "Retail", "Price": n}]}
            statuses.append(api.put("/api/products", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upsert, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [201]
    product = Product.objects.get(organization=tenant.org, sku="RACE-1")
    assert product.prices.count() == 1


# --- price resolution per caller ------------------------------------------------------------


@pytest.fixture
def shelf(tenant):
    """CUST-0042 (REP-007's, portal user) and CUST-0099 (REP-012's) buy at Wholesale in USD."""
    org = tenant.org
    ProductFactory(organization=org, sku="A-WIDGET", name="Widget", category="Widgets", upc="111",
                   prices=[price("Wholesale", "18.50"), price("Wholesale", "17.25", 48), price("Retail", "24.99"),
                           price("Wholesale", "16.00", 1, "EUR")])
    ProductFactory(organization=org, sku="B-RETAIL", name="Retail only", prices=[price("Retail", "9.99")])
    ProductFactory(organization=org, sku="C-EURO", name="Euro only", prices=[price("Wholesale", "7.00", 1, "EUR")])
    ProductFactory(organization=org, sku="D-RETIRED", name="Retired", active=False, prices=[price("Wholesale", "1.00")])
    ProductFactory(organization=org, sku="E-CASE", name="Case of bolts", minimum_order_quantity=12, quantity_increment=12,
                   prices=[price("Wholesale", "3.00", 12), price("Wholesale", "2.50", 120)])
    ProductFactory(organization=org, sku="F-BULK", name="Bulk only", prices=[price("Wholesale", "0.40", 100)])
    ProductFactory(organization=org, sku="G-FREE", name="Free sample", prices=[price("Wholesale", "0.00")])
    ProductFactory(organization=org, sku="H-NONE", name="Not priced yet", prices=[])
    return org


PORTAL_SKUS = ["A-WIDGET", "E-CASE", "F-BULK", "G-FREE"]


def test_portal_user_sees_its_tier_at_quantity_one_with_its_breaks(tenant, shelf):
    response = tenant.portal_api.get("/api/products")
    assert skus(response) == PORTAL_SKUS
    assert response.json()["TotalRecords"] == 4  # counted in SQL, unpriced ones excluded
    data = {p["Sku"]: p for p in response.json()["Data"]}
    widget = data["A-WIDGET"]
    assert (widget["Price"], widget["CurrencyCode"]) == (18.5, "USD")
    assert tiers_of(widget) == [("Wholesale", "USD", 1, 18.5), ("Wholesale", "USD", 48, 17.25)]
    assert b'"Price":18.50,"CurrencyCode":"USD"' in response.content
    assert data["E-CASE"]["Price"] == 3.0  # first break above 1: the price at the MinimumOrderQuantity
    assert data["F-BULK"]["Price"] == 0.4  # first break above the MOQ too: the first break's price
    assert data["G-FREE"]["Price"] == 0.0


def test_portal_user_detail_follows_the_list(tenant, shelf):
    api = tenant.portal_api
    body = api.get("/api/products/A-WIDGET").json()
    assert (body["Price"], body["CurrencyCode"]) == (18.5, "USD")
    for sku in ("B-RETAIL", "C-EURO", "D-RETIRED", "H-NONE", "NOPE"):
        assert api.get(f"/api/products/{sku}").status_code == 404, sku


@pytest.mark.parametrize("params, field", [({"priceTier": "Retail"}, "priceTier"),
                                           ({"customerNumber": "CUST-0099"}, "customerNumber"),
                                           ({"customerNumber": "CUST-0042"}, "customerNumber"),
                                           ({"PRICETIER": "Wholesale"}, "priceTier")])
def test_portal_user_may_not_choose_its_prices(tenant, shelf, params, field):
    for path in ("/api/products", "/api/products/A-WIDGET"):
        response = tenant.portal_api.get(path, params)
        assert response.status_code == 400 and field in response.json()["errors"], path


def test_portal_prices_follow_the_account_not_a_stale_claim(tenant, shelf):
    api = tenant.portal_api  # a token issued while the account bought at Wholesale in USD
    tenant.admin_api.patch("/api/customers/CUST-0042", {"Pricing": "Retail"}, format="json")
    body = api.get("/api/products").json()
    assert [(p["Sku"], p["Price"]) for p in body["Data"]] == [("A-WIDGET", 24.99), ("B-RETAIL", 9.99)]
    tenant.admin_api.patch("/api/customers/CUST-0042", {"Pricing": "Wholesale", "CurrencyCode": "EUR"}, format="json")
    body = api.get("/api/products").json()
    assert [(p["Sku"], p["Price"], p["CurrencyCode"]) for p in body["Data"]] == [("A-WIDGET", 16.0, "EUR"),
                                                                                ("C-EURO", 7.0, "EUR")]
    assert tiers_of(body["Data"][0]) == [("Wholesale", "EUR", 1, 16.0)]


def test_rep_without_customer_number_sees_active_products_with_every_tier(tenant, shelf):
    response = tenant.rep_api.get("/api/products")
    assert skus(response) == ["A-WIDGET", "B-RETAIL", "C-EURO", "E-CASE", "F-BULK", "G-FREE", "H-NONE"]
    widget = response.json()["Data"][0]
    assert "Price" not in widget and "CurrencyCode" not in widget
    assert tiers_of(widget) == [("Retail", "USD", 1, 24.99), ("Wholesale", "EUR", 1, 16.0),
                                ("Wholesale", "USD", 1, 18.5), ("Wholesale", "USD", 48, 17.25)]
    retail = tenant.rep_api.get("/api/products", {"priceTier": "Retail"}).json()["Data"][0]
    assert tiers_of(retail) == [("Retail", "USD", 1, 24.99)]


def test_rep_with_its_customer_sees_exactly_what_that_customer_sees(tenant, shelf):
    portal = tenant.portal_api.get("/api/products").json()
    rep = tenant.rep_api.get("/api/products", {"customerNumber": "CUST-0042"})
    assert rep.status_code == 200
    assert rep.json() == portal
    detail = tenant.rep_api.get("/api/products/A-WIDGET", {"customerNumber": "CUST-0042"}).json()
    assert detail == tenant.portal_api.get("/api/products/A-WIDGET").json()
    assert tenant.rep_api.get("/api/products/B-RETAIL", {"customerNumber": "CUST-0042"}).status_code == 404
    assert tenant.rep_api.get("/api/products", {"customernumber": "CUST-0042"}).json() == portal  # any case


@pytest.mark.parametrize("number", ["CUST-0099", "NOPE", "GLOBEX-ONLY"])
def test_rep_with_a_customer_outside_its_scope_is_404(tenant, other_tenant, shelf, number):
    from customers.tests.factories import CustomerFactory

    CustomerFactory(organization=other_tenant.org, customer_number="GLOBEX-ONLY", sales_rep=other_tenant.rep)
    for path in ("/api/products", "/api/products/A-WIDGET"):
        assert tenant.rep_api.get(path, {"customerNumber": number}).status_code == 404, path


def test_other_rep_sees_its_own_customer_but_not_the_colleagues(tenant, shelf):
    assert tenant.other_rep_api.get("/api/products", {"customerNumber": "CUST-0099"}).status_code == 200
    assert tenant.other_rep_api.get("/api/products", {"customerNumber": "CUST-0042"}).status_code == 404


def test_admin_sees_every_product_and_tier_and_may_pick_a_tier(tenant, shelf):
    api = tenant.admin_api
    everything = api.get("/api/products")
    assert skus(everything) == ["A-WIDGET", "B-RETAIL", "C-EURO", "D-RETIRED", "E-CASE", "F-BULK", "G-FREE", "H-NONE"]
    assert len(everything.json()["Data"][0]["Prices"]) == 4
    retail = api.get("/api/products", {"priceTier": "Retail"}).json()["Data"]
    assert len(retail) == 8  # the admin's catalog stays whole; only the prices are narrowed
    assert {p["Sku"]: tiers_of(p) for p in retail if p["Prices"]} == {
        "A-WIDGET": [("Retail", "USD", 1, 24.99)], "B-RETAIL": [("Retail", "USD", 1, 9.99)]}
    # §4: one tier's view carries the top-level Price and CurrencyCode, in the organization's currency.
    assert {p["Sku"]: (p["Price"], p["CurrencyCode"]) for p in retail if p["Prices"]} == {
        "A-WIDGET": (24.99, "USD"), "B-RETAIL": (9.99, "USD")}
    assert {p["Price"] for p in retail if not p["Prices"]} == {None}
    wholesale = api.get("/api/products/A-WIDGET", {"priceTier": "Wholesale"}).json()
    assert (wholesale["Price"], wholesale["CurrencyCode"]) == (18.5, "USD")  # not the EUR price, not the break
    assert tiers_of(api.get("/api/products/A-WIDGET", {"priceTier": "Wholesale"}).json()) == [
        ("Wholesale", "EUR", 1, 16.0), ("Wholesale", "USD", 1, 18.5), ("Wholesale", "USD", 48, 17.25)]


def test_admin_may_view_the_catalog_as_a_customer(tenant, shelf):
    as_customer = tenant.admin_api.get("/api/products", {"customerNumber": "CUST-0099"})
    assert skus(as_customer) == PORTAL_SKUS
    assert as_customer.json()["Data"][0]["Price"] == 18.5
    both = tenant.admin_api.get("/api/products", {"customerNumber": "CUST-0099", "priceTier": "Retail"})
    assert both.status_code == 400 and "priceTier" in both.json()["errors"]


def test_unknown_tier_is_400_naming_price_tier(tenant, other_tenant, shelf):
    other_tenant.admin_api.post(f"/api/organizations/{other_tenant.org.id}/pricetiers",
                                {"Code": "Platinum", "Name": "P"}, format="json")
    for code in ("Nope", "Platinum", "retail"):
        response = tenant.admin_api.get("/api/products", {"priceTier": code})
        assert response.status_code == 400 and "priceTier" in response.json()["errors"], code
    assert PriceTier.objects.filter(code="Platinum").count() == 1


def test_inactive_products_are_hidden_from_reps_and_portal_but_not_admins(tenant, shelf):
    assert tenant.admin_api.get("/api/products/D-RETIRED").json()["Active"] is False
    assert tenant.rep_api.get("/api/products/D-RETIRED").status_code == 404
    assert tenant.portal_api.get("/api/products/D-RETIRED").status_code == 404
    tenant.admin_api.patch("/api/products/A-WIDGET", {"Active": False}, format="json")
    assert "A-WIDGET" not in skus(tenant.portal_api.get("/api/products"))
    assert "A-WIDGET" not in skus(tenant.rep_api.get("/api/products", {"customerNumber": "CUST-0042"}))
    assert "A-WIDGET" not in skus(tenant.admin_api.get("/api/products", {"customerNumber": "CUST-0042"}))
    assert "A-WIDGET" in skus(tenant.admin_api.get("/api/products"))


# --- search, sorting, filters ---------------------------------------------------------------


def test_search_matches_sku_name_description_and_upc_case_insensitively(tenant, shelf):
    ProductFactory(organization=tenant.org, sku="Z-DESC", name="Plain", description="Comes in a SPECIAL crate",
                   upc="0042424242")

    def found(term, api=tenant.admin_api):
        return skus(api.get("/api/products", {"search": term}))

    assert found("a-widget") == ["A-WIDGET"]  # SKU
    assert found("case OF") == ["E-CASE"]  # name, every word
    assert found("special") == ["Z-DESC"]  # description
    assert found("42424") == ["Z-DESC"]  # UPC
    assert found("widgets") == []  # category is a filter, not searched
    assert found("retired") == ["D-RETIRED"]
    assert found("retired", tenant.portal_api) == []  # search never widens scope
    assert found("retail", tenant.portal_api) == []


def test_sorting(tenant, shelf):
    api = tenant.admin_api
    assert skus(api.get("/api/products", {"sortOn": "Name"}))[:3] == ["F-BULK", "E-CASE", "C-EURO"]
    assert skus(api.get("/api/products", {"sortOn": "sku", "sortDirection": "desc"}))[0] == "H-NONE"
    assert skus(api.get("/api/products", {"sortOn": "Category", "sortDirection": "desc"}))[0] == "A-WIDGET"
    assert skus(api.get("/api/products", {"sortOn": "CreatedAt"}))[0] == "A-WIDGET"
    for params in ({"sortOn": "Price"}, {"sortDirection": "sideways"}):
        response = api.get("/api/products", params)
        assert response.status_code == 400 and list(params)[0] in response.json()["errors"]


def test_filters(tenant, shelf):
    api = tenant.admin_api
    assert skus(api.get("/api/products", {"active": "false"})) == ["D-RETIRED"]
    assert "D-RETIRED" not in skus(api.get("/api/products", {"active": "true"}))
    assert skus(api.get("/api/products", {"category": "widgets"})) == ["A-WIDGET"]
    assert api.get("/api/products", {"active": "maybe"}).status_code == 400
    assert skus(tenant.rep_api.get("/api/products", {"active": "false"})) == []  # never widens a rep's scope
    paged = api.get("/api/products", {"PageSize": 3, "PageNumber": 2}).json()
    assert (paged["TotalRecords"], paged["TotalPages"], [p["Sku"] for p in paged["Data"]]) == (
        8, 3, ["D-RETIRED", "E-CASE", "F-BULK"])
    assert api.get("/api/products", {"PageSize": 201}).status_code == 400


# --- constant query counts ------------------------------------------------------------------


@pytest.fixture
def big_shelf(tenant):
    for n in range(60):
        ProductFactory(organization=tenant.org, sku=f"BULK-{n:03d}",
                       prices=[price("Wholesale", "10.00"), price("Wholesale", "9.00", 10), price("Retail", "12.00"),
                               price("Retail", "11.00", 1, "EUR")])
    for n in range(10):  # not in the portal's tier: excluded in SQL, never loaded
        ProductFactory(organization=tenant.org, sku=f"RTL-{n:03d}", prices=[price("Retail", "5.00")])


@pytest.mark.parametrize("page_size", [5, 200])
@pytest.mark.parametrize(
    "caller, params, max_queries, expected_total",
    [
        # auth (1) + the customer's tier and currency (1) + count (1) + page (1) + prices (1)
        ("portal", {}, 5, 60),
        ("rep", {"customerNumber": "CUST-0042"}, 5, 60),
        # auth (1) + count (1) + page (1) + prices with their tiers (1)
        ("admin", {}, 4, 70),
        # + the tier (1)
        ("admin", {"priceTier": "Retail"}, 5, 70),
    ],
)
def test_listing_runs_a_constant_number_of_queries(tenant, big_shelf, django_assert_max_num_queries, page_size,
                                                   caller, params, max_queries, expected_total):
    api = {"portal": tenant.portal_api, "rep": tenant.rep_api, "admin": tenant.admin_api}[caller]
    with django_assert_max_num_queries(max_queries):
        response = api.get("/api/products", {**params, "PageSize": page_size})
    body = response.json()
    assert body["TotalRecords"] == expected_total
    assert len(body["Data"]) == min(page_size, expected_total)
    assert all(p["Prices"] for p in body["Data"][:5])


def test_portal_listing_filters_prices_in_sql_with_an_exists(tenant, big_shelf):
    """The portal's catalog is narrowed with EXISTS on (price_tier, currency_code, product), the
    indexed columns, and its prices are loaded for the page only."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        tenant.portal_api.get("/api/products", {"PageSize": 5})
    sql = [q["sql"].upper() for q in queries.captured_queries]
    product_queries = [s for s in sql if 'FROM "ORDERS_PRODUCT"' in s]
    assert product_queries and all("EXISTS" in s for s in product_queries)
    if connection.vendor == "postgresql":  # the page's JSON, prices included, in one query (orders.catalog.selectors)
        price_queries = [s for s in sql if "PP.PRODUCT_ID = P.ID" in s]
        assert len(price_queries) == 1
        assert "PP.PRICE_TIER_ID =" in price_queries[0] and "PP.CURRENCY_CODE =" in price_queries[0]
        return
    price_queries = [s for s in sql if '"ORDERS_PRODUCTPRICE"."PRODUCT_ID" IN (' in s]
    assert len(price_queries) == 1
    assert '"ORDERS_PRODUCTPRICE"."PRICE_TIER_ID" =' in price_queries[0]
    assert '"ORDERS_PRODUCTPRICE"."CURRENCY_CODE" =' in price_queries[0]


def test_an_api_client_is_an_admin_of_its_organization(tenant, shelf):
    created = tenant.admin_api.post(f"/api/organizations/{tenant.org.id}/apiclients", {"Name": "ERP"}, format="json")
    assert created.status_code == 201, created.json()
    login = APIClient().post("/api/auth/login", {"OrgCode": "ACME", "ClientId": created.json()["ClientId"],
                                                 "ClientSecret": created.json()["ClientSecret"]}, format="json")
    erp = APIClient()
    erp.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['AccessToken']}")
    assert erp.put("/api/products", {"Sku": "ERP-1", "Name": "From the ERP"}, format="json").status_code == 201
    assert "D-RETIRED" in skus(erp.get("/api/products", {"PageSize": 200}))
