"""Disputes in the admin: the organization's open ones at a glance (filter Open by default view),
resolved through the service with a resolution."""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from rest_framework.exceptions import APIException

from commissions.models import DisputeStatus, StatementDispute
from commissions.statements import services as statements
from commissions.statements.admin_workflow import is_uuid
from nymble.admin_base import ScopedAdmin, api_error_text


class ResolveForm(forms.Form):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)


@admin.register(StatementDispute)
class StatementDisputeAdmin(ScopedAdmin):
    organization_field = None
    list_display = ("raised_at", "statement_link", "status", "note", "invoice_number", "sku", "raised_by",
                    "resolved_by")
    list_filter = ("status",)
    search_fields = ("note", "invoice_number", "sku", "statement__sales_rep__rep_number")
    readonly_fields = ("statement", "status", "note", "invoice_number", "sku", "raised_by", "raised_at", "resolution",
                       "resolved_by", "resolved_at")

    def get_queryset(self, request):
        from commissions.models import CommissionStatement

        visible = CommissionStatement.objects.visible_to(request.user)
        return StatementDispute.objects.filter(statement__in=visible).select_related("statement__sales_rep")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only page; resolving has its own form

    @admin.display(description="Statement", ordering="statement__period_start")
    def statement_link(self, obj):
        url = reverse("admin:commissions_commissionstatement_change", args=[obj.statement_id])
        return format_html('<a href="{}">{}</a>', url, obj.statement)

    def changelist_view(self, request, extra_context=None):
        if "status__exact" not in request.GET and not request.GET.get("_changelist_filters") and not request.GET:
            return redirect(f"{request.path}?status__exact={DisputeStatus.OPEN}")  # open disputes first
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<path:object_id>/resolve/", view(self.resolve_view),
                     name="commissions_statementdispute_resolve"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "resolve_url": reverse("admin:commissions_statementdispute_resolve", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request, object_id):
        dispute = self.get_queryset(request).filter(pk=object_id).first() if is_uuid(object_id) else None
        if dispute is None or not self._in_scope(request):
            return redirect("admin:commissions_statementdispute_changelist")
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                statements.statement_dispute_resolve(statement=dispute.statement, dispute_id=dispute.pk,
                                                     resolution=form.cleaned_data["resolution"],
                                                     actor=request.user.email)
            except APIException as exc:
                form.add_error(None, api_error_text(exc))
            else:
                self.message_user(request, "Resolved.", messages.SUCCESS)
                return redirect("admin:commissions_statementdispute_changelist")
        context = {**self.admin_site.each_context(request), "title": f"Resolve: {dispute.note[:60]}",
                   "form": form, "dispute": dispute, "opts": self.model._meta}
        return TemplateResponse(request, "admin/commissions/statementdispute/resolve.html", context,
                                status=400 if request.method == "POST" else 200)

