"""Who sees and changes what in the catalog (§5, §10): one role × endpoint matrix, and the admin.

Roles: the organization's admin, the rep that owns CUST-0042 (REP-007), another rep (REP-012),
CUST-0042's portal user (Wholesale, USD), the admin of another organization (which has its own
products, one with the same SKU), and an anonymous caller. In ACME: SHARED-1 (priced in
Wholesale), RETAIL-1 (Retail only), OFF-1 (inactive); in GLOBEX: SHARED-1 and GLOBEX-1.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from orders.models import Product, ProductPrice
from orders.tests.factories import ProductFactory, price

pytestmark = pytest.mark.django_db

ROLES = ["admin", "rep", "other_rep", "portal", "other_org_admin", "anonymous"]


@pytest.fixture
def callers(tenant, other_tenant):
    ProductFactory(organization=tenant.org, sku="SHARED-1", name="Acme's", prices=[price("Wholesale", "5.00")])
    ProductFactory(organization=tenant.org, sku="RETAIL-1", name="Retail", prices=[price("Retail", "6.00")])
    ProductFactory(organization=tenant.org, sku="OFF-1", name="Off", active=False, prices=[price("Wholesale", "1.00")])
    ProductFactory(organization=other_tenant.org, sku="SHARED-1", name="Globex's", prices=[price("Wholesale", "9.00")])
    ProductFactory(organization=other_tenant.org, sku="GLOBEX-1", name="Globex only", prices=[price("Wholesale", "9.00")])
    return {
        "admin": tenant.admin_api,
        "rep": tenant.rep_api,
        "other_rep": tenant.other_rep_api,
        "portal": tenant.portal_api,
        "other_org_admin": other_tenant.admin_api,
        "anonymous": APIClient(),
    }


def acme_catalog(tenant):
    products = list(Product.objects.filter(organization=tenant.org).values().order_by("pk"))
    prices = list(ProductPrice.objects.filter(product__organization=tenant.org).values().order_by("pk"))
    return products, prices


LIST_EXPECTED = {
    "admin": ["OFF-1", "RETAIL-1", "SHARED-1"],
    "rep": ["RETAIL-1", "SHARED-1"],
    "other_rep": ["RETAIL-1", "SHARED-1"],
    "portal": ["SHARED-1"],
    "other_org_admin": ["GLOBEX-1", "SHARED-1"],  # its own, one with the same SKU
}


@pytest.mark.parametrize("role", ROLES)
def test_list(callers, role):
    response = callers[role].get("/api/products", {"PageSize": 200})
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert [p["Sku"] for p in response.json()["Data"]] == LIST_EXPECTED[role]
    assert response.json()["TotalRecords"] == len(LIST_EXPECTED[role])


@pytest.mark.parametrize("role", ROLES[:-1])
@pytest.mark.parametrize("params", [{"search": "1"}, {"search": "globex"}, {"active": "false"}, {"active": "true"},
                                    {"category": ""}, {"sortOn": "Name", "sortDirection": "desc"},
                                    {"priceTier": "Retail"}, {"customerNumber": "CUST-0042"}])
def test_search_filters_and_price_parameters_never_widen_scope(callers, role, params):
    response = callers[role].get("/api/products", {**params, "PageSize": 200})
    if response.status_code != 200:  # a portal user may not pick prices; a rep only its customers
        assert response.status_code in (400, 404)
        return
    assert {p["Sku"] for p in response.json()["Data"]} <= set(LIST_EXPECTED[role])
    assert all(p["Name"] != "Globex's" for p in response.json()["Data"]) or role == "other_org_admin"


NEW = {"Sku": "NEW-1", "Name": "New", "Prices": [{"PriceTier": "Wholesale", "Price": "1.00"}]}
REPLACE_SHARED = {"Sku": "SHARED-1", "Name": "Replaced", "Prices": [{"PriceTier": "Wholesale", "Price": "2.00"}]}

#   endpoint                                          admin rep other_rep portal other_org_admin anonymous
MATRIX = [
    ("get", "/api/products/SHARED-1", None,            (200, 200, 200, 200, 200, 401)),
    ("get", "/api/products/RETAIL-1", None,            (200, 200, 200, 404, 404, 401)),
    ("get", "/api/products/OFF-1", None,               (200, 404, 404, 404, 404, 401)),
    ("get", "/api/products/GLOBEX-1", None,            (404, 404, 404, 404, 200, 401)),
    ("get", "/api/products/NOPE", None,                (404, 404, 404, 404, 404, 401)),
    ("post", "/api/products", NEW,                     (201, 403, 403, 403, 201, 401)),
    ("put", "/api/products", REPLACE_SHARED,           (200, 403, 403, 403, 200, 401)),
    ("patch", "/api/products/SHARED-1", {"Name": "X"}, (200, 403, 403, 403, 200, 401)),
    ("patch", "/api/products/RETAIL-1", {"Name": "X"}, (200, 403, 403, 404, 404, 401)),
    ("patch", "/api/products/OFF-1", {"Name": "X"},    (200, 404, 404, 404, 404, 401)),
    ("patch", "/api/products/GLOBEX-1", {"Name": "X"}, (404, 404, 404, 404, 200, 401)),
    ("delete", "/api/products/SHARED-1", None,         (405, 405, 405, 405, 405, 401)),
]


@pytest.mark.parametrize("method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
def test_matrix(callers, tenant, method, path, body, expected, role_index, role):
    before = acme_catalog(tenant)
    response = getattr(callers[role], method)(path, body, format="json")
    assert response.status_code == expected[role_index], response.content
    if response.status_code >= 400 or role == "other_org_admin":
        assert acme_catalog(tenant) == before, "a refused or foreign call changed ACME's catalog"


def test_same_sku_in_another_organization_is_another_product(callers, tenant, other_tenant):
    mine = callers["admin"].get("/api/products/SHARED-1").json()
    theirs = callers["other_org_admin"].get("/api/products/SHARED-1").json()
    assert mine["ProductId"] != theirs["ProductId"] and mine["Name"] == "Acme's"
    callers["other_org_admin"].put("/api/products", {"Sku": "SHARED-1", "Name": "Globex renamed"}, format="json")
    assert callers["admin"].get("/api/products/SHARED-1").json()["Name"] == "Acme's"
    portal = callers["portal"].get("/api/products/SHARED-1").json()
    assert (portal["Name"], portal["Price"]) == ("Acme's", 5.0)


# --- the admin ------------------------------------------------------------------------------

CHANGELIST = "/admin/orders/product/"


def product_of(tenant, sku) -> Product:
    return Product.objects.get(organization=tenant.org, sku=sku)


def change_url(product) -> str:
    return f"{CHANGELIST}{product.pk}/change/"


def change_form_data(product, prices=(), delete_existing=False, **overrides) -> dict:
    """What the change form posts: the product's fields, its stored price rows (marked for
    deletion with `delete_existing`) and the new rows in `prices`."""
    rows = list(product.prices.order_by("pk"))
    data = {
        "sku": product.sku, "name": product.name, "description": product.description, "category": product.category,
        "upc": product.upc, "minimum_order_quantity": product.minimum_order_quantity,
        "quantity_increment": product.quantity_increment, "external_id": product.external_id or "",
        "prices-TOTAL_FORMS": str(len(rows) + len(prices)), "prices-INITIAL_FORMS": str(len(rows)),
        "prices-MIN_NUM_FORMS": "0", "prices-MAX_NUM_FORMS": "1000",
    }
    if product.active:
        data["active"] = "on"
    for index, row in enumerate(rows):
        data.update({f"prices-{index}-id": str(row.pk), f"prices-{index}-product": str(product.pk),
                     f"prices-{index}-price_tier": str(row.price_tier_id), f"prices-{index}-currency_code": row.currency_code,
                     f"prices-{index}-at_quantity": str(row.at_quantity), f"prices-{index}-price": str(row.price)})
        if delete_existing:
            data[f"prices-{index}-DELETE"] = "on"
    for offset, row in enumerate(prices):
        index = len(rows) + offset
        data.update({f"prices-{index}-{key}": str(value) for key, value in row.items()})
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_admin_sees_its_organizations_products_only(callers, tenant, other_tenant, staff_client):
    client = staff_client
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    shown = {p.pk for p in response.context["cl"].result_list}
    assert shown == set(Product.objects.filter(organization=tenant.org).values_list("pk", flat=True))
    assert "Globex" not in response.content.decode()
    assert client.get(change_url(product_of(tenant, "SHARED-1"))).status_code == 200


def test_another_organizations_product_page_is_a_404(callers, tenant, other_tenant, staff_client):
    client = staff_client
    theirs = product_of(other_tenant, "GLOBEX-1")
    assert client.get(change_url(theirs)).status_code == 404
    response = client.post(change_url(theirs), change_form_data(theirs, name="Hacked"))
    assert response.status_code == 404
    assert client.get(f"{CHANGELIST}{theirs.pk}/history/").status_code in (302, 404)
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert (theirs.name, theirs.active) == ("Globex only", True)


def test_search_and_filters(callers, tenant, staff_client):
    client = staff_client
    Product.objects.filter(organization=tenant.org, sku="RETAIL-1").update(category="Gadgets", upc="999111")

    def shown(params):
        return sorted(p.sku for p in client.get(CHANGELIST, params).context["cl"].result_list)

    assert shown({"q": "retail"}) == ["RETAIL-1"]
    assert shown({"q": "999111"}) == ["RETAIL-1"]
    assert shown({"q": "globex"}) == []
    assert shown({"active__exact": "0"}) == ["OFF-1"]
    assert shown({"category": "Gadgets"}) == ["RETAIL-1"]
    response = client.get(CHANGELIST)
    assert "Gadgets" in response.content.decode()


def test_change_form_replaces_prices_through_the_service(callers, tenant, staff_client):
    client = staff_client
    product = product_of(tenant, "SHARED-1")
    retail = tenant.org.price_tiers.get(code="Retail")
    data = change_form_data(product, name="Renamed", delete_existing=True, prices=[
        {"price_tier": retail.pk, "currency_code": "USD", "at_quantity": 1, "price": "7.00"},
        {"price_tier": retail.pk, "currency_code": "USD", "at_quantity": 10, "price": "6.50"},
    ])
    response = client.post(change_url(product), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    product.refresh_from_db()
    assert product.name == "Renamed"
    assert sorted((p.price_tier.code, p.at_quantity, str(p.price)) for p in product.prices.all()) == [
        ("Retail", 1, "7.00"), ("Retail", 10, "6.50")]


@pytest.mark.parametrize("row, field", [
    ({"currency_code": "XYZ", "at_quantity": 1, "price": "1.00"}, "currency_code"),
    ({"currency_code": "USD", "at_quantity": 0, "price": "1.00"}, "at_quantity"),
    ({"currency_code": "USD", "at_quantity": 1, "price": "-1.00"}, "price"),
    ({"currency_code": "USD", "at_quantity": 1, "price": "1.005"}, "price"),
])
def test_change_form_shows_refused_prices_on_their_row_and_changes_nothing(callers, tenant, row, field, staff_client):
    client = staff_client
    product = product_of(tenant, "SHARED-1")
    wholesale = tenant.org.price_tiers.get(code="Wholesale")
    before = acme_catalog(tenant)
    response = client.post(change_url(product), change_form_data(product, prices=[{"price_tier": wholesale.pk, **row}]))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert any(field in form.errors for form in formset.forms), [f.errors for f in formset.forms]
    assert acme_catalog(tenant) == before


def test_change_form_refuses_a_duplicate_break(callers, tenant, staff_client):
    client = staff_client
    product = product_of(tenant, "SHARED-1")
    wholesale = tenant.org.price_tiers.get(code="Wholesale")
    before = acme_catalog(tenant)
    data = change_form_data(product, prices=[
        {"price_tier": wholesale.pk, "currency_code": "USD", "at_quantity": 1, "price": "4.00"},  # SHARED-1 has 1 already
    ])
    response = client.post(change_url(product), data)
    assert response.status_code == 200
    assert acme_catalog(tenant) == before


def test_price_tier_choices_are_the_organizations(callers, tenant, other_tenant, staff_client):
    client = staff_client
    response = client.get(change_url(product_of(tenant, "SHARED-1")))
    field = response.context["inline_admin_formsets"][0].formset.forms[0].fields["price_tier"]
    assert set(field.queryset) == set(tenant.org.price_tiers.all())
    foreign = other_tenant.org.price_tiers.get(code="Wholesale")
    product = product_of(tenant, "SHARED-1")
    before = acme_catalog(tenant)
    data = change_form_data(product, prices=[{"price_tier": foreign.pk, "currency_code": "USD", "at_quantity": 5,
                                              "price": "1.00"}])
    assert client.post(change_url(product), data).status_code == 200  # refused on the form
    assert acme_catalog(tenant) == before


def test_add_form_creates_in_the_staff_users_organization(callers, tenant, staff_client):
    client = staff_client
    wholesale = tenant.org.price_tiers.get(code="Wholesale")
    data = {
        "sku": "ADMIN-1", "name": "Added", "description": "", "category": "", "upc": "", "active": "on",
        "minimum_order_quantity": "1", "quantity_increment": "1", "external_id": "",
        "prices-TOTAL_FORMS": "1", "prices-INITIAL_FORMS": "0", "prices-MIN_NUM_FORMS": "0", "prices-MAX_NUM_FORMS": "1000",
        "prices-0-price_tier": str(wholesale.pk), "prices-0-currency_code": "USD", "prices-0-at_quantity": "1",
        "prices-0-price": "3.25",
    }
    response = client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    product = product_of(tenant, "ADMIN-1")
    assert product.external_id is None
    assert [(p.price_tier.code, str(p.price)) for p in product.prices.all()] == [("Wholesale", "3.25")]
    duplicate = client.post(f"{CHANGELIST}add/", {**data, "name": "Again"})
    assert duplicate.status_code == 200 and "sku" in duplicate.context["adminform"].form.errors
    zero = client.post(f"{CHANGELIST}add/", {**data, "sku": "ADMIN-2", "minimum_order_quantity": "0"})
    assert zero.status_code == 200 and "minimum_order_quantity" in zero.context["adminform"].form.errors
    assert not Product.objects.filter(sku="ADMIN-2").exists()


def test_activate_and_deactivate_actions(callers, tenant, staff_client):
    client = staff_client
    selected = [product_of(tenant, "SHARED-1").pk, product_of(tenant, "OFF-1").pk]
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": selected})
    assert not Product.objects.filter(pk__in=selected, active=True).exists()
    assert "SHARED-1" not in [p["Sku"] for p in callers["portal"].get("/api/products").json()["Data"]]
    client.post(CHANGELIST, {"action": "activate", "_selected_action": selected})
    assert Product.objects.filter(pk__in=selected, active=True).count() == 2


def test_nothing_is_deleted_from_the_admin(callers, tenant, staff_client):
    client = staff_client
    product = product_of(tenant, "SHARED-1")
    assert client.get(f"{CHANGELIST}{product.pk}/delete/").status_code in (302, 403)
    assert Product.objects.filter(pk=product.pk).exists()


def test_superuser_sees_every_organization(callers, tenant, other_tenant):
    from nymble.models import User

    root = User.objects.create_superuser(email="root@nymble.test", password="root-pass-123")
    client = Client()
    client.force_login(root)
    shown = {p.pk for p in client.get(CHANGELIST).context["cl"].result_list}
    assert product_of(other_tenant, "GLOBEX-1").pk in shown and product_of(tenant, "OFF-1").pk in shown
    assert client.get(change_url(product_of(other_tenant, "GLOBEX-1"))).status_code == 200


def test_reps_and_portal_logins_have_no_admin(callers, tenant):
    user = tenant.rep.membership.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    assert client.get(CHANGELIST).status_code in (302, 403)
