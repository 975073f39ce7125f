"""A statement as CSV: one row per line, streamed straight from a database cursor so a
million-line statement never sits in memory (the API's export.csv and the admin's export).

The file has exactly the nine columns of the header and nothing else: no total row, no comment.
After the lines come the adjustments, one row each (`RateSource` "Adjustment: <reason>", the amount
as `Commission`), so the Commission column sums to the statement's Total to the cent and a
spreadsheet's SUM reconciles with the statement. `payouts.csv` is one row per statement.
"""
import csv
import datetime
import re
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from commissions.models import CommissionStatement, StatementAdjustment, StatementLine

COLUMNS = ("InvoiceNumber", "CustomerNumber", "Sku", "ProductName", "Quantity", "LineAmount", "Rate", "RateSource",
           "Commission")
CHUNK = 2000
# A cell a spreadsheet would read as a formula (CSV injection); text cells only, numbers may be negative.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer's file: hands back each formatted row instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def statement_csv_rows(statement: CommissionStatement) -> Iterator[str]:
    """The header, then each line in the detail's order (by invoice number, lines as written)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    rows = (
        StatementLine.objects.filter(statement_id=statement.pk)
        .order_by("entry__invoice_number", "pk")
        .values_list("entry__invoice_number", "entry__customer_number", "sku", "product_name", "quantity",
                     "line_amount", "rate", "rate_source", "commission")
    )
    for invoice, customer, sku, name, quantity, amount, rate, source, commission in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow((_text(invoice), _text(customer), _text(sku), _text(name), quantity, f"{amount:.2f}",
                               "" if rate is None else f"{rate:.4f}", _text(source), f"{commission:.2f}"))
    for invoice, reason, amount in StatementAdjustment.objects.filter(statement_id=statement.pk).order_by(
            "at", "pk").values_list("invoice_number", "reason", "amount"):
        yield writer.writerow((_text(invoice), "", "", "", "", "", "", _text(f"Adjustment: {reason}"), f"{amount:.2f}"))


PAYOUT_COLUMNS = ("RepNumber", "FirstName", "LastName", "Email", "PeriodStart", "PeriodEnd", "CurrencyCode", "Status",
                  "LinesTotal", "AdjustmentsTotal", "Total", "CommissionStatementId")


def payouts_csv_response(statements) -> StreamingHttpResponse:
    """One row per statement, what a payroll import needs."""

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow(PAYOUT_COLUMNS)
        for s in statements.select_related("sales_rep__sales_rep__user").order_by("sales_rep__rep_number",
                                                                                   "period_start", "currency_code"):
            rep = s.sales_rep
            yield writer.writerow((_text(rep.rep_number), _text(rep.first_name), _text(rep.last_name), _text(rep.email),
                                   s.period_start, s.period_end, s.currency_code, s.status, f"{s.lines_total:.2f}",
                                   f"{s.adjustments_total:.2f}", f"{s.total:.2f}", s.pk))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payouts.csv"'
    return response


def statement_csv_filename(statement: CommissionStatement) -> str:
    """`statement-REP-007-2026-01.csv` for a calendar month, else the two dates; the currency is
    added when it is not the organization's (a rep may have one statement per currency)."""
    start, end = statement.period_start, statement.period_end
    whole_month = (start.day == 1 and (start.year, start.month) == (end.year, end.month)
                   and (end + datetime.timedelta(days=1)).day == 1)
    period = f"{start:%Y-%m}" if whole_month else f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    name = f"statement-{statement.sales_rep.rep_number}-{period}"
    if statement.currency_code != statement.organization.currency_code:
        name += f"-{statement.currency_code}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".csv"


def statement_csv_response(statement: CommissionStatement) -> StreamingHttpResponse:
    response = StreamingHttpResponse(statement_csv_rows(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{statement_csv_filename(statement)}"'
    return response
