"""Commission plans in the admin: the plan's quota and accelerator tiers, its rules and overrides
inline, every save through `plan_create` / `plan_update` (so the admin refuses what the API
refuses, with the service's message on the field), activation through the service, and a
"test a line" page that shows which rule wins and the multiplier the line would get."""
import datetime
from decimal import Decimal
from fractions import Fraction

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from rest_framework.exceptions import APIException

from commissions import engine
from commissions.models import Accelerator, AcceleratorMethod, CommissionPlan, CommissionRule, CustomerOverride
from commissions.plans import services as plans
from nymble.admin_base import ScopedAdmin, ScopedInline
from nymble.admin_display import money, percent
from nymble.admin_refusals import (
    RefusableAdmin,
    RefusableFormSet,
    RefusableInline,
    changed_rows,
    refusal_of,
    wire_parts,
)

RULE_FIELDS = ("priority", "name", "rate", "amount_per_unit", "sku_patterns", "product_name_patterns",
               "customer_numbers", "min_line_amount", "max_line_amount")
# A rule's wire names (as the service names them in a refusal) → the inline's fields.
RULE_WIRE = {"Priority": "priority", "Name": "name", "Rate": "rate", "AmountPerUnit": "amount_per_unit",
             "Match.SkuPatterns": "sku_patterns", "Match.ProductNamePatterns": "product_name_patterns",
             "Match.CustomerNumbers": "customer_numbers", "Match.MinLineAmount": "min_line_amount",
             "Match.MaxLineAmount": "max_line_amount"}
PLAN_WIRE = {"Name": "name", "Description": "description", "DefaultRate": "default_rate",
             "EffectiveStartDate": "effective_start", "EffectiveEndDate": "effective_end",
             "CommissionBasis": "commission_basis", "Quota": "quota", "AcceleratorMethod": "accelerator_method",
             "SalesRepId": "sales_rep"}
OVERRIDE_WIRE = {"CustomerNumber": "customer", "DefaultRate": "default_rate",
                 "EffectiveStartDate": "effective_start", "EffectiveEndDate": "effective_end"}


def plan_window(plan) -> str:
    """When a plan (or an override) applies: `always`, `2026-01-01 – open-ended`, …"""
    if plan.effective_start is None and plan.effective_end is None:
        return "always"
    return f"{plan.effective_start or 'from the start'} – {plan.effective_end or 'open-ended'}"


