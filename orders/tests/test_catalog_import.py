"""Products imported in the admin with their prices: through `product_upsert`, the API's refusals,
all or nothing, in the staff user's organization only."""
from decimal import Decimal

import pytest

from customers.tests.test_import import CSV_FORMAT, XLSX_FORMAT, confirm, csv_file, outcomes, xlsx_file
from orders.models import Product

pytestmark = pytest.mark.django_db

IMPORT = "/admin/orders/product/import/"
HEADERS = ["Sku", "Name", "Category", "MinimumOrderQuantity", "QuantityIncrement",
           "Price1.Tier", "Price1.Price", "Price1.AtQuantity", "Price2.Tier", "Price2.Price", "Price2.AtQuantity"]


def preview(client, upload, fmt=CSV_FORMAT):
    response = client.post(IMPORT, {"import_file": upload, "format": fmt})
    assert response.status_code == 200
    return response


def prices_of(product) -> list[tuple]:
    return [(p.price_tier.code, p.at_quantity, p.price, p.currency_code) for p in product.prices.all()]


def test_preview_and_confirm_new_changed_and_unchanged_products_with_prices(staff_client, tenant, catalog):
    rows = [
        ["GAD-1", "Gadget", "Gadgets", "2", "2", "Wholesale", "7.50", "1", "Wholesale", "7.00", "100"],
        ["WDG-100-BLU", "Widget Blue", "", "1", "1", "Wholesale", "19.00", "1", "", "", ""],
        ["RTL-1", "Retail only", "", "1", "1", "Retail", "9.99", "1", "", "", ""],
    ]
    response = preview(staff_client, csv_file(rows, headers=HEADERS))
    assert outcomes(response) == [
        ("GAD-1", "new", []),
        ("WDG-100-BLU", "update", ["Prices: 3 → 1"]),
        ("RTL-1", "skip", []),
    ]
    assert not Product.objects.filter(sku="GAD-1").exists()
    assert confirm(staff_client, response).status_code == 302
    gadget = Product.objects.get(organization=tenant.org, sku="GAD-1")
    assert (gadget.minimum_order_quantity, gadget.quantity_increment, gadget.category) == (2, 2, "Gadgets")
    assert prices_of(gadget) == [("Wholesale", 1, Decimal("7.50"), "USD"), ("Wholesale", 100, Decimal("7.00"), "USD")]
    assert prices_of(catalog["widget"]) == [("Wholesale", 1, Decimal("19.00"), "USD")]


def test_a_refused_price_names_its_column_with_the_apis_message_and_nothing_is_written(staff_client, tenant, catalog):
    rows = [
        ["GAD-1", "Gadget", "", "", "", "Wholesale", "7.50", "1", "", "", ""],
        ["GAD-2", "Gadget 2", "", "0", "", "Wholesale", "7.505", "1", "Wholesale", "7.00", "1"],
    ]
    response = preview(staff_client, csv_file(rows, headers=HEADERS))
    (_, first, _), (key, kind, reasons) = outcomes(response)
    assert (first, key, kind) == ("new", "GAD-2", "invalid")
    api = tenant.admin_api.put("/api/products", {
        "Sku": "GAD-2", "Name": "Gadget 2", "MinimumOrderQuantity": 0,
        "Prices": [{"PriceTier": "Wholesale", "Price": "7.505", "AtQuantity": 1},
                   {"PriceTier": "Wholesale", "Price": "7.00", "AtQuantity": 1}]}, format="json")
    assert api.status_code == 400
    expected = {f"{name.replace('Prices[0]', 'Price1').replace('Prices[1]', 'Price2')}: {message}"
                for name, messages in api.json()["errors"].items() for message in messages}
    assert set(reasons) == expected and any(r.startswith("Price1.Price: ") for r in reasons)
    assert response.context.get("confirm_form") is None
    assert not Product.objects.filter(sku__in=["GAD-1", "GAD-2"]).exists()


def test_a_duplicate_price_break_is_refused_by_the_service_as_the_api_refuses_it(staff_client, tenant, catalog):
    row = ["GAD-3", "Gadget 3", "", "", "", "Wholesale", "7.50", "5", "Wholesale", "7.00", "5"]
    (_, kind, reasons), = outcomes(preview(staff_client, csv_file([row], headers=HEADERS)))
    api = tenant.admin_api.put("/api/products", {"Sku": "GAD-3", "Name": "Gadget 3", "Prices": [
        {"PriceTier": "Wholesale", "Price": "7.50", "AtQuantity": 5},
        {"PriceTier": "Wholesale", "Price": "7.00", "AtQuantity": 5}]}, format="json")
    assert kind == "invalid" and api.status_code == 400
    assert reasons == [f"Price2.AtQuantity: {api.json()['errors']['Prices[1].AtQuantity'][0]}"]


def test_xlsx_numbers_become_quantities_and_prices(staff_client, tenant, catalog):
    rows = [["GAD-4", "Gadget 4", "Gadgets", 10.0, 5, "Retail", 18.5, 1, "Retail", 17.25, 48.0]]
    response = preview(staff_client, xlsx_file(rows, headers=HEADERS), fmt=XLSX_FORMAT)
    assert outcomes(response) == [("GAD-4", "new", [])]
    assert confirm(staff_client, response).status_code == 302
    made = Product.objects.get(organization=tenant.org, sku="GAD-4")
    assert (made.minimum_order_quantity, made.quantity_increment) == (10, 5)
    assert prices_of(made) == [("Retail", 1, Decimal("18.50"), "USD"), ("Retail", 48, Decimal("17.25"), "USD")]


def test_another_organizations_product_with_the_same_sku_is_never_touched(staff_client, tenant, other_tenant, catalog):
    from orders.tests.conftest import add_product

    theirs = add_product(other_tenant.org, "WDG-100-BLU", "Their widget", [("Wholesale", 1, "1.00")])
    rows = [["WDG-100-BLU", "Renamed", "", "", "", "Wholesale", "2.00", "1", "", "", ""]]
    assert confirm(staff_client, preview(staff_client, csv_file(rows, headers=HEADERS))).status_code == 302
    theirs.refresh_from_db()
    assert theirs.name == "Their widget" and prices_of(theirs) == [("Wholesale", 1, Decimal("1.00"), "USD")]
    assert Product.objects.get(organization=tenant.org, sku="WDG-100-BLU").name == "Renamed"


def test_products_export_in_the_import_layout_and_import_back_unchanged(staff_client, tenant, other_tenant, catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    exported = staff_client.get("/admin/orders/product/export/", {"active__exact": "1"})
    text = exported.content.decode()
    assert text.splitlines()[0].startswith("Sku,Name,Description,Category,UPC,Active,MinimumOrderQuantity")
    assert "Price3.Tier" in text.splitlines()[0] and "OLD-1" not in text  # the filter holds
    rows = outcomes(preview(staff_client, SimpleUploadedFile("p.csv", exported.content)))
    assert sorted(rows) == [("BLT-7", "skip", []), ("RTL-1", "skip", []), ("WDG-100-BLU", "skip", [])]
