"""The product list's cached `TotalRecords` (orders.catalog.selectors): counted once per query and
catalog generation, and right straight after every kind of catalog write, through every door."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.tests.test_import import confirm, csv_file
from nymble import cache as nymble_cache
from orders.catalog import selectors
from orders.catalog.services import products_set_active
from orders.models import Product, ProductPrice
from orders.tests.factories import ProductFactory, price

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]


@pytest.fixture
def shelf(tenant):
    """The portal user (CUST-0042) buys at Wholesale in USD: it sees A, B and C (not R, Retail only)."""
    org = tenant.org
    ProductFactory(organization=org, sku="A-1", name="Anvil", category="Tools", prices=[price("Wholesale", "5.00")])
    ProductFactory(organization=org, sku="B-1", name="Bolt", category="Parts",
                   prices=[price("Wholesale", "1.00"), price("Retail", "1.50")])
    ProductFactory(organization=org, sku="C-1", name="Clamp", category="Tools", prices=[price("Wholesale", "3.00")])
    ProductFactory(organization=org, sku="R-1", name="Rake", category="Tools", prices=[price("Retail", "9.00")])
    return org


def total(api, **params) -> int:
    response = api.get("/api/products", params)
    assert response.status_code == 200, response.json()
    body = response.json()
    return body["TotalRecords"]


def count_queries(api, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/products", params).status_code == 200
    return sum(1 for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(*)"))


# --- cached ---------------------------------------------------------------------------------


def test_a_repeated_list_is_not_counted_again(tenant, shelf):
    api = tenant.portal_api
    assert count_queries(api) == 1
    assert count_queries(api) == 0
    assert count_queries(api, PageSize=5, PageNumber=2, sortOn="Name") == 0  # page and order do not count
    assert total(api, PageSize=1) == 3


def test_each_caller_filter_and_search_has_its_own_count(tenant, shelf):
    portal, rep, admin = tenant.portal_api, tenant.rep_api, tenant.admin_api
    for _ in range(2):  # counted, then from the cache
        assert total(portal) == 3
        assert total(portal, category="tools") == 2
        assert total(portal, search="bolt") == 1
        assert total(portal, search="rake") == 0
        assert total(rep) == 4
        assert total(rep, customerNumber="CUST-0042") == 3
        assert total(admin, priceTier="Retail") == 4
        assert total(admin, active="false") == 0


def test_another_organizations_catalog_is_counted_apart(tenant, other_tenant, shelf):
    ProductFactory(organization=other_tenant.org, sku="A-1", prices=[price("Wholesale", "5.00")])
    assert total(tenant.portal_api) == 3
    assert total(other_tenant.portal_api) == 1
    tenant.admin_api.patch("/api/products/A-1", {"Active": False}, format="json")
    assert total(other_tenant.portal_api) == 1
    assert total(tenant.portal_api) == 2


# --- right after every write ----------------------------------------------------------------


def test_a_created_product_is_counted_at_once(tenant, shelf):
    portal, admin = tenant.portal_api, tenant.admin_api
    assert (total(portal), total(admin), total(portal, search="drill")) == (3, 4, 0)
    body = {"Sku": "D-1", "Name": "Drill", "Prices": [{"PriceTier": "Wholesale", "Price": "40.00"}]}
    assert admin.post("/api/products", body, format="json").status_code == 201
    assert (total(portal), total(admin), total(portal, search="drill")) == (4, 5, 1)
    assert admin.put("/api/products", {"Sku": "E-1", "Name": "Epoxy"}, format="json").status_code == 201
    assert (total(portal), total(admin)) == (4, 6)  # no Wholesale price: not the portal's


def test_a_deactivated_product_leaves_the_count_at_once(tenant, shelf):
    portal, rep = tenant.portal_api, tenant.rep_api
    assert (total(portal), total(rep)) == (3, 4)
    assert tenant.admin_api.patch("/api/products/A-1", {"Active": False}, format="json").status_code == 200
    assert (total(portal), total(rep), total(tenant.admin_api, active="false")) == (2, 3, 1)
    products_set_active(products=Product.objects.filter(sku="A-1"), active=True)  # the admin's action
    assert (total(portal), total(rep)) == (3, 4)


def test_the_admins_actions_update_the_count(tenant, shelf, staff_client):
    portal = tenant.portal_api
    assert total(portal) == 3
    selected = list(Product.objects.filter(sku__in=["A-1", "B-1"]).values_list("pk", flat=True))
    staff_client.post("/admin/orders/product/", {"action": "deactivate", "_selected_action": selected})
    assert total(portal) == 1
    staff_client.post("/admin/orders/product/", {"action": "activate", "_selected_action": selected})
    assert total(portal) == 3


def test_prices_replaced_or_kept_move_the_portal_count(tenant, shelf):
    portal, admin = tenant.portal_api, tenant.admin_api
    assert total(portal) == 3
    admin.patch("/api/products/A-1", {"Prices": [{"PriceTier": "Retail", "Price": "6.00"}]}, format="json")
    assert total(portal) == 2
    admin.put("/api/products", {"Sku": "R-1", "Name": "Rake",
                                "Prices": [{"PriceTier": "Wholesale", "Price": "8.00"}]}, format="json")
    assert total(portal) == 3
    admin.patch("/api/products/C-1", {"Name": "Big clamp"}, format="json")  # name only: still priced
    assert (total(portal), total(portal, search="big")) == (3, 1)


def test_a_customers_tier_or_currency_change_shows_its_count_at_once(tenant, shelf):
    portal = tenant.portal_api  # a token issued while the account bought at Wholesale in USD
    assert total(portal) == 3
    assert tenant.admin_api.patch("/api/customers/CUST-0042", {"Pricing": "Retail"}, format="json").status_code == 200
    assert total(portal) == 2  # B-1 and R-1
    assert total(tenant.rep_api, customerNumber="CUST-0042") == 2
    tenant.admin_api.patch("/api/customers/CUST-0042", {"CurrencyCode": "EUR"}, format="json")
    assert total(portal) == 0
    tenant.admin_api.patch("/api/customers/CUST-0042", {"Pricing": "Wholesale", "CurrencyCode": "USD"}, format="json")
    assert total(portal) == 3


def test_an_import_is_counted_at_once(tenant, shelf, staff_client):
    portal = tenant.portal_api
    assert total(portal) == 3
    headers = ["Sku", "Name", "Active", "Price1.Tier", "Price1.Price"]
    rows = [["N-1", "Nail", "TRUE", "Wholesale", "0.10"], ["A-1", "Anvil", "FALSE", "Wholesale", "5.00"],
            ["R-1", "Rake", "TRUE", "Wholesale", "9.00"]]
    preview = staff_client.post("/admin/orders/product/import/", {"import_file": csv_file(rows, headers=headers),
                                                                  "format": "0"})
    assert preview.status_code == 200
    assert total(portal) == 3  # a preview writes nothing
    assert confirm(staff_client, preview).status_code == 302
    assert Product.objects.get(sku="N-1").active and not Product.objects.get(sku="A-1").active
    assert total(portal) == 4  # B, C, N, R


# --- the generation -------------------------------------------------------------------------


def portal_queryset(tenant):
    return Product.objects.filter(organization=tenant.org, active=True,
                                  prices__price_tier__code="Wholesale").distinct()


def test_a_count_taken_before_the_write_committed_is_dropped_at_commit(tenant, shelf, django_capture_on_commit_callbacks):
    """A reader counting between the write's first bump and its commit stores a count under the
    first token; the bump after commit makes it stale."""
    queryset = portal_queryset(tenant)
    with django_capture_on_commit_callbacks() as callbacks:
        selectors.catalog_changed(tenant.org.pk)
        assert selectors.catalog_count(queryset, organization_id=tenant.org.pk) == 3  # the data before the commit
        # What the commit makes visible to other connections: a priced product added behind the cache.
        product = Product.objects.create(organization=tenant.org, sku="Z-1", name="Zip")
        ProductPrice.objects.create(product=product, price_tier=shelf.price_tiers.get(code="Wholesale"),
                                    currency_code="USD", price="1.00")
        assert selectors.catalog_count(queryset, organization_id=tenant.org.pk) == 3  # cached: not yet committed
    assert callbacks
    for callback in callbacks:  # committed
        callback()
    assert selectors.catalog_count(queryset, organization_id=tenant.org.pk) == 4


def test_a_generation_lost_from_the_cache_never_revives_an_old_count(tenant, shelf):
    queryset = portal_queryset(tenant)
    assert selectors.catalog_count(queryset, organization_id=tenant.org.pk) == 3
    Product.objects.filter(sku="A-1").update(active=False)  # behind the services' back, then evicted:
    cache.delete(f"catalog:generation:{tenant.org.pk}")
    assert selectors.catalog_count(queryset, organization_id=tenant.org.pk) == 2


def test_without_a_shared_cache_every_list_is_counted(tenant, shelf, monkeypatch):
    monkeypatch.setattr(nymble_cache, "SHARED_BACKENDS", ())  # as with the database cache (no REDIS_URL)
    assert not nymble_cache.cache_shared()
    api = tenant.portal_api
    assert (count_queries(api), count_queries(api)) == (1, 1)
    selectors.catalog_changed(tenant.org.pk)  # nothing to do
    assert total(api) == 3


# --- the page's JSON built by PostgreSQL ------------------------------------------------------

ODD_TEXT = 'Quote " backslash \\ slash / tab \t newline \n\r ctrl \x01\x1f\x7f é 漢字 🙂 \u2028 </script>'


@pytest.fixture
def varied(tenant, shelf):
    """Products unlike one another in every field the list writes."""
    org = tenant.org
    ProductFactory(organization=org, sku="ODD-1", name=ODD_TEXT, description=ODD_TEXT, category="Ünïcode",
                   upc="0001", external_id="erp-odd", minimum_order_quantity=5, quantity_increment=5,
                   prices=[price("Wholesale", "0.00", 10), price("Wholesale", "999999999999.99", 100),
                           price("Retail", "12.30"), price("Retail", "11.00", 3), price("Wholesale", "4.10", 1, "EUR"),
                           price("Retail", "4.20", 2, "EUR")])
    ProductFactory(organization=org, sku="MOQ-1", name="Case", minimum_order_quantity=12,
                   prices=[price("Wholesale", "3.00", 6), price("Wholesale", "2.50", 12), price("Wholesale", "2.00", 20)])
    ProductFactory(organization=org, sku="MOQ-2", name="Bulk", minimum_order_quantity=2,
                   prices=[price("Wholesale", "0.40", 100)])
    ProductFactory(organization=org, sku="NONE-1", name="Unpriced", prices=[])
    ProductFactory(organization=org, sku="OFF-1", name="Retired", active=False, prices=[price("Wholesale", "1.00")])
    ProductFactory(organization=org, sku="EUR-1", name="Euro only", prices=[price("Wholesale", "7.00", 1, "EUR")])
    # Timestamps with and without microseconds.
    Product.objects.filter(sku="A-1").update(created_at="2026-01-02T03:04:05Z", updated_at="2026-01-02T03:04:05.000001Z")
    Product.objects.filter(sku="ODD-1").update(created_at="2025-12-31T23:59:59.999999Z")
    return org


@pytest.mark.parametrize("caller, params", [
    ("portal", {}),
    ("portal", {"PageSize": 3, "PageNumber": 2, "sortOn": "Name", "sortDirection": "desc"}),
    ("portal", {"search": "quote"}),
    ("rep", {}),
    ("rep", {"customerNumber": "CUST-0042", "sortOn": "CreatedAt"}),
    ("admin", {}),
    ("admin", {"priceTier": "Retail"}),
    ("admin", {"priceTier": "Wholesale", "active": "true"}),
    ("admin", {"customerNumber": "CUST-0099"}),
    ("admin", {"PageNumber": 9}),  # past the last page
    ("eur_portal", {}),
])
def test_the_databases_page_is_the_serializers_byte_for_byte(postgres_only, tenant, varied, monkeypatch, caller, params):
    from orders.catalog import views

    if caller == "eur_portal":
        tenant.admin_api.patch("/api/customers/CUST-0042", {"CurrencyCode": "EUR"}, format="json")
    api = {"portal": tenant.portal_api, "eur_portal": tenant.portal_api, "rep": tenant.rep_api,
           "admin": tenant.admin_api}[caller]
    from_database = api.get("/api/products", params)
    monkeypatch.setattr(views, "json_in_database", lambda: False)
    from_serializer = api.get("/api/products", params)
    assert from_database.status_code == from_serializer.status_code == 200
    assert from_database.content == from_serializer.content
    assert from_serializer.json()["Data"] or params.get("PageNumber") == 9 or params.get("search")
