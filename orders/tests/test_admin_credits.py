"""An order's sales credits in the admin (§4 "Sales credits", §9): edited inline on the order's page,
saved all rows at once through `sales_credits_replace`, refused with the service's message on the page
(nothing saved, the rows as typed), and no longer changeable once a line is on a live statement."""
import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from commissions.plans.services import plan_create
from commissions.statements.services import statement_generate, statement_void
from nymble.scoping import Principal
from orders import services
from orders.models import Order
from orders.tests.conftest import add_product
from salesreps.models import OrganizationSalesRep

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- posting a page as a browser would


class _FormFields(HTMLParser):
    """The fields of a page's main form as a browser would send them (inline templates left out)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._select = self._textarea = None
        self._first_option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
                return
            self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name and "__prefix__" not in name:
            self._select, self._first_option = name, None
            self.options[name] = []
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            self.options[self._select].append(value)
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.fields[self._select] = value
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            # Django renders a newline right after <textarea>, which a browser drops.
            value = self.fields[self._textarea] + data
            self.fields[self._textarea] = value[1:] if value.startswith("\n") else value


def page_form(client, url) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(what the page's form would send, the options of each select)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _FormFields()
    parser.feed(response.content.decode())
    parser.fields.pop("csrfmiddlewaretoken", None)
    parser.fields.pop("action", None)  # a changelist's action select, if any
    return parser.fields, parser.options


def add_rows(data: dict, prefix: str, *rows: dict) -> dict:
    """Appends new rows to an inline, as "Add another" does."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        data.update({f"{prefix}-{total + offset}-{key}": value for key, value in row.items()})
    data[f"{prefix}-TOTAL_FORMS"] = str(total + len(rows))
    return data


def errors_of(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- data, through the services


def admin_of(tenant) -> Principal:
    return Principal(organization_id=tenant.org.pk, role="Admin", membership_id=tenant.admin.pk)


def place(tenant, credits=None, quantity=10) -> Order:
    add_product(tenant.org, "BIG-1", "Big thing", [("Wholesale", 1, "100.00")])
    order, _ = services.order_place(organization=tenant.org, actor=admin_of(tenant), actor_label="test",
                                    customer=tenant.customer, items=[{"sku": "BIG-1", "quantity": quantity}],
                                    sales_credits=credits)
    return order


def credits_of(order) -> list[tuple[str, Decimal]]:
    return [(c.sales_rep.rep_number, c.share) for c in order.sales_credits.select_related("sales_rep")]


def url_of(order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def commission(tenant, order):
    """The order invoiced, paid in March, and put on REP-007's March statement."""
    plan_create(organization=tenant.org, sales_rep=tenant.rep, name="Plan", default_rate=Decimal("0.05"), active=True)
    invoice = services.invoice_create(order=order)
    services.payment_record(invoice=invoice, amount=invoice.total, actor_label="test",
                            paid_at=datetime.datetime(2026, 3, 10, 15, tzinfo=datetime.timezone.utc))
    return statement_generate(rep=tenant.rep, period_start=datetime.date(2026, 3, 1),
                              period_end=datetime.date(2026, 3, 31), actor="test")


# ---------------------------------------------------------------- tests


def test_the_order_page_shows_and_saves_the_credits(staff_client, tenant):
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))
    assert data["sales_credits-TOTAL_FORMS"] == "1" and data["sales_credits-0-share"] == "1.0000"
    data["sales_credits-0-share"] = "0.6"
    add_rows(data, "sales_credits", {"sales_rep": tenant.other_rep.pk, "share": "0.4"})
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 302, errors_of(response)
    assert credits_of(order) == [("REP-007", Decimal("0.6000")), ("REP-012", Decimal("0.4000"))]
    page = staff_client.get(url_of(order)).content.decode()
    assert "REP-012 Priya Nair" in page and 'value="0.4000"' in page


def test_the_credits_go_through_the_service(staff_client, tenant, monkeypatch):
    from commissions.statements import services as statements

    calls = []
    real = statements.sales_credits_replace
    monkeypatch.setattr(statements, "sales_credits_replace", lambda **kw: calls.append(kw) or real(**kw))
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))
    data["sales_credits-0-sales_rep"] = str(tenant.other_rep.pk)
    assert staff_client.post(url_of(order), data).status_code == 302
    assert calls == [{"order": calls[0]["order"], "credits": [{"rep_number": "REP-012", "share": Decimal("1.0000")}]}]
    assert credits_of(order) == [("REP-012", Decimal("1.0000"))]
    # Saving the page as it is calls nothing (so a commissioned order's page still saves).
    data, _ = page_form(staff_client, url_of(order))
    assert staff_client.post(url_of(order), data).status_code == 302 and len(calls) == 1


