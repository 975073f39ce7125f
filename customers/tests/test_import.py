"""Customers imported in the admin from CSV and XLSX: a preview of every row, then all or nothing,
through `customer_upsert` with the API's own refusals, in the staff user's organization only."""
import csv
import io
from html import unescape

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Customer
from nymble import spreadsheets

pytestmark = pytest.mark.django_db

IMPORT = "/admin/customers/customer/import/"
CONFIRM = "/admin/customers/customer/process_import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"
HEADERS = ["CustomerNumber", "CompanyName", "CompanyEmail", "Pricing", "RepNumber", "Terms",
           "Address1.Type", "Address1.Line1", "Address1.City", "Address1.Default",
           "Contact1.FirstName", "Contact1.LastName", "Contact1.Email"]


def csv_file(rows, headers=HEADERS, name="customers.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_file(rows, headers=HEADERS, name="customers.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/vnd.ms-excel")


def preview(client, upload, fmt=CSV_FORMAT, **extra):
    response = client.post(IMPORT, {"import_file": upload, "format": fmt, **extra})
    assert response.status_code == 200
    return response


def outcomes(response) -> list[tuple[str, str, list[str]]]:
    return [(row.key, row.import_type, row.reasons or row.changes) for row in response.context["result"].rows]


def confirm(client, response):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    url = response.wsgi_request.path.replace("/import/", "/process_import/")  # the list the preview was of
    return client.post(url, {k: v for k, v in data.items() if v is not None})


NEW = ["CUST-1000", "Harbor Tools", "buy@harbor.example", "Wholesale", "REP-012", "Net45",
       "Shipping", "1 Dock St", "Boston", "TRUE", "Ann", "Lee", "ann@harbor.example"]
CHANGED = ["CUST-0042", "Acme Wholesale Group", "office@cust-0042.example", "Wholesale", "REP-007", "Net30",
           "", "", "", "", "Jane", "Buyer", "jane@cust-0042.acme.example"]


def test_preview_shows_every_rows_outcome_and_writes_nothing(staff_client, tenant):
    response = preview(staff_client, csv_file([NEW, CHANGED]))
    assert outcomes(response) == [
        ("CUST-1000", "new", []),
        ("CUST-0042", "update", ["CompanyName: Acme Wholesale Ltd. → Acme Wholesale Group"]),
    ]
    assert response.context["confirm_form"] is not None
    html = response.content.decode()
    assert "1 new, 1 changed, 0 unchanged, 0 refused" in html and "Confirm import" in html
    assert not Customer.objects.filter(customer_number="CUST-1000").exists()
    assert Customer.objects.get(organization=tenant.org, customer_number="CUST-0042").company_name == \
        "Acme Wholesale Ltd."


def test_confirm_writes_every_row_through_the_service(staff_client, tenant):
    response = confirm(staff_client, preview(staff_client, csv_file([NEW, CHANGED])))
    assert response.status_code == 302
    created = Customer.objects.get(organization=tenant.org, customer_number="CUST-1000")
    assert (created.terms, created.sales_rep, created.currency_code) == ("Net45", tenant.other_rep, "USD")
    assert [(a.address_type, a.address1, a.city, a.is_default) for a in created.addresses.all()] == [
        ("Shipping", "1 Dock St", "Boston", True)]
    assert [c.email for c in created.contacts.all()] == ["ann@harbor.example"]
    acme = Customer.objects.get(organization=tenant.org, customer_number="CUST-0042")
    assert acme.company_name == "Acme Wholesale Group"
    assert acme.contacts.get().portal_membership_id == tenant.portal.pk  # kept with its email
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Imported 2 rows: 1 new, 1 changed, 0 unchanged."]


def test_a_refused_row_is_shown_with_the_apis_reason_and_nothing_can_be_confirmed(staff_client, tenant):
    bad = ["CUST-2000", "Bad Tier Inc", "not-an-email", "Platinum", "", "Net 30 days"] + [""] * 7
    response = preview(staff_client, csv_file([NEW, bad]))
    rows = outcomes(response)
    assert rows[0] == ("CUST-1000", "new", [])
    key, kind, reasons = rows[1]
    assert (key, kind) == ("CUST-2000", "invalid")
    api = tenant.admin_api.put("/api/customers", {
        "CustomerNumber": "CUST-2000", "CompanyName": "Bad Tier Inc", "CompanyEmail": "not-an-email",
        "Pricing": "Platinum", "Terms": "Net 30 days", "Addresses": [], "Contacts": []}, format="json")
    assert api.status_code == 400
    assert sorted(reasons) == sorted(f"{field}: {m}" for field, msgs in api.json()["errors"].items() for m in msgs)
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert "refused" in response.content.decode() and "Platinum" in response.content.decode()
    assert not Customer.objects.filter(customer_number__in=["CUST-1000", "CUST-2000"]).exists()


def test_confirm_is_all_or_nothing_when_a_row_became_refused_since_the_preview(staff_client, tenant):
    headers = HEADERS + ["ExternalId"]
    response = preview(staff_client, csv_file([NEW + ["ERP-9"], CHANGED + [""]], headers=headers))
    assert [kind for _, kind, _ in outcomes(response)] == ["new", "update"]
    tenant.other_customer.external_id = "ERP-9"  # someone takes the ExternalId meanwhile
    tenant.other_customer.save(update_fields=["external_id"])
    after = confirm(staff_client, response)
    assert after.status_code == 200
    assert [kind for _, kind, _ in outcomes(after)] == ["invalid", "update"]
    assert outcomes(after)[0][2] == ["ExternalId: Another customer has this ExternalId."]
    assert not Customer.objects.filter(customer_number="CUST-1000").exists()
    assert Customer.objects.get(organization=tenant.org, customer_number="CUST-0042").company_name == \
        "Acme Wholesale Ltd."  # the row that passed was rolled back too
    assert "Nothing was imported" in after.content.decode()


def test_xlsx_with_numbers_booleans_and_attributes(staff_client, tenant):
    tenant.admin_api.post(f"/api/organizations/{tenant.org.id}/customerattributes",
                          {"Key": "Region", "Type": "string", "Required": False}, format="json")
    tenant.admin_api.post(f"/api/organizations/{tenant.org.id}/customerattributes",
                          {"Key": "Seats", "Type": "number", "Required": False}, format="json")
    headers = ["CustomerNumber", "CompanyName", "CompanyEmail", "Pricing", "Active", "Attribute.Region",
               "Attribute.Seats"]
    response = preview(staff_client, xlsx_file([[1001, "Numeric Co", "n@numeric.example", "Retail", False, "East", 12]],
                                               headers=headers), fmt=XLSX_FORMAT)
    assert outcomes(response) == [("1001", "new", [])]
    assert confirm(staff_client, response).status_code == 302
    made = Customer.objects.get(organization=tenant.org, customer_number="1001")
    assert (made.active, made.price_tier.code, made.attributes) == (False, "Retail", {"Region": "East", "Seats": 12})


def test_an_exported_list_imports_back_unchanged(staff_client, tenant):
    exported = staff_client.get("/admin/customers/customer/export/")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    upload = SimpleUploadedFile("export.csv", exported.content, content_type="text/csv")
    rows = outcomes(preview(staff_client, upload))
    assert sorted(rows) == [("CUST-0042", "skip", []), ("CUST-0099", "skip", [])]


def test_another_organizations_customer_with_the_same_number_is_never_touched(staff_client, tenant, other_tenant):
    theirs = Customer.objects.get(organization=other_tenant.org, customer_number="CUST-0042")
    response = confirm(staff_client, preview(staff_client, csv_file([CHANGED])))
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.company_name == "Acme Wholesale Ltd."
    assert Customer.objects.get(organization=tenant.org, customer_number="CUST-0042").company_name == \
        "Acme Wholesale Group"
    # Their rep numbers and tiers are not ours either: a rep of theirs only is refused like the API refuses it.
    other_tenant.admin_api.post(f"/api/organizations/{other_tenant.org.id}/pricetiers",
                                {"Code": "GlobexOnly", "Name": "x"}, format="json")
    refused = outcomes(preview(staff_client, csv_file([["CUST-3000", "X", "x@x.example", "GlobexOnly"] + [""] * 9])))
    assert refused == [("CUST-3000", "invalid", ["Pricing: No price tier 'GlobexOnly' in this organization."])]


@pytest.mark.parametrize("headers, message", [
    (["CustomerNumber", "CompanyName", "Colour"], "Unknown column 'Colour'."),
    (["CustomerNumber", "CompanyName"], "Missing columns: CompanyEmail, Pricing."),
    (HEADERS[:4] + ["Address1.Planet"], "Unknown column 'Address1.Planet'"),
    (HEADERS[:4] + ["Pricing"], "Column 'Pricing' is given twice."),
])
def test_wrong_columns_are_a_message_and_no_row_is_read(staff_client, tenant, headers, message):
    response = preview(staff_client, csv_file([["CUST-1"] * len(headers)], headers=headers))
    html = unescape(response.content.decode())
    assert "The file is refused" in html and message in html
    assert response.context.get("confirm_form") is None
    assert not Customer.objects.filter(customer_number="CUST-1").exists()


@pytest.mark.parametrize("upload, fmt", [
    (SimpleUploadedFile("x.xlsx", b"this is not a spreadsheet"), XLSX_FORMAT),
    (SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x00binary\x00junk"), CSV_FORMAT),
    (SimpleUploadedFile("x.csv", b"CustomerNumber,CompanyName\nA,B,C,D\n"), CSV_FORMAT),
    (SimpleUploadedFile("x.csv", b""), CSV_FORMAT),
])
def test_a_file_that_is_not_a_readable_spreadsheet_is_a_message(staff_client, tenant, upload, fmt):
    response = preview(staff_client, upload, fmt=fmt)
    errors = response.context["form"].errors.get("import_file")
    assert errors, response.content.decode()[:500]


def test_a_huge_file_or_too_many_rows_is_a_message(staff_client, tenant, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_BYTES", 1000)
    big = preview(staff_client, csv_file([NEW] * 20))
    assert "at most 1,000 are imported at once" in str(big.context["form"].errors["import_file"])
    monkeypatch.setattr(spreadsheets, "MAX_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)
    many = preview(staff_client, csv_file([NEW] * 4 + [[""] * len(HEADERS)] * 3))  # blank lines do not count
    assert "The file has 4 rows; at most 3 are imported at once" in many.content.decode()


def test_a_file_over_the_request_limit_is_a_413_with_its_reason(staff_client, tenant):
    response = staff_client.post(IMPORT, {"import_file": SimpleUploadedFile("big.csv", b"x" * (6 * 1024 * 1024)),
                                          "format": CSV_FORMAT})
    assert response.status_code == 413 and b"larger than" in response.content


def test_a_confirmation_naming_no_previewed_file_is_a_message(staff_client, tenant):
    response = staff_client.post(CONFIRM, {"import_file_name": "../../etc/passwd", "original_file_name": "x.csv",
                                           "format": CSV_FORMAT, "resource": ""})
    assert response.status_code == 200
    assert "no longer available" in response.content.decode()


def test_a_superuser_imports_into_the_organization_it_chooses(client, tenant, other_tenant, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@nymble.test", password="x" * 12)
    client.force_login(root)
    assert client.post(IMPORT, {"import_file": csv_file([NEW]), "format": CSV_FORMAT}).context["form"].errors[
        "organization"]
    response = preview(client, csv_file([NEW]), organization=str(other_tenant.org.pk))
    assert confirm(client, response).status_code == 302
    assert Customer.objects.get(customer_number="CUST-1000").organization == other_tenant.org


def test_the_import_page_documents_the_columns_and_the_list_links_to_it(staff_client, tenant):
    page = staff_client.get(IMPORT).content.decode()
    assert "Address1.Line1" in page and "Contact1.Email" in page and "Attribute.&lt;Key&gt;" in page
    changelist = staff_client.get("/admin/customers/customer/").content.decode()
    assert "/admin/customers/customer/import/" in changelist
    assert 'href="/admin/customers/customer/export/' in changelist and "Add customer" in changelist
