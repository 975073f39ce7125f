"""§6 worked through the API, a test per sentence: orders with sales credits, invoices, payments and
credit memos are made as a client would; the statements are generated and read as a client would.

The organization lives in America/Chicago; every amount below is worked by hand in its comment.
"""
from decimal import Decimal

import pytest
from django.test import TestCase

from commissions.tests.test_statement_api import eager_tasks  # noqa: F401  (tasks in-process)
from orders.tests.conftest import add_product

pytestmark = pytest.mark.django_db

STATEMENTS = "/api/commissions/statements"
PLANS = "/api/commissions/plans"


@pytest.fixture
def shop(tenant):
    return make_shop(tenant)


def make_shop(tenant):
    """A priced catalog: a 20,000.00 machine, a 2.50 widget, a 100.00 gadget, a 1.00 pen."""
    add_product(tenant.org, "BIG-1", "Big machine", [("Wholesale", 1, "20000.00")])
    add_product(tenant.org, "WDG-1", "Widget", [("Wholesale", 1, "2.50")])
    add_product(tenant.org, "GAD-1", "Gadget", [("Wholesale", 1, "100.00")])
    add_product(tenant.org, "PEN-1", "Pen", [("Wholesale", 1, "1.00")])
    return tenant


def plan(tenant, rep=None, **fields) -> dict:
    rep = rep or tenant.rep
    body = {"SalesRepId": str(rep.sales_rep_id), "Name": f"Plan of {rep.rep_number}", "DefaultRate": "0.10",
            "Active": True, **fields}
    response = tenant.admin_api.post(PLANS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def order(tenant, items, credits=None, customer="CUST-0042") -> dict:
    body = {"Customer": {"CustomerNumber": customer}, "Items": [{"Sku": s, "Quantity": q} for s, q in items]}
    if credits is not None:
        body["SalesCredits"] = [{"RepNumber": number, "Share": share} for number, share in credits]
    response = tenant.admin_api.post("/api/orders", body, format="json")
    assert response.status_code == 201, response.json()
    invoice = tenant.admin_api.post(f"/api/orders/{response.json()['OrderId']}/invoice")
    assert invoice.status_code == 201, invoice.json()
    return invoice.json()


def pay(tenant, invoice, amount, when) -> dict:
    response = tenant.admin_api.post(f"/api/invoices/{invoice['InvoiceId']}/payments",
                                     {"Amount": amount, "PaidAt": when, "Reference": "wire"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def credit(tenant, invoice, sku, quantity, day) -> None:
    response = tenant.admin_api.post(f"/api/invoices/{invoice['InvoiceId']}/credit-memos",
                                     {"CreditDate": day, "Reason": "return", "Lines": [{"Sku": sku, "Quantity": quantity}]},
                                     format="json")
    assert response.status_code == 201, response.json()


def statement(tenant, rep, start, end, **extra) -> dict:
    """Generated as a client sees it: the POST (202 inside a test's transaction), the generation that
    runs after commit, then the statement fetched."""
    body = {"SalesRepId": str(rep.sales_rep_id), "PeriodStart": start, "PeriodEnd": end, **extra}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = tenant.admin_api.post(STATEMENTS, body, format="json")
    assert response.status_code in (201, 202), response.json()
    made = tenant.admin_api.get(f"{STATEMENTS}/{response.json()['CommissionStatementId']}").json()
    assert made["Status"] == "Draft", made
    return made


def lines(doc) -> list[dict]:
    return [line for entry in doc["Entries"] for line in entry["Lines"]]


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


MARCH, APRIL, MAY = ("2026-03-01", "2026-03-31"), ("2026-04-01", "2026-04-30"), ("2026-05-01", "2026-05-31")


# ---------------------------------------------------------------- credited amounts


def test_each_rep_is_credited_its_share_rounded_and_the_last_takes_the_remainder(shop):
    """100.00 split 1/3, 1/3, 1/3: 33.33, 33.33 and the last 100.00 − 66.66 = 33.34."""
    from salesreps.tests.factories import SalesRepFactory

    third_rep = SalesRepFactory(organization=shop.org, rep_number="REP-020")
    for rep in (shop.rep, shop.other_rep, third_rep):
        plan(shop, rep)
    invoice = order(shop, [("GAD-1", 1)], credits=[("REP-007", "0.3333"), ("REP-012", "0.3333"), ("REP-020", "0.3334")])
    pay(shop, invoice, "100.00", "2026-03-10T12:00:00-06:00")
    amounts = [lines(statement(shop, rep, *MARCH))[0]["LineAmount"] for rep in (shop.rep, shop.other_rep, third_rep)]
    assert [money(a) for a in amounts] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(money(a) for a in amounts) == Decimal("100.00")
    assert [lines(statement(shop, shop.rep, *APRIL))] == [[]]


def test_left_out_credits_are_the_primary_rep_whole_and_the_order_shows_them(shop):
    invoice = order(shop, [("GAD-1", 2)])
    shown = shop.admin_api.get(f"/api/orders/{invoice['OrderId']}").json()["SalesCredits"]
    assert shown == [{"RepNumber": "REP-007", "Share": 1, "FirstName": "Marcus", "LastName": "Chen",
                      "Email": shop.rep.email, "PhoneNumber": shop.rep.phone_number}]


def test_sales_credits_are_admins_and_must_add_up_to_one(shop):
    body = {"Customer": {"CustomerNumber": "CUST-0042"}, "Items": [{"Sku": "GAD-1", "Quantity": 1}]}
    for credits, field in (([("REP-007", "0.5"), ("REP-012", "0.4")], "SalesCredits"),
                           ([("REP-007", "0.5"), ("REP-007", "0.5")], "SalesCredits[1].RepNumber"),
                           ([("REP-999", "1")], "SalesCredits[0].RepNumber"),
                           ([("REP-007", "0")], "SalesCredits[0].Share"),
                           ([("REP-007", "0.00005"), ("REP-012", "0.99995")], "SalesCredits[0].Share")):
        wire = {**body, "SalesCredits": [{"RepNumber": n, "Share": s} for n, s in credits]}
        refused = shop.admin_api.post("/api/orders", wire, format="json")
        assert refused.status_code == 400 and field in refused.json()["errors"], (credits, refused.json())
    as_rep = shop.rep_api.post("/api/orders", {**body, "SalesCredits": [{"RepNumber": "REP-007", "Share": 1}]},
                               format="json")
    assert as_rep.status_code == 400 and "SalesCredits" in as_rep.json()["errors"]
    from salesreps.services import sales_rep_set_active

    sales_rep_set_active(rep=shop.other_rep, active=False)
    inactive = shop.admin_api.post("/api/orders", {**body, "SalesCredits": [{"RepNumber": "REP-012", "Share": 1}]},
                                   format="json")
    assert "SalesCredits[0].RepNumber" in inactive.json()["errors"]


def test_credits_are_replaced_until_a_line_is_commissioned(shop):
    plan(shop)
    invoice = order(shop, [("GAD-1", 1)])
    path = f"/api/orders/{invoice['OrderId']}/sales-credits"
    body = {"SalesCredits": [{"RepNumber": "REP-012", "Share": "0.25"}, {"RepNumber": "REP-007", "Share": "0.75"}]}
    assert shop.rep_api.put(path, body, format="json").status_code == 403
    replaced = shop.admin_api.put(path, body, format="json")
    assert replaced.status_code == 200, replaced.json()
    assert [(c["RepNumber"], c["Share"]) for c in replaced.json()["SalesCredits"]] == [("REP-012", 0.25),
                                                                                      ("REP-007", 0.75)]
    pay(shop, invoice, "100.00", "2026-03-10T12:00:00-06:00")
    made = statement(shop, shop.rep, *MARCH)
    assert lines(made)[0]["LineAmount"] == 75.00 and lines(made)[0]["Share"] == 0.75
    locked = shop.admin_api.put(path, {"SalesCredits": [{"RepNumber": "REP-007", "Share": 1}]}, format="json")
    assert locked.status_code == 409
    shop.admin_api.post(f"{STATEMENTS}/{made['CommissionStatementId']}/void")
    assert shop.admin_api.put(path, {"SalesCredits": [{"RepNumber": "REP-007", "Share": 1}]},
                              format="json").status_code == 200


# ---------------------------------------------------------------- earning: Invoice basis


def test_invoice_basis_earns_once_when_paid_in_full_dated_by_paid_at(shop):
    """20,000.00 at 10%, paid 10,000 in March and 10,000 in April: nothing in March, 2,000.00 in April."""
    plan(shop)
    invoice = order(shop, [("BIG-1", 1)])
    pay(shop, invoice, "10000.00", "2026-03-20T12:00:00-05:00")
    pay(shop, invoice, "10000.00", "2026-04-30T23:30:00-05:00")  # still April 30 in Chicago
    assert lines(statement(shop, shop.rep, *MARCH)) == []
    april = statement(shop, shop.rep, *APRIL)
    [line] = lines(april)
    assert (line["LineAmount"], line["Commission"], line["LineDate"], line["PaymentId"]) == (
        20000.00, 2000.00, "2026-04-30", None)


# ---------------------------------------------------------------- earning: Payment basis


def test_payment_basis_earns_each_payment_in_the_month_it_arrives(shop):
    """The issue's example: 20,000.00 at 20% paid as two 10,000.00 payments earns 2,000.00 + 2,000.00."""
    plan(shop, DefaultRate="0.20", CommissionBasis="Payment")
    invoice = order(shop, [("BIG-1", 1)])
    first = pay(shop, invoice, "10000.00", "2026-03-20T12:00:00-05:00")["Payments"][0]
    second = pay(shop, invoice, "10000.00", "2026-04-02T12:00:00-05:00")["Payments"][1]
    [march] = lines(statement(shop, shop.rep, *MARCH))
    [april] = lines(statement(shop, shop.rep, *APRIL))
    assert (march["LineAmount"], march["Commission"], march["PaymentId"], march["LineDate"]) == (
        10000.00, 2000.00, first["PaymentId"], "2026-03-20")
    assert (april["LineAmount"], april["Commission"], april["PaymentId"], april["LineDate"]) == (
        10000.00, 2000.00, second["PaymentId"], "2026-04-02")


def test_payment_shares_are_differences_of_rounded_cumulative_parts(shop):
    """A rep credited 0.3333 of 100.00 = 33.33; payments 10.00, 45.55, 44.45 of T = 100.00:
    round(33.33 × 10/100) = 3.33; round(33.33 × 55.55/100) = 18.51 → 15.18; 33.33 − 18.51 = 14.82."""
    plan(shop, CommissionBasis="Payment")
    plan(shop, shop.other_rep)
    invoice = order(shop, [("GAD-1", 1)], credits=[("REP-007", "0.3333"), ("REP-012", "0.6667")])
    for amount, day in (("10.00", "03-05"), ("45.55", "03-06"), ("44.45", "03-07")):
        pay(shop, invoice, amount, f"2026-{day}T12:00:00-06:00")
    made = lines(statement(shop, shop.rep, *MARCH))
    assert [money(line["LineAmount"]) for line in made] == [Decimal("3.33"), Decimal("15.18"), Decimal("14.82")]
    assert sum(money(line["LineAmount"]) for line in made) == Decimal("33.33")


def test_the_payments_list_shows_recording_order_with_payment_ids(shop):
    invoice = order(shop, [("GAD-1", 1)])
    pay(shop, invoice, "60.00", "2026-03-20T12:00:00-05:00")
    after = pay(shop, invoice, "40.00", "2026-03-01T12:00:00-06:00")  # dated earlier, recorded later
    assert [p["Amount"] for p in after["Payments"]] == [60.00, 40.00]
    assert all(p["PaymentId"] for p in after["Payments"])


def test_a_line_that_began_by_payments_finishes_by_payments_after_a_basis_switch(shop):
    """Half paid in March under Payment basis; the plan switches to Invoice; the April payment still
    earns its share by payment, and nothing is commissioned twice or lost."""
    made = plan(shop, CommissionBasis="Payment")
    invoice = order(shop, [("BIG-1", 1)])
    pay(shop, invoice, "10000.00", "2026-03-20T12:00:00-05:00")
    assert [line["LineAmount"] for line in lines(statement(shop, shop.rep, *MARCH))] == [10000.00]
    switched = shop.admin_api.patch(f"{PLANS}/{made['CommissionPlanId']}", {"CommissionBasis": "Invoice"}, format="json")
    assert switched.status_code == 200
    pay(shop, invoice, "10000.00", "2026-04-02T12:00:00-05:00")
    [april] = lines(statement(shop, shop.rep, *APRIL))
    assert (april["LineAmount"], april["Commission"]) == (10000.00, 1000.00) and april["PaymentId"]


def test_a_line_that_earned_whole_is_done_whatever_the_basis_later(shop):
    made = plan(shop)
    invoice = order(shop, [("GAD-1", 1)])
    pay(shop, invoice, "100.00", "2026-03-20T12:00:00-05:00")
    assert len(lines(statement(shop, shop.rep, *MARCH))) == 1
    shop.admin_api.patch(f"{PLANS}/{made['CommissionPlanId']}", {"CommissionBasis": "Payment"}, format="json")
    assert lines(statement(shop, shop.rep, "2026-01-01", "2026-02-28", IncludeEarlier=True)) == []
    assert lines(statement(shop, shop.rep, *APRIL, IncludeEarlier=True)) == []


# ---------------------------------------------------------------- eligibility and windows


def test_include_earlier_catches_what_no_live_statement_took(shop):
    plan(shop)
    march = order(shop, [("GAD-1", 1)])
    pay(shop, march, "100.00", "2026-03-20T12:00:00-05:00")
    assert [line["LineDate"] for line in lines(statement(shop, shop.rep, *APRIL))] == []
    caught = statement(shop, shop.rep, *MAY, IncludeEarlier=True)
    assert [line["LineDate"] for line in lines(caught)] == ["2026-03-20"]


def test_a_line_outside_the_plan_window_is_left_out_and_stays_eligible(shop):
    made = plan(shop, EffectiveStartDate="2026-03-15")
    early = order(shop, [("GAD-1", 1)])
    pay(shop, early, "100.00", "2026-03-10T12:00:00-05:00")
    assert lines(statement(shop, shop.rep, *MARCH)) == []
    shop.admin_api.patch(f"{PLANS}/{made['CommissionPlanId']}", {"EffectiveStartDate": None}, format="json")
    assert [line["Commission"] for line in lines(statement(shop, shop.rep, *APRIL, IncludeEarlier=True))] == [10.00]


# ---------------------------------------------------------------- rates, per-unit, Min/Max against the whole line


def test_min_line_amount_is_checked_against_the_whole_line_not_the_credit(shop):
    """A 100.00 line split in halves: each rep's 50.00 is below MinLineAmount 80, the line is not."""
    plan(shop, Rules=[{"Priority": 1, "Name": "Big lines", "Rate": "0.05", "Match": {"MinLineAmount": "80.00"}}])
    plan(shop, shop.other_rep)
    invoice = order(shop, [("GAD-1", 1)], credits=[("REP-007", "0.5"), ("REP-012", "0.5")])
    pay(shop, invoice, "100.00", "2026-03-20T12:00:00-05:00")
    [line] = lines(statement(shop, shop.rep, *MARCH))
    assert (line["LineAmount"], line["RateSource"], line["Commission"]) == (50.00, "Rule: Big lines", 2.50)


def test_a_per_unit_rule_pays_quantity_times_amount_times_the_part_carried(shop):
    """8 pens at 1.00 with 0.25 per unit, credited 3/4: B = 8 × 0.25 × (6.00 / 8.00) = 1.50."""
    plan(shop, Rules=[{"Priority": 1, "Name": "Pens", "AmountPerUnit": "0.25", "Match": {"SkuPatterns": ["PEN-*"]}}])
    plan(shop, shop.other_rep)
    invoice = order(shop, [("PEN-1", 8)], credits=[("REP-007", "0.75"), ("REP-012", "0.25")])
    pay(shop, invoice, "8.00", "2026-03-20T12:00:00-05:00")
    [line] = lines(statement(shop, shop.rep, *MARCH))
    assert (line["Rate"], line["AmountPerUnit"], line["LineAmount"], line["Commission"]) == (None, 0.25, 6.00, 1.50)


def test_a_rule_pays_a_rate_or_an_amount_per_unit_never_both_or_neither(shop):
    body = {"SalesRepId": str(shop.rep.sales_rep_id), "Name": "Bad", "DefaultRate": "0.1"}
    for rule in ({"Priority": 1, "Name": "both", "Rate": "0.1", "AmountPerUnit": "1"}, {"Priority": 1, "Name": "none"}):
        refused = shop.admin_api.post(PLANS, {**body, "Rules": [rule]}, format="json")
        assert refused.status_code == 400 and "Rules[0].Rate" in refused.json()["errors"], refused.json()


def test_half_a_cent_rounds_up_and_its_clawback_mirrors_it(shop):
    """A 2.50 line at 5% is 0.125 → 0.13; returning it claws back −0.13."""
    plan(shop, DefaultRate="0.05")
    invoice = order(shop, [("WDG-1", 1)])
    pay(shop, invoice, "2.50", "2026-03-20T12:00:00-05:00")
    assert [line["Commission"] for line in lines(statement(shop, shop.rep, *MARCH))] == [0.13]
    credit(shop, invoice, "WDG-1", 1, "2026-04-03")
    april = statement(shop, shop.rep, *APRIL)
    [clawback] = lines(april)
    assert (clawback["Quantity"], clawback["LineAmount"], clawback["Commission"]) == (-1, -2.50, -0.13)
    assert clawback["RateSource"] == "Clawback (Plan default)" and april["SalesTotal"] == 0


def test_a_clawback_of_a_split_line_takes_the_reps_credit_of_the_returned_units(shop):
    """3 gadgets (300.00) credited 0.3333 / 0.6667: REP-007 99.99, REP-012 200.01. One returned (100.00):
    REP-007's credit of it round(100 × 0.3333) = 33.33 at 10% → −3.33; REP-012's the rest, 66.67 → −6.67."""
    plan(shop)
    plan(shop, shop.other_rep)
    invoice = order(shop, [("GAD-1", 3)], credits=[("REP-007", "0.3333"), ("REP-012", "0.6667")])
    pay(shop, invoice, "300.00", "2026-03-20T12:00:00-05:00")
    assert lines(statement(shop, shop.rep, *MARCH))[0]["LineAmount"] == 99.99
    assert lines(statement(shop, shop.other_rep, *MARCH))[0]["LineAmount"] == 200.01
    credit(shop, invoice, "GAD-1", 1, "2026-04-03")
    [clawback] = lines(statement(shop, shop.rep, *APRIL))
    assert (clawback["LineAmount"], clawback["Commission"]) == (-33.33, -3.33)
    [theirs] = lines(statement(shop, shop.other_rep, *APRIL))
    assert (theirs["LineAmount"], theirs["Commission"]) == (-66.67, -6.67)


def test_a_per_unit_clawback_pays_back_per_unit(shop):
    plan(shop, Rules=[{"Priority": 1, "Name": "Pens", "AmountPerUnit": "0.25", "Match": {"SkuPatterns": ["PEN-*"]}}])
    invoice = order(shop, [("PEN-1", 10)])
    pay(shop, invoice, "10.00", "2026-03-20T12:00:00-05:00")
    assert [line["Commission"] for line in lines(statement(shop, shop.rep, *MARCH))] == [2.50]
    credit(shop, invoice, "PEN-1", 3, "2026-04-03")
    [clawback] = lines(statement(shop, shop.rep, *APRIL))
    assert (clawback["Quantity"], clawback["AmountPerUnit"], clawback["Commission"]) == (-3, 0.25, -0.75)


# ---------------------------------------------------------------- accelerators


def test_accelerators_need_a_quota_and_increasing_tiers(shop):
    body = {"SalesRepId": str(shop.rep.sales_rep_id), "Name": "Tiers", "DefaultRate": "0.1"}
    no_quota = shop.admin_api.post(PLANS, {**body, "Accelerators": [{"From": "1", "Multiplier": "2"}]}, format="json")
    assert "Accelerators" in no_quota.json()["errors"]
    unordered = shop.admin_api.post(PLANS, {**body, "Quota": "1000", "Accelerators": [
        {"From": "1", "Multiplier": "2"}, {"From": "0.5", "Multiplier": "1.5"}]}, format="json")
    assert "Accelerators[1].From" in unordered.json()["errors"]


def test_marginal_weights_a_line_straddling_two_thresholds(shop):
    """Quota 1,000; ×1.5 from 50%, ×2 from 100%. Sales: 400.00 (03-02), then 800.00 (03-03).
    The second covers [400, 1200): 100 at ×1 + 500 at ×1.5 + 200 at ×2 = 1,250 → multiplier 1.5625,
    commission round(0.10 × 1,250) = 125.00; the first 40.00 at ×1. Attainment 1.2."""
    plan(shop, Quota="1000.00", Accelerators=[{"From": "0.5", "Multiplier": "1.5"}, {"From": "1", "Multiplier": "2"}])
    first = order(shop, [("GAD-1", 4)])
    second = order(shop, [("GAD-1", 8)])
    pay(shop, first, "400.00", "2026-03-02T12:00:00-06:00")
    pay(shop, second, "800.00", "2026-03-03T12:00:00-06:00")
    made = statement(shop, shop.rep, *MARCH)
    assert [(line["LineAmount"], line["Multiplier"], line["Commission"]) for line in lines(made)] == [
        (400.00, 1.0, 40.00), (800.00, 1.5625, 125.00)]
    assert (made["SalesTotal"], made["Quota"], made["Attainment"], made["LinesTotal"]) == (1200.00, 1000.00, 1.2, 165.00)


def test_marginal_shows_six_decimals_and_pays_the_exact_multiplier(shop):
    """Quota 1,000; ×2 from 10% (threshold 100). A 300.00 line covers 100 at ×1 and 200 at ×2:
    500 / 300 = 5/3, shown 1.666667; the commission is round(0.10 × 500) = 50.00 exactly."""
    plan(shop, Quota="1000.00", Accelerators=[{"From": "0.1", "Multiplier": "2"}])
    invoice = order(shop, [("GAD-1", 3)])
    pay(shop, invoice, "300.00", "2026-03-02T12:00:00-06:00")
    made = statement(shop, shop.rep, *MARCH)
    [line] = lines(made)
    assert line["Commission"] == 50.00
    raw = shop.admin_api.get(f"{STATEMENTS}/{made['CommissionStatementId']}").content.decode()
    assert '"Multiplier":1.666667' in raw


def test_retroactive_gives_every_line_the_tier_the_total_reached(shop):
    plan(shop, Quota="1000.00", AcceleratorMethod="Retroactive",
         Accelerators=[{"From": "0.5", "Multiplier": "1.5"}, {"From": "1", "Multiplier": "2"}])
    for quantity, day in ((4, "02"), (8, "03")):
        pay(shop, order(shop, [("GAD-1", quantity)]), f"{quantity * 100}.00", f"2026-03-{day}T12:00:00-06:00")
    made = statement(shop, shop.rep, *MARCH)
    assert [(line["Multiplier"], line["Commission"]) for line in lines(made)] == [(2.0, 80.00), (2.0, 160.00)]


def test_clawbacks_and_returns_stay_out_of_the_sales_total_and_use_the_original_multiplier(shop):
    plan(shop, Quota="1000.00", Accelerators=[{"From": "0.5", "Multiplier": "1.5"}, {"From": "1", "Multiplier": "2"}])
    first, second = order(shop, [("GAD-1", 4)]), order(shop, [("GAD-1", 8)])
    pay(shop, first, "400.00", "2026-03-02T12:00:00-06:00")
    pay(shop, second, "800.00", "2026-03-03T12:00:00-06:00")
    statement(shop, shop.rep, *MARCH)
    credit(shop, second, "GAD-1", 2, "2026-04-03")
    april = statement(shop, shop.rep, *APRIL)
    [clawback] = lines(april)
    # 200.00 back at 0.10 × the original exact 1.5625 = 31.25
    assert (clawback["LineAmount"], clawback["Multiplier"], clawback["Commission"]) == (-200.00, 1.5625, -31.25)
    assert april["SalesTotal"] == 0 and april["LinesTotal"] == -31.25 and april["Total"] == -31.25


def test_per_unit_lines_export_and_print_without_a_rate(shop, staff_client):
    plan(shop, Rules=[{"Priority": 1, "Name": "Pens", "AmountPerUnit": "0.25", "Match": {"SkuPatterns": ["PEN-*"]}}])
    invoice = order(shop, [("PEN-1", 10)])
    pay(shop, invoice, "10.00", "2026-03-20T12:00:00-05:00")
    made = statement(shop, shop.rep, *MARCH)
    exported = shop.admin_api.get(f"{STATEMENTS}/{made['CommissionStatementId']}/export.csv")
    assert exported.status_code == 200
    row = b"".join(exported.streaming_content).decode().splitlines()[1].split(",")
    assert (row[6], row[7], row[8]) == ("", "Rule: Pens", "2.50")
    printed = staff_client.get(f"/admin/commissions/commissionstatement/{made['CommissionStatementId']}/print/")
    assert printed.status_code == 200 and b"0.2500/unit" in printed.content
