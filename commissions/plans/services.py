"""Commission plan writes (create, replace, update, activate, deactivate) and the plan as the
rate engine reads it (`plan_spec`)."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from audit.services import audit_record, audit_snapshot
from commissions.engine import AcceleratorSpec, MultiplierSchedule, OverrideSpec, PlanSpec, RuleSpec, compile_plan
from commissions.models import (
    Accelerator,
    AcceleratorMethod,
    CommissionBasis,
    CommissionPlan,
    CommissionRule,
    CustomerOverride,
)
from customers.models import Customer
from nymble.api.problems import Conflict
from nymble.models import Organization
from salesreps.models import OrganizationSalesRep

PLAN_FIELDS = ("name", "description", "default_rate", "effective_start", "effective_end", "commission_basis", "quota",
               "accelerator_method")
# The child lists a plan's audit entries compare.
AUDITED_CHILDREN = ("rules", "overrides", "accelerators")
# What a PUT leaves out is reset to this.
PLAN_RESET = {"description": "", "effective_start": None, "effective_end": None,
              "commission_basis": CommissionBasis.INVOICE, "quota": None, "accelerator_method": AcceleratorMethod.MARGINAL}


def _rule_errors(rules: list[dict], prefix: str) -> dict:
    errors, seen = {}, {}
    for index, rule in enumerate(rules):
        priority = rule["priority"]
        if priority in seen:
            errors[f"{prefix}[{index}].Priority"] = [f"Priority {priority} is used by rule {seen[priority]} too."]
        seen.setdefault(priority, index)
        if (rule.get("rate") is None) == (rule.get("amount_per_unit") is None):
            errors[f"{prefix}[{index}].Rate"] = ["A rule pays either a Rate or an AmountPerUnit: give exactly one."]
        low, high = rule.get("min_line_amount"), rule.get("max_line_amount")
        if low is not None and high is not None and low > high:
            errors[f"{prefix}[{index}].Match.MaxLineAmount"] = ["Must be at least MinLineAmount."]
    return errors


def _window_errors(start, end, prefix: str = "") -> dict:
    if start is not None and end is not None and end < start:
        return {f"{prefix}EffectiveEndDate": ["Must not be before EffectiveStartDate."]}
    return {}


def _accelerator_errors(accelerators: list[dict], quota) -> dict:
    if not accelerators:
        return {}
    if quota is None:
        return {"Accelerators": ["Accelerators need a Quota."]}
    errors = {}
    for index, (before, tier) in enumerate(zip(accelerators, accelerators[1:]), start=1):
        if tier["from_attainment"] <= before["from_attainment"]:
            errors[f"Accelerators[{index}].From"] = ["Each tier's From is above the one before it."]
    return errors


def _validated(organization: Organization, data: dict) -> dict:
    """Checks what the database cannot say in a field's name; returns overrides with their customers."""
    errors = {}
    errors.update(_rule_errors(data.get("rules", []), "Rules"))
    errors.update(_accelerator_errors(data.get("accelerators", []), data.get("quota")))
    errors.update(_window_errors(data.get("effective_start"), data.get("effective_end")))
    overrides = data.get("overrides", [])
    numbers = {o["customer_number"] for o in overrides}
    customers = {c.customer_number: c for c in Customer.objects.filter(organization=organization, customer_number__in=numbers)}
    for index, override in enumerate(overrides):
        prefix = f"CustomerOverrides[{index}]"
        if override["customer_number"] not in customers:
            errors[f"{prefix}.CustomerNumber"] = [f"No customer '{override['customer_number']}' in this organization."]
        errors.update(_rule_errors(override.get("rules", []), f"{prefix}.Rules"))
        errors.update(_window_errors(override.get("effective_start"), override.get("effective_end"), f"{prefix}."))
    if errors:
        raise serializers.ValidationError(errors)
    return customers


def _write_children(plan: CommissionPlan, rules: list[dict] | None, overrides: list[dict] | None, customers: dict,
                    accelerators: list[dict] | None = None):
    if accelerators is not None:
        plan.accelerators.all().delete()
        Accelerator.objects.bulk_create(Accelerator(plan=plan, **tier) for tier in accelerators)
    if rules is not None:
        plan.rules.all().delete()
        CommissionRule.objects.bulk_create(CommissionRule(plan=plan, **rule) for rule in rules)
    if overrides is not None:
        plan.overrides.all().delete()
        for position, data in enumerate(overrides):
            override_rules = data.get("rules", [])
            override = CustomerOverride.objects.create(
                plan=plan, customer=customers[data["customer_number"]], position=position,
                default_rate=data.get("default_rate"), effective_start=data.get("effective_start"),
                effective_end=data.get("effective_end"),
            )
            CommissionRule.objects.bulk_create(CommissionRule(override=override, **rule) for rule in override_rules)


def sales_rep_by_global_id(organization: Organization, sales_rep_id) -> OrganizationSalesRep:
    rep = OrganizationSalesRep.objects.filter(organization=organization, sales_rep_id=sales_rep_id).first()
    if rep is None:
        raise serializers.ValidationError({"SalesRepId": ["No sales rep with this SalesRepId in this organization."]})
    return rep


