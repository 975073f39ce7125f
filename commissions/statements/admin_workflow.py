"""A statement's workflow as buttons on its own admin page (§9): recalculate, adjust, approve, mark
paid with a reference, void — and the bulk "mark paid" of the list. Each button is one call to
commissions.statements.services, so the admin refuses what the API refuses, with the same words.

Used by CommissionStatementAdmin (commissions/statements/admin.py) as a mixin.
"""
from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from rest_framework.exceptions import APIException

from commissions.models import CommissionStatement, StatementStatus
from commissions.statements import services as statements
from nymble.admin_base import api_error_text

MONEY_LIMIT = 10**10  # as the API's MoneyField


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=-MONEY_LIMIT, max_value=MONEY_LIMIT,
                                help_text="Signed: a bonus or a correction up, a deduction down (−); not 0.")
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 50}))
    invoice_number = forms.CharField(max_length=20, required=False, label="Invoice (optional)")


class MarkPaidForm(forms.Form):
    reference = forms.CharField(max_length=128, help_text="The payroll run or transfer that paid it.",
                                widget=forms.TextInput(attrs={"size": 40}))
    paid_at = forms.DateTimeField(required=False, label="Paid at", help_text="Leave empty for now.",
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


# Steps that need nothing but the click, each the service it calls and what the message says.
STEPS = {
    "recalculate": (statements.statement_recalculate, "Recalculated"),
    "approve": (statements.statement_approve, "Approved"),
    "void": (statements.statement_void, "Voided"),
}
# Which buttons a status offers (what the services accept from it).
OFFERED = {
    StatementStatus.DRAFT: ("recalculate", "adjust", "approve", "void"),
    StatementStatus.APPROVED: ("mark_paid", "void"),
    StatementStatus.FAILED: ("void",),
}


class StatementWorkflowAdmin:
    """The mixin: URLs, the buttons' context on the change page, the bulk mark-paid action."""

    def workflow_urls(self):
        view = self.admin_site.admin_view
        name = "commissions_commissionstatement_"
        return [
            path("<uuid:statement_id>/step/<str:step>/", view(self.step_view), name=name + "step"),
            path("<uuid:statement_id>/mark-paid/", view(self.mark_paid_view), name=name + "mark_paid"),
            path("<uuid:statement_id>/adjustments/", view(self.adjust_view), name=name + "adjust"),
            path("<uuid:statement_id>/adjustments/<uuid:adjustment_id>/remove/", view(self.adjustment_remove_view),
                 name=name + "adjustment_remove"),
            path("mark-paid/", view(self.bulk_mark_paid_view), name=name + "bulk_mark_paid"),
        ]

    def workflow_context(self, request, statement: CommissionStatement) -> dict:
        return {
            "workflow": OFFERED.get(statement.status, ()) if self._in_scope(request) else (),
            "adjustments": list(statement.adjustments.all()),
            "disputes": list(statement.disputes.all()),
            "open_disputes": statement.disputes.filter(status="Open").count(),
        }

    def _back(self, statement):
        return redirect("admin:commissions_commissionstatement_change", statement.pk)

    def _scoped_statement(self, request, statement_id) -> CommissionStatement:
        if not self._in_scope(request):
            raise PermissionDenied
        return self._statement(request, statement_id)

    def step_view(self, request, statement_id, step):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        statement = self._scoped_statement(request, statement_id)
        if step not in STEPS:
            self.message_user(request, f"No such step: {step}.", messages.ERROR)
            return self._back(statement)
        service, done = STEPS[step]
        try:
            service(statement=statement, actor=request.user.email)
        except APIException as exc:
            self.message_user(request, f"Refused: {api_error_text(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"{done}.", messages.SUCCESS)
        return self._back(statement)

    def adjust_view(self, request, statement_id):
        statement = self._scoped_statement(request, statement_id)
        form = AdjustmentForm(request.POST or None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                statements.statement_adjust(statement=statement, amount=data["amount"], reason=data["reason"],
                                            invoice_number=data["invoice_number"], actor=request.user.email)
            except APIException as exc:
                _errors_on_fields(form, exc)
            else:
                self.message_user(request, f"Adjusted by {data['amount']:+} {statement.currency_code}.",
                                  messages.SUCCESS)
                return self._back(statement)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust: {statement}", "form": form, "statement": statement, "opts": self.model._meta,
            "back": reverse("admin:commissions_commissionstatement_change", args=[statement.pk]),
        }
        return TemplateResponse(request, "admin/commissions/commissionstatement/adjust.html", context,
                                status=400 if form.is_bound else 200)

    def adjustment_remove_view(self, request, statement_id, adjustment_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        statement = self._scoped_statement(request, statement_id)
        try:
            statements.statement_adjustment_remove(statement=statement, adjustment_id=adjustment_id,
                                                   actor=request.user.email)
        except APIException as exc:
            self.message_user(request, f"Refused: {api_error_text(exc)}", messages.ERROR)
        else:
            self.message_user(request, "Adjustment removed.", messages.SUCCESS)
        return self._back(statement)

    def mark_paid_view(self, request, statement_id):
        statement = self._scoped_statement(request, statement_id)
        return self._mark_paid_page(request, [statement], back=reverse(
            "admin:commissions_commissionstatement_change", args=[statement.pk]))

    def bulk_mark_paid_view(self, request):
        if not self._in_scope(request):
            raise PermissionDenied
        ids = request.POST.getlist("ids") or request.GET.getlist("ids")
        chosen = list(self.get_queryset(request).filter(pk__in=_uuids(ids)).select_related("sales_rep"))
        if not chosen:
            self.message_user(request, "Select the statements to mark paid.", messages.WARNING)
            return redirect("admin:commissions_commissionstatement_changelist")
        return self._mark_paid_page(request, chosen, back=reverse("admin:commissions_commissionstatement_changelist"))

    def _mark_paid_page(self, request, chosen: list[CommissionStatement], back: str):
        """Asks for the reference; then all of them are paid, or none (the service's rule)."""
        form = MarkPaidForm(request.POST if "reference" in request.POST else None)
        one_organization = len({s.organization_id for s in chosen}) == 1
        if form.is_bound and form.is_valid() and one_organization:
            data = form.cleaned_data
            try:
                paid = statements.statements_mark_paid(
                    statement_ids=[s.pk for s in chosen], organization_id=chosen[0].organization_id,
                    actor=request.user.email, paid_at=data["paid_at"] or timezone.now(), reference=data["reference"])
            except APIException as exc:
                form.add_error(None, f"Nothing was marked paid: {api_error_text(exc)}")
            else:
                self.message_user(request, f"Marked paid {len(paid)} statement(s), reference {data['reference']}.",
                                  messages.SUCCESS)
                return redirect(back)
        if not one_organization:
            form.add_error(None, "One organization's statements at a time: each payout is one organization's.")
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark paid" if len(chosen) == 1 else f"Mark {len(chosen)} statements paid",
            "form": form, "chosen": chosen, "back": back, "opts": self.model._meta,
            "totals": _totals_by_currency(chosen),
        }
        return TemplateResponse(request, "admin/commissions/commissionstatement/mark_paid.html", context,
                                status=400 if form.is_bound else 200)


# The service's field names (the API's) and the form's.
FORM_FIELDS = {"Amount": "amount", "Reason": "reason", "InvoiceNumber": "invoice_number"}


def _errors_on_fields(form: forms.Form, exc: APIException) -> None:
    """A refusal's messages on the fields they name, the rest above the form."""
    detail = exc.detail
    if isinstance(detail, dict):
        for key, messages_ in detail.items():
            field = FORM_FIELDS.get(key)
            for message in messages_ if isinstance(messages_, list) else [messages_]:
                form.add_error(field, str(message))
    else:
        form.add_error(None, api_error_text(exc))


def _totals_by_currency(chosen: list[CommissionStatement]) -> list[tuple[str, object]]:
    totals: dict[str, object] = {}
    for statement in chosen:
        totals[statement.currency_code] = totals.get(statement.currency_code, 0) + statement.total
    return sorted(totals.items())


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _uuids(values: list[str]) -> list[str]:
    return [value for value in values if is_uuid(value)]
