"""The back office as a staff user works it, in a real browser (headless Chromium), through the
admin's own links, forms and action buttons:

1. The demo organization's staff admin logs in, finds Northwind by search, changes its shipping city,
   deactivates it with the changelist action (its portal token stops working), opens the plan with
   its rules and tests a line, then works last month's statement for REP-003: the seed left a Draft
   for that period, so generating again is refused with a message; the admin voids that Draft,
   generates a fresh one, approves it, opens the printable statement and exports the CSV, whose
   lines add up to the statement's total.
2. Another organization's staff admin finds none of it: not in its changelists, not in the generate
   page's reps, and the direct URLs are refused (the admin's "doesn't exist" redirect, or a 404).

Screenshots of the main pages go to $E2E_ARTIFACTS (default e2e/artifacts/).
"""
import csv
import io
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.core.management import call_command

from commissions.models import CommissionPlan, CommissionStatement, StatementEvent
from commissions.plans.services import plan_create
from customers.models import Address, Customer
from customers.services import customer_create
from e2e.conftest import browser_missing
from nymble.management.commands.seed_demo import ADMIN_EMAIL, ORG_CODE, PASSWORD, PORTAL_EMAIL
from nymble.models import Organization, User
from nymble.services import organization_create, price_tier_create
from salesreps.services import sales_rep_create

pytestmark = [
    pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or ""),
    pytest.mark.django_db(transaction=True),
]

OTHER_ADMIN = "admin@globex.e2e.test"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(org_code=ORG_CODE)


@pytest.fixture
def globex(db):
    """A second organization with a staff admin, a rep with an active plan and a customer of its own."""
    org = organization_create(name="Globex Trading", org_code="GLOBEX", admin_email=OTHER_ADMIN,
                              admin_password=PASSWORD)
    User.objects.filter(email=OTHER_ADMIN).update(is_staff=True)
    rep = sales_rep_create(organization=org, rep_number="GLX-001", first_name="Gina", last_name="Lopez",
                           email="gina.lopez@globex.e2e.test", password=PASSWORD)
    tier = price_tier_create(organization=org, code="Wholesale", name="Wholesale")
    customer_create(organization=org, customer_number="GLX-CUST-1", company_name="Globex Hardware", sales_rep=rep,
                    price_tier=tier, terms="Net30")
    plan_create(organization=org, sales_rep=rep, name="Globex Standard", default_rate=Decimal("0.04"), active=True)
    return org


# ---------------------------------------------------------------- helpers


def log_in(web, email: str) -> None:
    web.open("/admin/login/")
    web.type_into("#id_username", email)
    web.type_into("#id_password", PASSWORD)
    web.click(web.css("input[type=submit]"))
    assert web.path == "/admin/", f"login as {email} failed: {web.text[:300]}"


def go_to(web, model: str) -> None:
    """From the admin index, through the app list's link to the model ("customers/customer")."""
    web.open("/admin/")
    web.click(web.css(f"#content-main a[href='/admin/{model}/']"))


def breadcrumb_to(web, model: str) -> None:
    web.click(web.css(f".breadcrumbs a[href='/admin/{model}/']"))


def changelist_rows(web) -> list:
    return web.all_css("#result_list tbody tr")


def row_with(web, text: str):
    return web.xpath(f"//table[@id='result_list']//tr[td[normalize-space()='{text}'] or th[normalize-space()='{text}']]")


