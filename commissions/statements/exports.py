"""A statement as CSV: one row per line, streamed straight from a database cursor so a
million-line statement never sits in memory (the API's export.csv and the admin's export).

The file has exactly the nine columns of the header and nothing else: no total row, no comment.
The Commission column sums to the statement's Total to the cent (Total is the sum of the rounded
line commissions), so a spreadsheet's SUM reconciles with the statement.
"""
import csv
import datetime
import re
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from commissions.models import CommissionStatement, StatementLine

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
