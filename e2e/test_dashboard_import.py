"""The admin's dashboard and a customer import in a real browser (headless Chromium) at 1440×900.

1. The demo's staff admin opens the admin: the dashboard's charts have drawn the demo's sales (bars
   of non-zero height, from the vendored Chart.js), its last-month statement waits for approval, and
   the page fits 1440 pixels.
2. The admin imports customers from a CSV with one refused row: the preview lists every row (new,
   changed, refused with the reason) and offers no confirmation; the corrected file's preview is
   confirmed and the customers are there.

Screenshots go to $E2E_ARTIFACTS (default e2e/artifacts/): 30-dashboard, 31-import-refused,
32-import-preview, 33-import-done.
"""
import io

import pytest
from django.core.management import call_command

from customers.models import Customer
from e2e.conftest import browser_missing
from nymble.management.commands.seed_demo import ADMIN_EMAIL, ORG_CODE, PASSWORD
from nymble.models import Organization

pytestmark = [
    pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or ""),
    pytest.mark.django_db(transaction=True),
]

HEADERS = "CustomerNumber,CompanyName,CompanyEmail,Pricing,Terms,Address1.Type,Address1.Line1,Address1.City"


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(org_code=ORG_CODE)


@pytest.fixture
def wide(web):
    web.driver.set_window_size(1440, 900)
    yield web
    web.driver.set_window_size(1366, 900)


def log_in(web) -> None:
    web.open("/admin/login/")
    web.type_into("#id_username", ADMIN_EMAIL)
    web.type_into("#id_password", PASSWORD)
    web.click(web.css("input[type=submit]"))
    assert web.path == "/admin/", web.text[:300]


def test_the_dashboard_draws_its_charts_at_1440(wide, demo):
    web = wide
    log_in(web)
    drawn = web.driver.execute_script("""
        return [...document.querySelectorAll('.nymble-dashboard canvas')].map(function (canvas) {
            var chart = canvas.chart;
            if (!chart) { return null; }
            var bars = chart.getDatasetMeta(0).data;
            return {id: canvas.id, bars: bars.length,
                    tallest: Math.max.apply(null, bars.map(function (b) { return Math.abs(b.base - (b.horizontal ? b.x : b.y)) || b.width || 0; })),
                    total: chart.data.datasets.reduce(function (s, d) { return s + d.data.reduce(function (a, b) { return a + b; }, 0); }, 0)};
        });""")
    by_id = {chart["id"]: chart for chart in drawn if chart}
    sales = by_id["chart-sales-by-month"]
    assert sales["bars"] == 12 and sales["total"] > 0 and sales["tallest"] > 10, drawn
    assert by_id["chart-rep-sales"]["total"] > 0, drawn
    assert web.css("#dash-statements-waiting").text == "1"
    assert "REP-003" in web.css("#dash-statements").text
    assert web.driver.execute_script("return document.documentElement.scrollWidth") <= 1440
    assert web.css("#content-main a[href='/admin/customers/customer/']")  # the app list is still there
    web.screenshot("30-dashboard")


def upload(web, text: str, name: str) -> None:
    from selenium.webdriver.support.ui import Select

    path = web.downloads / name
    path.write_text(text)
    web.css("input[name=import_file]").send_keys(str(path))
    Select(web.css("select[name=format]")).select_by_visible_text("csv")
    web.click(web.css("#upload-import input[type=submit]"))


def test_an_import_with_a_refused_row_then_the_corrected_file(wide, demo):
    web = wide
    log_in(web)
    web.open("/admin/customers/customer/")
    web.click(web.css("a.import_link"))
    rows = ["CUST-7001,Harbor Tools,buy@harbor.example,Wholesale,Net30,Shipping,1 Dock St,Boston",
            "CUST-7002,Bad Tier Co,bad@tier.example,Platinum,Net30,,,"]
    upload(web, "\n".join([HEADERS, *rows]) + "\n", "refused.csv")
    preview = web.css("#import-preview").text
    assert "CUST-7001" in preview and "new" in preview
    assert "refused" in preview and "Pricing: No price tier 'Platinum' in this organization." in preview
    assert not web.all_css("#confirm-import")
    web.screenshot("31-import-refused")

    rows[1] = "CUST-7002,Good Tier Co,good@tier.example,Retail,COD,,,"
    upload(web, "\n".join([HEADERS, *rows]) + "\n", "corrected.csv")
    assert "2 new, 0 changed, 0 unchanged, 0 refused" in web.text
    web.screenshot("32-import-preview")
    web.click(web.css("#confirm-import input[type=submit]"))
    assert web.path.startswith("/admin/customers/customer/")
    assert web.messages() == ["Imported 2 rows: 2 new, 0 changed, 0 unchanged."]
    web.screenshot("33-import-done")
    made = Customer.objects.get(organization=demo, customer_number="CUST-7001")
    assert [a.city for a in made.addresses.all()] == ["Boston"]
    assert Customer.objects.get(organization=demo, customer_number="CUST-7002").price_tier.code == "Retail"
