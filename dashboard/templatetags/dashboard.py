"""The dashboard on the admin's index page, and money shown with its currency."""
from decimal import Decimal

from django import template

from dashboard.selectors import dashboard_for
from nymble.models import Organization
from nymble.scoping import principal_of

register = template.Library()


def organization_for(request) -> tuple[Organization | None, list[Organization]]:
    """A staff user's own organization; a superuser's choice (`?organization=`), the first by name
    when none is chosen. The second value lists what a superuser may choose from."""
    principal = principal_of(request.user)
    if principal is None:
        return None, []
    if not principal.all_organizations:
        return Organization.objects.filter(pk=principal.organization_id).first(), []
    choices = list(Organization.objects.order_by("name"))
    chosen = request.GET.get("organization", "")
    picked = next((org for org in choices if str(org.pk) == chosen), None)
    return picked or (choices[0] if choices else None), choices


@register.inclusion_tag("dashboard/panel.html", takes_context=True)
def dashboard_panel(context):
    request = context["request"]
    organization, choices = organization_for(request)
    if organization is None:
        return {"dashboard": None}
    board = dashboard_for(organization)
    return {"dashboard": board, "chart_data": board.chart_data(), "choices": choices, "request": request}


@register.filter
def money(amount, currency: str) -> str:
    """`12,345.67 USD`: two decimals, thousands grouped, the currency after."""
    if amount is None or amount == "":
        return "—"
    return f"{Decimal(amount):,.2f} {currency}"


@register.filter
def grouped(number) -> str:
    """`21,840`."""
    return f"{number:,}"


@register.filter
def percent(fraction) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f} %"
