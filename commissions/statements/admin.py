"""Commission statements in the admin: read-only pages (entries, the first lines, adjustments,
disputes, events) with the workflow as buttons (admin_workflow.py), the same steps as list actions
through commissions.statements.services, a CSV export, a printable statement, and a page that
generates statements for chosen reps and a period.

Imported by commissions/admin.py, which is what Django's autodiscovery loads.
"""
from itertools import groupby

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from rest_framework.exceptions import APIException

from commissions.statements import services as statements
from commissions.statements.admin_workflow import StatementWorkflowAdmin, is_uuid
from commissions.statements.exports import statement_csv_response
from commissions.models import CommissionStatement, StatementEntry, StatementEvent, StatementLine
from nymble.admin_base import ReadOnlyInline, ScopedAdmin, ScopedRelatedFilter, api_error_text
from nymble.currencies import ISO_4217
from salesreps.models import OrganizationSalesRep

ROWS_SHOWN = 200  # entries and lines on the change page; a statement may hold a million lines
PRINT_LINES = 2000  # lines on the printable statement; the totals always cover every line


# ---------------------------------------------------------------- inlines


class FirstRowsFormSet(BaseInlineFormSet):
    """Only the first `ROWS_SHOWN` rows: read-only inlines of a statement that may be huge."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if not queryset.query.is_sliced:
            queryset = self._queryset = queryset[:ROWS_SHOWN]
        return queryset


class StatementRowsInline(ReadOnlyInline):
    formset = FirstRowsFormSet
    template = "admin/commissions/commissionstatement/readonly_rows.html"


class EntryInline(StatementRowsInline):
    model = StatementEntry
    verbose_name_plural = f"entries — one per invoice (the first {ROWS_SHOWN} by invoice number)"
    fields = ("invoice_link", "customer_number", "commission")
    readonly_fields = fields

    @admin.display(description="invoice")
    def invoice_link(self, entry):
        url = reverse("admin:orders_invoice_change", args=[entry.invoice_id])
        return format_html('<a href="{}">{}</a>', url, entry.invoice_number)


class LineInline(StatementRowsInline):
    model = StatementLine
    verbose_name_plural = f"lines (the first {ROWS_SHOWN}; export the CSV for every line)"
    fields = ("invoice_number", "line_date", "product", "quantity", "line_amount", "share", "rate",
              "amount_per_unit", "multiplier", "rate_source", "payment_label", "commission")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entry", "payment").order_by("entry__invoice_number",
                                                                                          "pk")

    @admin.display(description="invoice")
    def invoice_number(self, line):
        return line.entry.invoice_number

    @admin.display(description="product")
    def product(self, line):
        return format_html('<span class="nowrap">{}</span><br><span class="quiet">{}</span>', line.sku,
                           line.product_name)

    @admin.display(description="payment")
    def payment_label(self, line):
        """The payment that earned the line (pay on collection), as the invoice lists its payments."""
        if line.payment is None:
            return "whole line" if line.invoice_line_id else "clawback"
        payment = line.payment
        return format_html('<span class="nowrap" title="PaymentId {}">{}</span><br><span class="quiet">{}</span>',
                           payment.public_id, payment.amount, payment.reference)


class EventInline(StatementRowsInline):
    model = StatementEvent
    formset = BaseInlineFormSet  # a statement's history is short: all of it
    fields = ("type", "actor", "at", "note")
    readonly_fields = fields


# ---------------------------------------------------------------- the generate page


class GenerateStatementsForm(forms.Form):
    reps = forms.ModelMultipleChoiceField(queryset=OrganizationSalesRep.objects.none(),
                                          widget=forms.CheckboxSelectMultiple, label="Sales reps")
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    currency_code = forms.CharField(required=False, max_length=3, label="Currency",
                                    help_text="ISO 4217; leave empty for the organization's currency.")

    def __init__(self, *args, reps, with_organization: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reps"]
        field.queryset = reps
        field.label_from_instance = lambda rep: " ".join(filter(None, [
            str(rep), f"({rep.organization.org_code})" if with_organization else "",
            "— inactive" if not rep.active else ""]))

    def clean_currency_code(self):
        code = self.cleaned_data["currency_code"].strip().upper()
        if code and code not in ISO_4217:
            raise forms.ValidationError(f"'{code}' is not an ISO 4217 currency code.")
        return code or None

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "Must not be before the period start.")
        return data


# ---------------------------------------------------------------- the statement admin


@admin.register(CommissionStatement)
class CommissionStatementAdmin(StatementWorkflowAdmin, ScopedAdmin):
    change_list_template = "admin/commissions/commissionstatement/change_list.html"
    list_display = ("sales_rep", "period", "status", "total_shown", "updated_at")
    list_filter = ("status", ("sales_rep", ScopedRelatedFilter), ("period_start", admin.DateFieldListFilter))
    search_fields = ("sales_rep__rep_number", "sales_rep__first_name", "sales_rep__last_name")
    list_select_related = ("sales_rep",)
    fieldsets = (
        (None, {"fields": ("sales_rep", "plan", ("period_start", "period_end"), "currency_code", "status",
                           "documents")}),
        ("Totals", {"fields": (("sales_total", "quota", "attainment_shown"), ("lines_total", "adjustments_total", "total"),
                               "line_count")}),
        ("Payment and history", {"fields": (("paid_at", "payment_reference"), "failure",
                                            ("created_at", "updated_at"))}),
    )
    readonly_fields = ("sales_rep", "plan", "period_start", "period_end", "currency_code", "status", "documents",
                       "sales_total", "quota", "attainment_shown", "lines_total", "adjustments_total", "total", "line_count", "paid_at",
                       "payment_reference", "failure", "created_at", "updated_at")
    inlines = [EntryInline, LineInline, EventInline]
    actions = ["approve", "mark_paid", "void", "recalculate", "export_csv"]

    def has_add_permission(self, request):
        return False  # statements are generated (the "Generate statements" page, the API, the schedule)

    def has_change_permission(self, request, obj=None):
        return False  # read-only pages; every change is an action through the services

    @admin.display(description="period", ordering="period_start")
    def period(self, statement):
        return f"{statement.period_start} – {statement.period_end}"

    @admin.display(description="total", ordering="total")
    def total_shown(self, statement):
        return f"{statement.total} {statement.currency_code}"

    @admin.display(description="lines")
    def line_count(self, statement):
        return statement.lines.count()

    def get_fieldsets(self, request, obj=None):
        """Money always shows its currency: the totals' section names it."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return tuple((f"Totals, in {obj.currency_code}" if name == "Totals" else name, options)
                     for name, options in fieldsets)

    @admin.display(description="attainment")
    def attainment_shown(self, statement):
        """SalesTotal / Quota, to 4 decimals (and as a percentage); none without a quota."""
        if statement.attainment is None:
            return "— (no quota)"
        return f"{statement.attainment} ({statement.attainment * 100:.2f} %)"

    @admin.display(description="documents")
    def documents(self, statement):
        return format_html(
            '<a class="button" href="{}" target="_blank">Printable statement</a> '
            '<a class="button" href="{}">Download CSV (every line)</a>',
            reverse("admin:commissions_commissionstatement_print", args=[statement.pk]),
            reverse("admin:commissions_commissionstatement_csv", args=[statement.pk]),
        )

    # ------------------------------------------------------------ actions

    def _each(self, request, queryset, done: str, act) -> None:
        succeeded = 0
        for statement in queryset.select_related("sales_rep"):
            try:
                act(statement)
                succeeded += 1
            except APIException as exc:
                self.message_user(request, f"{statement}: {api_error_text(exc)}", messages.ERROR)
        if succeeded:
            self.message_user(request, f"{done} {succeeded} statement(s).", messages.SUCCESS)

    @admin.action(description="Approve (Draft → Approved)")
    def approve(self, request, queryset):
        self._each(request, queryset, "Approved",
                   lambda s: statements.statement_approve(statement=s, actor=request.user.email))

    @admin.action(description="Mark paid… (Approved → Paid, all or none, with a reference)")
    def mark_paid(self, request, queryset):
        ids = "&".join(f"ids={pk}" for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:commissions_commissionstatement_bulk_mark_paid')}?{ids}")

    @admin.action(description="Void (Draft, Approved or Failed; the lines become eligible again)")
    def void(self, request, queryset):
        self._each(request, queryset, "Voided", lambda s: statements.statement_void(statement=s,
                                                                                    actor=request.user.email))

    @admin.action(description="Recalculate (Draft only)")
    def recalculate(self, request, queryset):
        self._each(request, queryset, "Recalculated",
                   lambda s: statements.statement_recalculate(statement=s, actor=request.user.email))

    @admin.action(description="Export CSV (one statement at a time)")
    def export_csv(self, request, queryset):
        chosen = list(queryset.select_related("sales_rep", "organization")[:2])
        if len(chosen) != 1:
            self.message_user(request, "Select exactly one statement to export: each CSV reconciles to the "
                                       "Total of its own statement.", messages.WARNING)
            return None
        return statement_csv_response(chosen[0])

    # ------------------------------------------------------------ pages

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="commissions_commissionstatement_generate"),
            path("<uuid:statement_id>/print/", view(self.print_view), name="commissions_commissionstatement_print"),
            path("<uuid:statement_id>/export.csv", view(self.csv_view), name="commissions_commissionstatement_csv"),
            *self.workflow_urls(),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        statement = self.get_queryset(request).filter(pk=object_id).first() if is_uuid(object_id) else None
        if statement is not None:
            extra_context = {**self.workflow_context(request, statement), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _statement(self, request, statement_id) -> CommissionStatement:
        queryset = self.get_queryset(request).select_related("sales_rep", "organization", "plan")
        return get_object_or_404(queryset, pk=statement_id)

    def csv_view(self, request, statement_id):
        return statement_csv_response(self._statement(request, statement_id))

    def print_view(self, request, statement_id):
        statement = self._statement(request, statement_id)
        lines = list(statement.lines.select_related("entry").order_by("entry__invoice_number", "pk")[:PRINT_LINES + 1])
        truncated = len(lines) > PRINT_LINES
        lines = lines[:PRINT_LINES]
        entries = [{"entry": entry, "lines": list(group)} for entry, group in groupby(lines, key=lambda l: l.entry)]
        context = {
            "statement": statement,
            "organization": statement.organization,
            "rep": statement.sales_rep,
            "entries": entries,
            "events": list(statement.events.all()),
            "truncated": truncated,
            "lines_shown": len(lines),
            "line_count": statement.lines.count() if truncated else len(lines),
            "entry_count": statement.entries.count(),
            "printed_at": timezone.now(),
        }
        return TemplateResponse(request, "commissions/statement_print.html", context)

    def generate_view(self, request):
        if not self._in_scope(request):
            raise PermissionDenied
        superuser = request.user.is_superuser
        reps = OrganizationSalesRep.objects.visible_to(request.user).select_related("organization").order_by(
            "organization__name", "rep_number")
        start, end = statements.previous_month(timezone.localdate())
        form = GenerateStatementsForm(request.POST or None, reps=reps, with_organization=superuser,
                                      initial={"period_start": start, "period_end": end})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            for rep in data["reps"]:
                self._generate_one(request, rep, data)
            return redirect("admin:commissions_commissionstatement_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Generate commission statements",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/commissions/commissionstatement/generate.html", context)

    def _generate_one(self, request, rep: OrganizationSalesRep, data: dict) -> None:
        try:
            statement = statements.statement_generate(
                rep=rep, period_start=data["period_start"], period_end=data["period_end"],
                currency_code=data["currency_code"], actor=request.user.email)
        except APIException as exc:
            # A conflict's sentence says more than its field ("…already; recalculate or void it.").
            reason = str(exc.detail) if isinstance(exc.detail, str) else api_error_text(exc)
            self.message_user(request, f"{rep.rep_number}: refused — {reason}", messages.ERROR)
            return
        url = reverse("admin:commissions_commissionstatement_change", args=[statement.pk])
        self.message_user(request, format_html(
            '{}: <a href="{}">{} statement {} – {}</a>, total {} {}.', rep.rep_number, url, statement.status,
            statement.period_start, statement.period_end, statement.total, statement.currency_code), messages.SUCCESS)

