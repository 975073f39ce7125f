"""Commission plans in the admin: rules and overrides inline, activation through the service, and a
"test a line" page that shows which rule wins. (Statements join with their issue.)"""
import datetime

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from commissions.plans import services as plans
from commissions.engine import commission_for
from commissions.models import CommissionPlan, CommissionRule, CustomerOverride
from nymble.admin_base import ScopedAdmin, ScopedInline


class RuleFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and data.get("priority") is not None:
                if data["priority"] in seen:
                    raise forms.ValidationError(f"Two rules share priority {data['priority']}: priorities are unique.")
                seen.add(data["priority"])


class OnePerLineField(forms.CharField):
    """A list of strings (patterns, customer numbers) edited one per line, not as JSON: staff type
    `WDG-*` on a line, and nothing they type can be read letter by letter."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 16, "placeholder": "one per line"})

    def __init__(self, *, encoder=None, decoder=None, **kwargs):  # what a JSONField passes its form field
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in super().to_python(value).splitlines() if line.strip()]


class RuleInline(ScopedInline):
    model = CommissionRule
    formset = RuleFormSet
    fk_name = "plan"
    formfield_overrides = {**ScopedInline.formfield_overrides, models.JSONField: {"form_class": OnePerLineField}}
    fields = ("priority", "name", "rate", "sku_patterns", "product_name_patterns", "customer_numbers",
              "min_line_amount", "max_line_amount")


class OverrideRuleInline(RuleInline):
    fk_name = "override"


class OverrideInline(ScopedInline):
    model = CustomerOverride
    fields = ("customer", "default_rate", "effective_start", "effective_end", "rules_link")
    readonly_fields = ("rules_link",)
    raw_id_fields = ("customer",)

    @admin.display(description="rules")
    def rules_link(self, obj):
        if not obj.pk:
            return "save first"
        url = reverse("admin:commissions_customeroverride_change", args=[obj.pk])
        return format_html('<a href="{}">{} rule(s) →</a>', url, obj.rules.count())


@admin.register(CommissionPlan)
class CommissionPlanAdmin(ScopedAdmin):
    list_display = ("name", "sales_rep", "active", "default_rate", "effective_start", "effective_end", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "sales_rep__rep_number", "sales_rep__last_name")
    list_select_related = ("sales_rep",)
    fields = ("sales_rep", "name", "description", "default_rate", "effective_start", "effective_end", "active",
              "test_line_link")
    readonly_fields = ("active", "test_line_link")
    inlines = [RuleInline, OverrideInline]

    def get_readonly_fields(self, request, obj=None):
        # A plan stays with its rep (as in the API): make a new plan for another rep.
        return self.readonly_fields + (("sales_rep",) if obj is not None else ())
    actions = ["activate", "deactivate"]

    @admin.display(description="test a line")
    def test_line_link(self, obj):
        if not obj.pk:
            return "save first"
        url = reverse("admin:commissions_commissionplan_test_line", args=[obj.pk])
        return format_html('<a class="button" href="{}">Which rule wins for a line? →</a>', url)

    def get_urls(self):
        return [
            path("<uuid:plan_id>/test-line/", self.admin_site.admin_view(self.test_line_view),
                 name="commissions_commissionplan_test_line"),
        ] + super().get_urls()

    def test_line_view(self, request, plan_id):
        """Read-only: rates one made-up line with the plan as stored."""
        plan = get_object_or_404(self.get_queryset(request), pk=plan_id)
        form = TestLineForm(request.GET or None, initial={"line_date": timezone.localdate()})
        result = None
        if form.is_valid():
            data = form.cleaned_data
            rating = plans.plan_compiled(plan).rate(data["sku"], data["product_name"], data["customer_number"],
                                                    data["amount"], data["line_date"])
            result = {"rating": rating, "commission": commission_for(data["amount"], rating.rate) if rating else None}
        context = {**self.admin_site.each_context(request), "title": f"Test a line against {plan}", "plan": plan,
                   "form": form, "result": result, "opts": self.model._meta}
        return TemplateResponse(request, "admin/commissions/test_line.html", context)

    @admin.action(description="Activate (deactivates the rep's other plan)")
    def activate(self, request, queryset):
        for plan in queryset:
            self.run_service(request, plans.plan_set_active, plan=plan, active=True)
        self.message_user(request, "Activated.", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for plan in queryset:
            self.run_service(request, plans.plan_set_active, plan=plan, active=False)
        self.message_user(request, "Deactivated.", messages.SUCCESS)


class TestLineForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64)
    product_name = forms.CharField(max_length=200, required=False)
    customer_number = forms.CharField(max_length=64)
    amount = forms.DecimalField(label="Line amount", max_digits=14, decimal_places=2)
    line_date = forms.DateField(label="Date (paid on)", initial=datetime.date.today)


@admin.register(CustomerOverride)
class CustomerOverrideAdmin(ScopedAdmin):
    organization_field = None
    list_display = ("plan", "customer", "default_rate", "effective_start", "effective_end")
    fields = ("plan", "customer", "default_rate", "effective_start", "effective_end")
    readonly_fields = ("plan", "customer")
    inlines = [OverrideRuleInline]

    def get_queryset(self, request):
        return CustomerOverride.objects.filter(plan__in=CommissionPlan.objects.visible_to(request.user))

    def has_module_permission(self, request):
        return False  # reached from its plan's page

    def has_add_permission(self, request):
        return False

