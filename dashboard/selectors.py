"""The figures of the admin's front page for one organization, in a fixed number of aggregate queries.

Definitions (the page says them too):
- *Sales* are invoiced amounts: invoices that are not voided, by their invoice date (a day in
  the organization's time zone), in their own currency.
- A rep's sales are its credited part of them: the sum over the rep's `SalesCredits` of invoice
  total × share, rounded half-up to cents once per rep, month and currency.
- A rep's commission for a month is the sum of the `Total`s of its statements of that month
  (period starting in it) that are Draft, Approved or Paid.
- Quota attainment is the rep's sales of the month in the organization's currency divided by the
  quota of its active plan.
- Past due: invoices Issued or PartiallyPaid whose due date is before today; the amount is the balance.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from commissions.models import CommissionPlan, CommissionStatement, DisputeStatus, StatementDispute, StatementStatus
from nymble.models import Organization
from orders.models import Invoice, InvoiceStatus, SalesCredit
from salesreps.models import OrganizationSalesRep

CENTS = Decimal("0.01")
CHART_REPS = 15  # bars of a rep chart that stay readable in its half of the page
LIST_LIMIT = 10  # rows of each "waiting" table; the counts and sums cover all of them
UNPAID = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
COUNTED_STATEMENTS = (StatementStatus.DRAFT, StatementStatus.APPROVED, StatementStatus.PAID)


def cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENTS, rounding=ROUND_HALF_UP)


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class RepRow:
    rep_number: str
    name: str
    # (month start, currency) -> amount
    sales: dict = field(default_factory=dict)
    commission: dict = field(default_factory=dict)
    quota: Decimal | None = None
    attainment: Decimal | None = None  # this month, as a fraction (1 = 100 %)

    def amounts(self, kind: str, month: datetime.date) -> list[tuple[Decimal, str]]:
        """(amount, currency) of `kind` ("sales" or "commission") in a month, by currency."""
        return sorted(((amount, code) for (m, code), amount in getattr(self, kind).items() if m == month),
                      key=lambda pair: pair[1])


@dataclass
class Dashboard:
    organization: Organization
    today: datetime.date
    months: list[datetime.date]  # the twelve month starts, oldest first
    sales_by_month: dict[str, list[Decimal]]  # currency -> twelve amounts
    current_month: datetime.date
    previous_month: datetime.date
    reps: list[RepRow]
    statements_waiting: list
    statements_waiting_count: int
    open_disputes: list
    open_disputes_count: int
    past_due: list
    past_due_count: int
    past_due_totals: dict[str, Decimal]  # currency -> balance

    @property
    def rep_table(self) -> list[dict]:
        current, previous = self.current_month, self.previous_month
        return [
            {
                "rep": rep,
                "previous_sales": rep.amounts("sales", previous),
                "previous_commission": rep.amounts("commission", previous),
                "current_sales": rep.amounts("sales", current),
                "current_commission": rep.amounts("commission", current),
            }
            for rep in self.reps
        ]

    @property
    def sales_table(self) -> list[tuple[datetime.date, list[tuple[Decimal, str]]]]:
        """(month, [(amount, currency)]) newest first, for the figures under the chart."""
        return [
            (month, [(amounts[index], code) for code, amounts in sorted(self.sales_by_month.items())])
            for index, month in reversed(list(enumerate(self.months)))
        ]

    def chart_data(self) -> dict:
        """What the page's charts draw (JSON-ready: amounts as strings of two decimals). The rep
        charts show the CHART_REPS reps with the most sales this month (and the highest attainment);
        the table under them has every rep."""
        current, previous = self.current_month, self.previous_month
        currency = self.organization.currency_code
        zero = Decimal("0.00")
        top = sorted(self.reps, key=lambda r: (-r.sales.get((current, currency), zero), r.rep_number))[:CHART_REPS]
        attained = sorted((r for r in self.reps if r.attainment is not None),
                          key=lambda r: (-r.attainment, r.rep_number))[:CHART_REPS]
        return {
            "months": [m.strftime("%b %Y") for m in self.months],
            "salesByMonth": [
                {"currency": code, "amounts": [str(a) for a in amounts]}
                for code, amounts in sorted(self.sales_by_month.items())
            ],
            "currency": currency,
            "reps": [r.rep_number for r in top],
            "repSales": {
                "current": [str(r.sales.get((current, currency), zero)) for r in top],
                "previous": [str(r.sales.get((previous, currency), zero)) for r in top],
            },
            "attainment": [
                {"rep": r.rep_number, "percent": str((r.attainment * 100).quantize(Decimal("0.1")))} for r in attained
            ],
        }


def dashboard_for(organization: Organization) -> Dashboard:
    today = timezone.localdate(timezone.now(), organization.zone)
    current = month_start(today)
    previous = month_start(today, 1)
    first = month_start(today, 11)
    months = [month_start(today, back) for back in range(11, -1, -1)]
    org = organization.pk

    invoiced = Invoice.objects.filter(organization_id=org).exclude(status=InvoiceStatus.VOIDED)

    # 1. Sales by month and currency.
    sales_by_month: dict[str, list[Decimal]] = {}
    rows = (
        invoiced.filter(invoice_date__gte=first)
        .annotate(month=TruncMonth("invoice_date"))
        .values("month", "currency_code")
        .annotate(amount=Sum("total"))
    )
    for row in rows:
        amounts = sales_by_month.setdefault(row["currency_code"], [Decimal("0.00")] * 12)
        amounts[months.index(_as_date(row["month"]))] = cents(row["amount"])

    # 2. Each rep's credited sales of this month and last.
    credited = ExpressionWrapper(F("order__invoice__total") * F("share"), output_field=DecimalField())
    rep_sales = (
        SalesCredit.objects.filter(order__invoice__organization_id=org, order__invoice__invoice_date__gte=previous)
        .exclude(order__invoice__status=InvoiceStatus.VOIDED)
        .annotate(month=TruncMonth("order__invoice__invoice_date"))
        .values("sales_rep_id", "month", "order__invoice__currency_code")
        .annotate(amount=Sum(credited))
    )
    # 3. Each rep's commission on statements of this month and last.
    rep_commission = (
        CommissionStatement.objects.filter(organization_id=org, period_start__gte=previous,
                                           status__in=COUNTED_STATEMENTS)
        .annotate(month=TruncMonth("period_start"))
        .values("sales_rep_id", "month", "currency_code")
        .annotate(amount=Sum("total"))
    )
    # 4. Quotas of the active plans.
    quotas = dict(
        CommissionPlan.objects.filter(organization_id=org, active=True, quota__isnull=False)
        .values_list("sales_rep_id", "quota")
    )
    # 5. The reps themselves.
    reps = {
        rep.pk: RepRow(rep_number=rep.rep_number, name=f"{rep.first_name} {rep.last_name}".strip())
        for rep in OrganizationSalesRep.objects.filter(organization_id=org).only("rep_number", "first_name", "last_name")
    }
    for row in rep_sales:
        reps[row["sales_rep_id"]].sales[(_as_date(row["month"]), row["order__invoice__currency_code"])] = cents(row["amount"])
    for row in rep_commission:
        reps[row["sales_rep_id"]].commission[(_as_date(row["month"]), row["currency_code"])] = cents(row["amount"])
    for rep_id, quota in quotas.items():
        rep = reps[rep_id]
        rep.quota = cents(quota)
        if quota:
            sold = rep.sales.get((current, organization.currency_code), Decimal("0"))
            rep.attainment = (sold / quota).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    shown = sorted(
        (r for pk, r in reps.items() if r.sales or r.commission or pk in quotas),
        key=lambda r: r.rep_number,
    )

    # 6. Statements waiting for approval (Draft).
    drafts = CommissionStatement.objects.filter(organization_id=org, status=StatementStatus.DRAFT)
    statements_waiting = list(drafts.select_related("sales_rep").order_by("period_start", "sales_rep__rep_number")[:LIST_LIMIT])
    statements_waiting_count = drafts.count()

    # 7. Open disputes.
    disputes = StatementDispute.objects.filter(statement__organization_id=org, status=DisputeStatus.OPEN)
    open_disputes = list(disputes.select_related("statement__sales_rep").order_by("raised_at")[:LIST_LIMIT])
    open_disputes_count = disputes.count()

    # 8. Invoices past due: the oldest first, with the count and the balance per currency.
    overdue = Invoice.objects.filter(organization_id=org, status__in=UNPAID, due_date__lt=today)
    past_due = list(overdue.select_related("customer").order_by("due_date", "invoice_number")[:LIST_LIMIT])
    past_due_totals, past_due_count = {}, 0
    for row in overdue.values("currency_code").annotate(n=Count("pk"), balance=Sum(F("total") - F("amount_paid"))):
        past_due_totals[row["currency_code"]] = cents(row["balance"])
        past_due_count += row["n"]

    return Dashboard(
        organization=organization, today=today, months=months, sales_by_month=sales_by_month,
        current_month=current, previous_month=previous, reps=shown,
        statements_waiting=statements_waiting, statements_waiting_count=statements_waiting_count,
        open_disputes=open_disputes, open_disputes_count=open_disputes_count,
        past_due=past_due, past_due_count=past_due_count, past_due_totals=dict(sorted(past_due_totals.items())),
    )


def _as_date(value) -> datetime.date:
    """TruncMonth of a date column is a date on PostgreSQL, a datetime on some backends."""
    return value.date() if isinstance(value, datetime.datetime) else value