class RuleFormSet(RefusableFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and data.get("priority") is not None:
                if data["priority"] in seen:
                    raise forms.ValidationError(f"Two rules share priority {data['priority']}: priorities are unique.")
                seen.add(data["priority"])


class RuleForm(forms.ModelForm):
    """Rate or AmountPerUnit, exactly one: the service says so (its message, on the row), so the
    model's own check of the pair is left to it; a negative amount per unit is refused here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rate", "amount_per_unit"):  # "0.0800" needs less room than "1000.00"
            if name in self.fields:
                self.fields[name].widget.attrs["style"] = "width: 4.5em"
        per_unit = self.fields.get("amount_per_unit")
        if per_unit is not None:
            per_unit.validators.append(MinValueValidator(Decimal("0")))
            per_unit.widget.attrs["min"] = "0"

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "amount_per_unit"}


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


class RuleInline(RefusableInline, ScopedInline):
    model = CommissionRule
    form = RuleForm
    formset = RuleFormSet
    fk_name = "plan"
    verbose_name_plural = "rules — in ascending priority, the first that matches pays its rate or its amount per unit"
    # Ten columns: inputs narrow enough for the row to fit a 1440-pixel screen beside the admin's menu.
    formfield_overrides = {
        **ScopedInline.formfield_overrides,
        models.CharField: {"widget": forms.TextInput(attrs={"size": 11})},
        models.IntegerField: {"widget": forms.TextInput(attrs={"style": "width: 3.5em", "inputmode": "numeric"})},
        # Text boxes (no spinner): "1000.00" stays readable in 5.5em.
        models.DecimalField: {"widget": forms.TextInput(attrs={"style": "width: 5.5em", "inputmode": "decimal"})},
        models.JSONField: {"form_class": OnePerLineField, "widget": forms.Textarea(
            attrs={"rows": 2, "cols": 11, "placeholder": "one per line"})},
    }
    fields = RULE_FIELDS


class OverrideRuleInline(RuleInline):
    fk_name = "override"


class LeftOutFormSet(RefusableFormSet):
    """A POST without this inline at all (no management form: a script written before the plan
    had tiers) leaves its rows as stored, rather than failing the whole page."""

    def __init__(self, data=None, *args, **kwargs):
        prefix = kwargs.get("prefix") or self.get_default_prefix()
        self.left_out = data is not None and f"{prefix}-TOTAL_FORMS" not in data
        super().__init__(None if self.left_out else data, *args, **kwargs)

    def is_valid(self):
        return True if self.left_out else super().is_valid()

    def has_changed(self):
        return False if self.left_out else super().has_changed()


class PlanForm(forms.ModelForm):
    """Basis and method are selects that always send a value; a POST that leaves one out keeps it."""

    KEPT_IF_LEFT_OUT = ("commission_basis", "accelerator_method")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.KEPT_IF_LEFT_OUT:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in self.KEPT_IF_LEFT_OUT:
            if name in self.fields and not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned


class AcceleratorForm(forms.ModelForm):
    class Meta:
        model = Accelerator
        fields = ("from_attainment", "multiplier")
        labels = {"from_attainment": "From", "multiplier": "Multiplier"}
        help_texts = {"from_attainment": "An attainment: 0.5 is half the quota, 1 the quota.",
                      "multiplier": "× the commission of the sales from there on."}


class AcceleratorInline(RefusableInline, ScopedInline):
    """The quota's tiers. Rows are sent to the service sorted by From, so a tier typed below the
    others takes its place; two tiers with one From are refused (the service's message)."""

    model = Accelerator
    form = AcceleratorForm
    formset = LeftOutFormSet
    fields = ("from_attainment", "multiplier")
    verbose_name = "accelerator tier"
    verbose_name_plural = "accelerators — tiers of the quota (they need a Quota)"


class ForgivingAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete looks up the value it shows as it was sent, so a POST whose customer is
    no id at all (a hand-made request) was a 500 while showing the form's error; such a value is
    shown as nothing chosen, beside the field's own "Select a valid choice"."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_choice(v)], attr)

    def _is_choice(self, value) -> bool:
        try:
            self.choices.field.to_python(value)
        except ValidationError:
            return False
        return True


class OverrideInline(RefusableInline, ScopedInline):
    model = CustomerOverride
    formset = RefusableFormSet
    fields = ("customer", "default_rate", "effective_start", "effective_end", "rules_link")
    readonly_fields = ("rules_link",)
    autocomplete_fields = ("customer",)  # searched by number or name, shown by name (not a bare id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["widget"] = ForgivingAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "customer" and hasattr(field.widget, "can_add_related"):
            # The customer is chosen, not edited from here: no icons beside it, so the row fits.
            field.widget.can_add_related = field.widget.can_change_related = field.widget.can_view_related = False
        return field

    @admin.display(description="rules")
    def rules_link(self, obj):
        if not obj.pk:
            return "save first"
        url = reverse("admin:commissions_customeroverride_change", args=[obj.pk])
        return format_html('<a href="{}">{} rule(s) →</a>', url, obj.rules.count())


def _row_data(formset, names) -> tuple[list[dict], list[int]]:
    """The kept rows of an inline as the service takes them, and each one's place in the formset."""
    rows = changed_rows(formset)
    return [{name: row.cleaned_data.get(name) for name in names} for row in rows], [formset.forms.index(r) for r in rows]


def _stored_override(override: CustomerOverride) -> dict:
    return {"customer_number": override.customer.customer_number, "default_rate": override.default_rate,
            "effective_start": override.effective_start, "effective_end": override.effective_end,
            "rules": list(override.rules.values(*RULE_FIELDS))}


def _router(main_wire: dict, collections: dict):
    """A refusal's wire name → (inline prefix, row, field). `collections` maps a list's wire name
    to (formset, the formset row of each item sent, the item's wire names → fields)."""

    def route(name):
        collection, index, rest = wire_parts(name)
        if index is None and not rest and collection in main_wire:
            return (None, None, main_wire[collection])
        if collection not in collections:
            return None
        formset, positions, wire = collections[collection]
        if index is None or index >= len(positions):
            return (formset.prefix, None, None)
        return (formset.prefix, positions[index], wire.get(rest))

    return route


@admin.register(CommissionPlan)
class CommissionPlanAdmin(RefusableAdmin, ScopedAdmin):
    form = PlanForm
    # Seven columns fit at 1440 pixels.
    list_display = ("name", "sales_rep", "active", "rate_shown", "basis", "quota_shown", "window")
    list_filter = ("active", "commission_basis")
    search_fields = ("name", "sales_rep__rep_number", "sales_rep__last_name")
    list_select_related = ("sales_rep", "organization")
    fieldsets = (
        (None, {"fields": ("sales_rep", "name", "description", "default_rate", ("effective_start", "effective_end"),
                           "active", "test_line_link")}),
        ("Earning, quota and accelerators", {"fields": ("commission_basis", "quota", "accelerator_method")}),
    )
    readonly_fields = ("active", "test_line_link")
    inlines = [AcceleratorInline, RuleInline, OverrideInline]
    actions = ["activate", "deactivate"]

    def get_readonly_fields(self, request, obj=None):
        # A plan stays with its rep (as in the API): make a new plan for another rep.
        return self.readonly_fields + (("sales_rep",) if obj is not None else ())

    @admin.display(description="default rate", ordering="default_rate")
    def rate_shown(self, plan):
        return percent(plan.default_rate)

    @admin.display(description="earns on", ordering="commission_basis")
    def basis(self, plan):
        return plan.commission_basis  # "Invoice" or "Payment"; the page says what each means

    @admin.display(description="effective", ordering="effective_start")
    def window(self, plan):
        return plan_window(plan)

    @admin.display(description="quota", ordering="quota")
    def quota_shown(self, plan):
        return money(plan.quota, plan.organization.currency_code)

    @admin.display(description="test a line")
    def test_line_link(self, obj):
        if not obj.pk:
            return "save first"
        url = reverse("admin:commissions_commissionplan_test_line", args=[obj.pk])
        return format_html('<a class="button" href="{}">Which rule wins for a line? →</a>', url)

    # ------------------------------------------------------------ saving, through the service

    def save_model(self, request, obj, form, change):
        pass  # the plan is written with its tiers, rules and overrides in save_related

    def save_related(self, request, form, formsets, change):
        """One call of `plan_create` / `plan_update` with what the page holds: the inlines that
        changed replace the stored lists (an override keeps its rules, edited on its own page)."""
        self.forget_saving(formsets)
        by_model = {formset.model: formset for formset in formsets}
        fields = {name: form.cleaned_data[name] for name in plans.PLAN_FIELDS if name in form.cleaned_data}
        sent, collections = {}, {}
        for key, model, wire, names in (
            ("rules", CommissionRule, "Rules", RULE_FIELDS),
            ("accelerators", Accelerator, "Accelerators", ("from_attainment", "multiplier")),
        ):
            formset = by_model.get(model)
            if formset is None:
                continue
            item_wire = RULE_WIRE if model is CommissionRule else {"From": "from_attainment",
                                                                   "Multiplier": "multiplier"}
            collections[wire] = (formset, [], item_wire)  # a refusal of the stored list: said of the whole
            if (change and not formset.has_changed()) or getattr(formset, "left_out", False):
                continue
            rows, positions = _row_data(formset, names)
            if model is Accelerator:  # in ascending From, whatever order they were typed in
                ordered = sorted(zip(rows, positions), key=lambda pair: pair[0]["from_attainment"])
                rows, positions = [r for r, _ in ordered], [p for _, p in ordered]
            sent[key] = rows
            collections[wire] = (formset, positions, item_wire)
        overrides = by_model.get(CustomerOverride)
        if overrides is not None and (not change or overrides.has_changed()):
            kept = changed_rows(overrides)
            sent["overrides"] = [self._override_data(row) for row in kept]
            collections["CustomerOverrides"] = (overrides, [overrides.forms.index(r) for r in kept], OVERRIDE_WIRE)
        try:
            if change:
                plans.plan_update(plan=form.instance, **sent, **fields)
            else:
                rep = form.cleaned_data["sales_rep"]
                plan = plans.plan_create(organization=rep.organization, sales_rep=rep, **sent, **fields)
                form.instance.pk, form.instance._state.adding = plan.pk, False
        except APIException as exc:
            raise refusal_of(exc, _router(PLAN_WIRE, collections)) from None

    @staticmethod
    def _override_data(row) -> dict:
        data = row.cleaned_data
        return {"customer_number": data["customer"].customer_number, "default_rate": data.get("default_rate"),
                "effective_start": data.get("effective_start"), "effective_end": data.get("effective_end"),
                "rules": list(row.instance.rules.values(*RULE_FIELDS)) if row.instance.pk else []}

    # ------------------------------------------------------------ the "test a line" page

    def get_urls(self):
        return [
            path("<uuid:plan_id>/test-line/", self.admin_site.admin_view(self.test_line_view),
                 name="commissions_commissionplan_test_line"),
        ] + super().get_urls()

    def test_line_view(self, request, plan_id):
        """Read-only: rates one made-up line with the plan as stored, at the multiplier its
        accelerators give it after the sales so far this period."""
        plan = get_object_or_404(self.get_queryset(request).select_related("organization"), pk=plan_id)
        form = TestLineForm(request.GET or None, initial={"line_date": timezone.localdate()})
        schedule = plans.plan_schedule(plan)
        result = None
        if form.is_valid():
            data = form.cleaned_data
            rating = plans.plan_compiled(plan).rate(data["sku"], data["product_name"], data["customer_number"],
                                                    data["amount"], data["line_date"])
            result = {"rating": rating}
            if rating is not None:
                result.update(_test_line_result(plan, schedule, rating, data))
        tiers = [{"from": _factor(tier.from_attainment), "multiplier": _factor(tier.multiplier),
                  "threshold": _plain(threshold)}
                 for tier, threshold in zip(plan.accelerators.all(), schedule.thresholds)]
        context = {**self.admin_site.each_context(request), "title": f"Test a line against {plan}", "plan": plan,
                   "form": form, "result": result, "tiers": tiers, "currency": plan.organization.currency_code,
                   "opts": self.model._meta}
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
    amount = forms.DecimalField(label="Line amount", max_digits=14, decimal_places=2, min_value=0,
                                help_text="Quantity × price: the invoice line's whole amount.")
    quantity = forms.IntegerField(min_value=1, required=False, initial=1,
                                  help_text="Units sold, for a rule paying per unit (empty: 1).")
    sales_so_far = forms.DecimalField(label="Sales so far this period", max_digits=14, decimal_places=2,
                                      min_value=0, required=False,
                                      help_text="The rep's sales lines before this one on the statement "
                                                "(the running total), for the accelerators (empty: 0).")
    line_date = forms.DateField(label="Date (paid on)", initial=datetime.date.today)


CENTS = Decimal("0.01")


def _plain(value: Decimal) -> Decimal:
    """750.000 → 750.00, 333.3333 as it is: exact, with no trailing zeros past the cents."""
    cents = value.quantize(CENTS)
    return cents if cents == value else Decimal(f"{value.normalize():f}")


def _factor(value: Decimal) -> str:
    """A multiplier as staff write it: 1.5000 → 1.5, 2.0000 → 2, 10 → 10."""
    return f"{value.normalize():f}"


def _test_line_result(plan: CommissionPlan, schedule: engine.MultiplierSchedule, rating: engine.Rating,
                      data: dict) -> dict:
    """§6 for one line of the whole amount (share 1): B, the multiplier after `sales_so_far`
    (Marginal: the mean of m over [s₀, s₀ + amount); Retroactive: m(s₀ + amount)) and the commission."""
    amount, quantity = data["amount"].quantize(CENTS), data["quantity"] or 1
    s0 = (data["sales_so_far"] or Decimal("0")).quantize(CENTS)
    s1 = s0 + amount
    line = {"line_amount": amount, "quantity": quantity, "whole_amount": amount, "share": Decimal(1)}
    out = {"quantity": quantity, "amount": amount, "s0": s0, "s1": s1, "base": engine.line_commission(rating, **line),
           "accelerated": bool(schedule.thresholds), "method": plan.accelerator_method, "pieces": []}
    if not schedule.thresholds:
        multiplier = Fraction(1)
    elif plan.accelerator_method == AcceleratorMethod.RETROACTIVE:
        multiplier = schedule.retroactive(s1)
        out["tier_multiplier"] = _factor(Decimal(multiplier.numerator) / Decimal(multiplier.denominator))
    else:
        multiplier = schedule.marginal(s0, amount)
        cuts = [s0, *(t for t in schedule.thresholds if s0 < t < s1), s1]
        for start, end in ((a, b) for a, b in zip(cuts, cuts[1:]) if b > a):
            m = schedule.m(start)
            tier = Decimal(m.numerator) / Decimal(m.denominator)  # exact: a stored multiplier, 4 decimals
            out["pieces"].append({"start": _plain(start), "end": _plain(end), "multiplier": _factor(tier),
                                  "weighted": _plain((end - start) * tier)})
        out["weighted_sum"] = _plain(schedule.weighted_sum(s0, amount))
    out["multiplier"] = engine.display_multiplier(multiplier)
    out["commission"] = engine.line_commission(rating, **line, multiplier=multiplier)
    out["attainment"] = engine.attainment(s1, plan.quota) if plan.quota else None
    return out


@admin.register(CustomerOverride)
class CustomerOverrideAdmin(RefusableAdmin, ScopedAdmin):
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

    def save_model(self, request, obj, form, change):
        pass  # written with the plan's other overrides in save_related

    def save_related(self, request, form, formsets, change):
        """Through `plan_update`: the plan's overrides as stored, this one as the page says (its
        rules replaced when they changed). The service writes the overrides anew, so the page's
        override is found again by its place among them."""
        self.forget_saving(formsets)
        override = form.instance
        plan = CommissionPlan.objects.get(pk=override.plan_id)
        siblings = list(plan.overrides.select_related("customer"))
        data = [_stored_override(sibling) for sibling in siblings]
        mine = next(index for index, sibling in enumerate(siblings) if sibling.pk == override.pk)
        data[mine].update({name: form.cleaned_data[name] for name in ("default_rate", "effective_start",
                                                                      "effective_end") if name in form.cleaned_data})
        collections = {}
        rules = next((formset for formset in formsets if formset.model is CommissionRule), None)
        if rules is not None and rules.has_changed():
            data[mine]["rules"], positions = _row_data(rules, RULE_FIELDS)
            collections["Rules"] = (rules, positions, RULE_WIRE)

        def route(name):
            collection, index, rest = wire_parts(name)
            if collection != "CustomerOverrides" or index != mine:
                return None
            if rest in OVERRIDE_WIRE:
                return (None, None, OVERRIDE_WIRE[rest])
            return _router({}, collections)(rest)

        try:
            plans.plan_update(plan=plan, overrides=data)
        except APIException as exc:
            raise refusal_of(exc, route) from None
        override.pk = plan.overrides.get(position=mine).pk

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if any(key in request.POST for key in ("_continue", "_addanother", "_saveasnew")):
            return response
        return HttpResponseRedirect(reverse("admin:commissions_commissionplan_change", args=[obj.plan_id]))