def test_shares_that_do_not_add_up_are_refused_with_the_rows_as_typed(staff_client, tenant):
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))
    data["sales_credits-0-share"] = "0.6"
    add_rows(data, "sales_credits", {"sales_rep": tenant.other_rep.pk, "share": "0.3"})
    response = staff_client.post(url_of(order), data)
    page = errors_of(response)
    assert response.status_code == 200 and "The shares add up to 0.9, not 1." in page
    assert 'value="0.6"' in page and 'value="0.3"' in page  # filled in as it was sent
    assert credits_of(order) == [("REP-007", Decimal("1.0000"))]


def test_each_row_is_judged_by_the_service_with_its_message_on_the_row(staff_client, tenant):
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))
    data["sales_credits-0-share"] = "0.5"
    add_rows(data, "sales_credits", {"sales_rep": tenant.rep.pk, "share": "0.5"})
    page = errors_of(staff_client.post(url_of(order), data))
    assert "Sales rep &#x27;REP-007&#x27; is credited twice." in page
    OrganizationSalesRep.objects.filter(pk=tenant.other_rep.pk).update(active=False)
    data["sales_credits-1-sales_rep"] = str(tenant.other_rep.pk)
    page = errors_of(staff_client.post(url_of(order), data))
    assert "Sales rep &#x27;REP-012&#x27; is inactive." in page and "REP-012 Priya Nair (inactive)" in page
    data["sales_credits-0-share"], data["sales_credits-1-share"] = "1.5", "0"
    page = errors_of(staff_client.post(url_of(order), data))
    assert "A share is above 0 and at most 1." in page  # the model's check, before the service
    assert credits_of(order) == [("REP-007", Decimal("1.0000"))]


def test_removing_every_credit_is_refused(staff_client, tenant):
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))
    data["sales_credits-0-DELETE"] = "on"
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 200 and "The shares add up to 0, not 1." in errors_of(response)
    assert credits_of(order) == [("REP-007", Decimal("1.0000"))]


def test_two_reps_may_swap_their_shares(staff_client, tenant):
    """The rows are written at once, so a rep moving from one row to another is no duplicate."""
    order = place(tenant, credits=[{"rep_number": "REP-007", "share": Decimal("0.7")},
                                   {"rep_number": "REP-012", "share": Decimal("0.3")}])
    data, _ = page_form(staff_client, url_of(order))
    data["sales_credits-0-sales_rep"], data["sales_credits-1-sales_rep"] = str(tenant.other_rep.pk), str(tenant.rep.pk)
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 302, errors_of(response)
    assert credits_of(order) == [("REP-012", Decimal("0.7000")), ("REP-007", Decimal("0.3000"))]


def test_only_the_orders_organizations_reps_are_offered(staff_client, tenant, other_tenant):
    order = place(tenant)
    data, options = page_form(staff_client, url_of(order))
    offered = {value for value in options["sales_credits-0-sales_rep"] if value}
    assert offered == {str(tenant.rep.pk), str(tenant.other_rep.pk)}
    data["sales_credits-0-sales_rep"] = str(other_tenant.rep.pk)
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 200 and "Select a valid choice" in errors_of(response)
    assert credits_of(order) == [("REP-007", Decimal("1.0000"))]


def test_once_commissioned_the_credits_stay_and_the_page_says_why(staff_client, tenant):
    """The page shows commissioned credits read-only with the reason, and offers no Save; a
    refusal of the service (a page loaded before the statement) still lands on the page."""
    order = place(tenant)
    data, _ = page_form(staff_client, url_of(order))  # loaded while the credits could still change
    statement = commission(tenant, order)
    assert statement.lines.exists()
    data["sales_credits-0-share"] = "0.5"
    add_rows(data, "sales_credits", {"sales_rep": tenant.other_rep.pk, "share": "0.5"})
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 302  # the rows are read-only now: nothing taken from the post
    assert credits_of(order) == [("REP-007", Decimal("1.0000"))]
    page = staff_client.get(url_of(order)).content.decode()
    assert "commissioned on a statement: void it first to change them" in page
    assert 'name="_save"' not in page and 'name="sales_credits-0-share"' not in page

    statement_void(statement=statement, actor="test")
    response = staff_client.post(url_of(order), data)
    assert response.status_code == 302, errors_of(response)
    assert credits_of(order) == [("REP-007", Decimal("0.5000")), ("REP-012", Decimal("0.5000"))]


def test_another_organizations_order_stays_out_of_reach(staff_client, tenant, other_tenant):
    theirs = place(other_tenant)
    assert staff_client.get(url_of(theirs)).status_code == 302  # to the admin index, as for any unseen object
    data = {"sales_credits-TOTAL_FORMS": "1", "sales_credits-INITIAL_FORMS": "0",
            "sales_credits-0-sales_rep": str(tenant.rep.pk), "sales_credits-0-share": "1"}
    staff_client.post(url_of(theirs), data)
    assert credits_of(theirs) == [("REP-007", Decimal("1.0000"))]
    assert theirs.sales_credits.get().sales_rep.organization_id == other_tenant.org.pk