@transaction.atomic
def plan_create(*, organization: Organization, sales_rep: OrganizationSalesRep, rules=None, overrides=None,
                accelerators=None, active: bool = False, **fields) -> CommissionPlan:
    customers = _validated(organization, {**fields, "rules": rules or [], "overrides": overrides or [],
                                          "accelerators": accelerators or []})
    plan = CommissionPlan.objects.create(organization=organization, sales_rep=sales_rep,
                                         **{k: v for k, v in fields.items() if k in PLAN_FIELDS})
    _write_children(plan, rules or [], overrides or [], customers, accelerators or [])
    audit_record(plan, "created", children=AUDITED_CHILDREN)
    if active:
        plan = plan_set_active(plan=plan, active=True)
    return plan


@transaction.atomic
def plan_update(*, plan: CommissionPlan, replace: bool = False, rules=None, overrides=None, accelerators=None,
                sales_rep: OrganizationSalesRep | None = None, **changes) -> CommissionPlan:
    """PATCH sets what is given (given rule or override lists replace the stored ones); PUT
    (`replace`) resets what it leaves out. Statements already approved or paid keep their lines."""
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    before = audit_snapshot(plan, AUDITED_CHILDREN)
    if sales_rep is not None and sales_rep.pk != plan.sales_rep_id:
        raise serializers.ValidationError({"SalesRepId": ["A plan stays with its rep: create a new plan instead."]})
    if replace:
        changes = {**PLAN_RESET, **changes}
        rules, overrides, accelerators = rules or [], overrides or [], accelerators or []
    merged = {field: changes.get(field, getattr(plan, field)) for field in PLAN_FIELDS}
    tiers = accelerators if accelerators is not None else list(plan.accelerators.values("from_attainment",
                                                                                          "multiplier"))
    customers = _validated(plan.organization, {**merged, "rules": rules or [], "overrides": overrides or [],
                                               "accelerators": tiers})
    for field in PLAN_FIELDS:
        setattr(plan, field, merged[field])
    plan.updated_at = timezone.now()
    plan.save()
    _write_children(plan, rules, overrides, customers, accelerators)
    audit_record(plan, "updated", before=before)
    return plan


@transaction.atomic
def plan_set_active(*, plan: CommissionPlan, active: bool) -> CommissionPlan:
    """Activating a plan deactivates the rep's other plan in the same transaction. The rep's row
    is locked first, so two activations for one rep take turns; the partial unique index on
    active plans is the guarantee behind it."""
    OrganizationSalesRep.objects.select_for_update().get(pk=plan.sales_rep_id)
    if active:
        others = list(CommissionPlan.objects.filter(sales_rep_id=plan.sales_rep_id, active=True).exclude(pk=plan.pk))
        CommissionPlan.objects.filter(pk__in=[other.pk for other in others]).update(active=False,
                                                                                    updated_at=timezone.now())
        for other in others:
            audit_record(other, "deactivated", changes={"active": [True, False]})
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    before = audit_snapshot(plan)
    plan.active = active
    plan.updated_at = timezone.now()
    try:
        with transaction.atomic():
            plan.save(update_fields=["active", "updated_at"])
    except IntegrityError:
        raise Conflict("Another plan of this rep was activated at the same time; try again.") from None
    audit_record(plan, "activated" if active else "deactivated", before=before)
    return plan


def active_plan(sales_rep: OrganizationSalesRep) -> CommissionPlan | None:
    return CommissionPlan.objects.filter(sales_rep=sales_rep, active=True).first()


def _rule_spec(rule: CommissionRule) -> RuleSpec:
    return RuleSpec(
        priority=rule.priority, name=rule.name, rate=rule.rate, amount_per_unit=rule.amount_per_unit,
        sku_patterns=tuple(rule.sku_patterns),
        product_name_patterns=tuple(rule.product_name_patterns), customer_numbers=tuple(rule.customer_numbers),
        min_line_amount=rule.min_line_amount, max_line_amount=rule.max_line_amount,
    )


def plan_spec(plan: CommissionPlan) -> PlanSpec:
    """The plan as plain data for the rate engine (three queries)."""
    overrides = list(plan.overrides.select_related("customer").prefetch_related("rules"))
    return PlanSpec(
        default_rate=plan.default_rate, effective_start=plan.effective_start, effective_end=plan.effective_end,
        rules=tuple(_rule_spec(rule) for rule in plan.rules.all()),
        overrides=tuple(
            OverrideSpec(customer_number=o.customer.customer_number, default_rate=o.default_rate,
                         effective_start=o.effective_start, effective_end=o.effective_end,
                         rules=tuple(_rule_spec(rule) for rule in o.rules.all()))
            for o in overrides
        ),
    )


def plan_compiled(plan: CommissionPlan):
    return compile_plan(plan_spec(plan))


def plan_schedule(plan: CommissionPlan) -> MultiplierSchedule:
    """The plan's quota and accelerators as the engine's multiplier schedule."""
    tiers = [AcceleratorSpec(from_attainment=a.from_attainment, multiplier=a.multiplier)
             for a in plan.accelerators.all()]
    return MultiplierSchedule(quota=plan.quota, accelerators=tiers, method=plan.accelerator_method)
