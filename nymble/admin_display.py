"""How the admin shows money and the records a page links to: an amount always with its currency,
a record as a link to its own page, and a page's related records as a short table with a link to
all of them (a customer may have thousands of orders; the page shows the latest)."""
import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

LATEST = 10  # rows of a related list shown on a record's page


def money(amount: Decimal | None, currency: str) -> str:
    """`1,234.50 USD` (never broken across lines); the admin's dash without an amount."""
    if amount is None:
        return "-"
    return f"{amount:,.2f}\N{NO-BREAK SPACE}{currency}"


def percent(rate: Decimal) -> str:
    """A rate as staff read it: 0.0500 → 5%, 0.0825 → 8.25%."""
    return f"{(rate * 100).normalize():f}%"


def day(value) -> str:
    """A date (or a moment, in the active time zone) as 2026-12-01: a list's narrowest date."""
    if value is None:
        return "-"
    return f"{timezone.localtime(value).date() if isinstance(value, datetime.datetime) else value:%Y-%m-%d}"


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def link(obj, text=None) -> str:
    return format_html('<a href="{}">{}</a>', change_url(obj), text if text is not None else obj)


def list_link(model, text: str, **filters) -> str:
    """A link to the model's list, filtered (`customer=5`)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


def record_table(headers: tuple[str, ...], rows: list[tuple], *, total: int, everything: str = "") -> str:
    """The latest related records as a table (cells are text or already-safe HTML), and how many
    there are in all with a link to them (`everything`, from `list_link`)."""
    if not rows:
        return "none yet"
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join("", "<tr>{}</tr>", (
        (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows))
    more = format_html('<p class="nymble-more">{} of {} shown · {}</p>', len(rows), total, everything) \
        if total > len(rows) else format_html('<p class="nymble-more">{}</p>', everything) if everything else ""
    return format_html('<table class="nymble-records"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}',
                       head, body, more)