def api(live_server, method: str, path: str, *, body=None, token=None, cookie=None) -> tuple[int, bytes]:
    request = urllib.request.Request(live_server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if cookie:
        request.add_header("Cookie", f"sessionid={cookie}")
    try:
        with NO_PROXY.open(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def portal_token(live_server) -> str:
    status, body = api(live_server, "POST", "/api/auth/token",
                       body={"Email": PORTAL_EMAIL, "Password": PASSWORD, "OrgCode": ORG_CODE})
    assert status == 200, body
    return json.loads(body)["AccessToken"]


# ---------------------------------------------------------------- 1. the staff user's day


def test_staff_admin_works_customers_plans_and_statements(web, live_server, demo, globex):
    northwind = Customer.objects.get(organization=demo, customer_number="CUST-0010")
    token = portal_token(live_server)
    assert api(live_server, "GET", "/api/customers", token=token)[0] == 200

    log_in(web, ADMIN_EMAIL)
    assert "Nymble back office" in web.text
    web.screenshot("01-admin-index")

    # -- find Northwind by search; the other organization's customer is nowhere
    go_to(web, "customers/customer")
    assert "Globex Hardware" not in web.text
    web.type_into("#searchbar", "Northwind")
    web.click(web.css("#changelist-search input[type=submit]"))
    assert [r.text.split()[0] for r in changelist_rows(web)] == ["CUST-0010"]
    web.screenshot("02-customers-search-northwind")

    # -- edit the shipping address's city and save
    web.click(web.link("Northwind Traders"))
    city = web.css("input[name$='-city']")
    assert city.get_attribute("value") == "Chicago"
    web.screenshot("03-customer-change-form")
    city.clear()
    city.send_keys("Evanston")
    web.click(web.css("input[name=_save]"))
    assert any("was changed successfully" in m for m in web.messages()), web.messages()
    assert Address.objects.get(customer=northwind).city == "Evanston"
    web.click(web.link("Northwind Traders"))  # the changelist kept the search
    assert web.css("input[name$='-city']").get_attribute("value") == "Evanston"

    # -- deactivate it with the changelist action: Active goes off and the portal token dies
    breadcrumb_to(web, "customers/customer")
    web.type_into("#searchbar", "Northwind")
    web.click(web.css("#changelist-search input[type=submit]"))
    web.run_action("deactivate", rows=[row_with(web, "CUST-0010")])
    assert "Deactivated 1 customer(s)." in web.messages()
    northwind.refresh_from_db()
    assert northwind.active is False
    active_icon = row_with(web, "CUST-0010").find_element(web.By.CSS_SELECTOR, "td.field-active img")
    assert active_icon.get_attribute("alt") == "False"
    assert api(live_server, "GET", "/api/customers", token=token)[0] == 401
    web.screenshot("04-customers-after-deactivate")

    # -- the plan, its rules inline, and "test a line"
    go_to(web, "commissions/commissionplan")
    web.click(web.link("Standard Wholesale Rate"))
    rule_names = [i.get_attribute("value")
                  for i in web.all_css("input[name^='rules-'][name$='-name']:not([name*='__prefix__'])")]
    assert rule_names == ["Widgets", "Big lines"], rule_names
    assert "CUST-0043 Bolt & Nut Supply" in web.css("#overrides-group").text  # the customer override, inline
    web.screenshot("05-plan-with-rules")
    web.click(web.link("Which rule wins for a line? →"))
    web.type_into("#id_sku", "WDG-100-BLU")
    web.type_into("#id_product_name", "Widget, blue")
    web.type_into("#id_customer_number", "CUST-0010")
    web.type_into("#id_amount", "100.00")
    web.click(web.css("input[type=submit][value='Which rule wins?']"))
    result = web.css("#content").text
    assert "Widgets" in result and "8.00" in result, result
    web.screenshot("06-plan-test-a-line")

    # -- statements: the seed's Draft holds last month, so a second generation is refused
    seeded = CommissionStatement.objects.get(organization=demo, sales_rep__rep_number="REP-003")
    start, end = seeded.period_start.isoformat(), seeded.period_end.isoformat()
    go_to(web, "commissions/commissionstatement")
    assert len(changelist_rows(web)) == 1
    web.screenshot("07-statements-changelist-seeded")

    def generate_for_rep_007():
        web.click(web.css(".object-tools a[href$='/commissionstatement/generate/']"))
        assert web.css("#id_period_start").get_attribute("value") and web.css("#id_period_end").get_attribute("value")
        labels = [label.text for label in web.all_css("#id_reps label")]
        assert any("REP-003" in label for label in labels) and not any("GLX-001" in label for label in labels), labels
        web.xpath("//div[@id='id_reps']//label[contains(., 'REP-003')]//input").click()
        web.set_value("#id_period_start", start)
        web.set_value("#id_period_end", end)
        web.screenshot("08-generate-form")
        web.click(web.css("input[type=submit][value='Generate statements']"))

    generate_for_rep_007()
    assert any(m.startswith("REP-003: refused") for m in web.messages()), web.messages()
    assert web.path.startswith("/admin/commissions/commissionstatement/")
    web.screenshot("09-generate-refused")

    # void the seed's Draft with the action, then generate again
    web.run_action("void", rows=[row_with(web, "Draft")])
    assert "Voided 1 statement(s)." in web.messages()
    generate_for_rep_007()
    done = [m for m in web.messages() if m.startswith("REP-003: Draft statement")]
    assert done, web.messages()
    fresh = CommissionStatement.objects.get(organization=demo, sales_rep__rep_number="REP-003", status="Draft")
    assert fresh.pk != seeded.pk and fresh.total == seeded.total > 0
    assert f"total {fresh.total} " in done[0]
    web.screenshot("10-statements-after-generate")

    # approve it with the action
    web.run_action("approve", rows=[row_with(web, "Draft")])
    assert "Approved 1 statement(s)." in web.messages(), web.messages()
    fresh.refresh_from_db()
    assert fresh.status == "Approved"
    assert StatementEvent.objects.filter(statement=fresh, type="Approved", actor=ADMIN_EMAIL).exists()
    web.screenshot("11-statements-after-approve")

    # its page: entries, lines, events, and the documents
    web.click(row_with(web, "Approved").find_element(web.By.CSS_SELECTOR, "th a, td a"))
    assert web.path == f"/admin/commissions/commissionstatement/{fresh.pk}/change/"
    assert web.css(".field-status .readonly").text == "Approved"
    assert web.css(".field-total .readonly").text == str(fresh.total)
    assert len(web.all_css("#entries-group td.field-invoice_link a")) == fresh.entries.count()
    events = web.css("#events-group").text
    assert "Created" in events and "Approved" in events, events
    web.screenshot("12-statement-change-page")

    # the printable statement opens in a new tab
    main_window = web.driver.current_window_handle
    web.link("Printable statement").click()
    web.wait.until(lambda d: len(d.window_handles) == 2)
    web.driver.switch_to.window([h for h in web.driver.window_handles if h != main_window][0])
    web.wait_loaded()
    assert web.path == f"/admin/commissions/commissionstatement/{fresh.pk}/print/"
    printed = web.text
    assert "Commission statement" in printed and "REP-003" in printed and f"{fresh.total} USD" in printed, printed
    assert "admin@demo.nymble.test" in printed  # the approval in the history
    web.screenshot("13-statement-printable")
    assert web.pdf("13-statement-printable").startswith(b"%PDF")
    web.driver.close()
    web.driver.switch_to.window(main_window)

    # export the CSV with the changelist action: a download that reconciles with the total
    go_to(web, "commissions/commissionstatement")
    before = {p.name for p in web.downloads.iterdir()}
    old = web.css("html")
    web.run_action("export_csv", rows=[row_with(web, "Approved")], new_page=False)
    download = web.downloaded(".csv", before=before)
    assert download.name == f"statement-REP-003-{fresh.period_start:%Y-%m}.csv"
    assert not web.is_stale(old)  # a download, not a new page
    rows = list(csv.DictReader(io.StringIO(download.read_text(encoding="utf-8"))))
    assert len(rows) == fresh.lines.count() > 0
    assert sum(Decimal(r["Commission"]) for r in rows) == fresh.total
    assert {r["InvoiceNumber"] for r in rows} == set(fresh.entries.values_list("invoice_number", flat=True))
    # the statement page's "Download CSV" button serves the same file
    status, body = api(live_server, "GET", f"/admin/commissions/commissionstatement/{fresh.pk}/export.csv",
                       cookie=web.session_cookie())
    assert status == 200 and body == download.read_bytes()


# ---------------------------------------------------------------- 2. another organization


def test_another_organizations_staff_admin_sees_none_of_it(web, live_server, demo, globex):
    northwind = Customer.objects.get(organization=demo, customer_number="CUST-0010")
    plan = CommissionPlan.objects.get(organization=demo, name="Standard Wholesale Rate")
    statement = CommissionStatement.objects.get(organization=demo)
    marcus = statement.sales_rep

    log_in(web, OTHER_ADMIN)

    go_to(web, "customers/customer")
    assert [r.text.split()[0] for r in changelist_rows(web)] == ["GLX-CUST-1"]
    web.type_into("#searchbar", "Northwind")
    web.click(web.css("#changelist-search input[type=submit]"))
    assert changelist_rows(web) == [] and "0 results" in web.text
    web.screenshot("20-other-org-customers-search-northwind")

    go_to(web, "commissions/commissionplan")
    assert "Globex Standard" in web.text and "Standard Wholesale Rate" not in web.text

    go_to(web, "commissions/commissionstatement")
    assert changelist_rows(web) == [] and "REP-003" not in web.text
    web.click(web.css(".object-tools a[href$='/commissionstatement/generate/']"))
    reps = [label.text for label in web.all_css("#id_reps label")]
    assert len(reps) == 1 and "GLX-001" in reps[0], reps
    # a forged choice (the other organization's rep) is refused by the form, nothing is generated
    web.driver.execute_script("document.querySelector('#id_reps input').value = arguments[0];", str(marcus.pk))
    web.css("#id_reps input").click()
    web.click(web.css("input[type=submit][value='Generate statements']"))
    assert "Select a valid choice" in web.text
    assert CommissionStatement.objects.count() == 1

    # the change pages, opened by URL: the admin's "doesn't exist" redirect to its index
    for url, name in ((f"/admin/customers/customer/{northwind.pk}/change/", "Customer"),
                      (f"/admin/commissions/commissionplan/{plan.pk}/change/", "Commission plan"),
                      (f"/admin/commissions/commissionstatement/{statement.pk}/change/", "Commission statement")):
        web.open(url)
        assert web.path == "/admin/", (url, web.path)
        assert any(m.startswith(f"{name} with ID") and "doesn’t exist" in m for m in web.messages()), web.messages()
        assert "Northwind" not in web.text and "Dana" not in web.text

    # the printable statement, its CSV and the plan's test page: 404
    for url in (f"/admin/commissions/commissionstatement/{statement.pk}/print/",
                f"/admin/commissions/commissionstatement/{statement.pk}/export.csv",
                f"/admin/commissions/commissionplan/{plan.pk}/test-line/"):
        web.open(url)
        assert "Page not found" in web.text, (url, web.text[:200])  # the admin's own 404 page
        assert "Dana" not in web.text and "REP-003" not in web.text
        status, _ = api(live_server, "GET", url, cookie=web.session_cookie())
        assert status == 404, url
    web.screenshot("21-other-org-print-404")
