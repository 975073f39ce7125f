"""Commission plans (priority-ordered rules, customer overrides, quota and accelerators) and the
statements they produce.

A statement line is "live" while its statement is not void. Partial unique indexes on the live
lines guarantee that no earning — an invoice line earned whole, or one payment's share of it — is
paid twice to the same rep, and no credit-memo line clawed back twice from the same rep, whatever
races between generations. (That a line earned whole has no payment shares, and the reverse, is
kept by the rep-row lock the generator holds.)
"""
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_celery_beat.models import PeriodicTask
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer
from nymble.models import Organization
from nymble.scoping import ScopedQuerySet, principal_of
from orders.models import CreditMemoLine, Invoice, InvoiceLine, Payment
from salesreps.models import OrganizationSalesRep

RATE = {"max_digits": 5, "decimal_places": 4}
PER_UNIT = {"max_digits": 14, "decimal_places": 4}
FACTOR = {"max_digits": 10, "decimal_places": 4}


def validate_string_list(value) -> None:
    """Patterns and customer numbers are lists of non-empty strings. A bare string would be read
    character by character, and a lone `*` matches every SKU: refuse it here, whatever the door."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValidationError('Must be a list of non-empty strings, e.g. ["WDG-*", "A?C"].')
MONEY = {"max_digits": 14, "decimal_places": 2}

# Django %-formats validator and constraint messages (with the limit, the constraint's name), so
# the percent sign is doubled: a lone "%)" was a ValueError, a 500 in the admin.
RATE_MESSAGE = "A rate is between 0 and 1 (0.05 = 5%%)."
# On the field, so a form shows the message there (and checks no constraint of a rate it refused);
# the check constraints below keep the rule in the database.
RATE_VALIDATORS = [MinValueValidator(0, RATE_MESSAGE), MaxValueValidator(1, RATE_MESSAGE)]


class RepOwnedQuerySet(ScopedQuerySet):
    """Plans and statements: admins see the organization's, a rep its own, portal users none."""

    def visible_to(self, user):
        principal = principal_of(user)
        qs = self.in_organization_of(user)
        if principal is None or principal.is_customer:
            return self.none()
        if principal.is_rep:
            return qs.filter(sales_rep_id=principal.sales_rep_id)
        return qs


class CommissionBasis(models.TextChoices):
    INVOICE = "Invoice", "Invoice (a line earns when its invoice is paid in full)"
    PAYMENT = "Payment", "Payment (every payment earns its share)"


class AcceleratorMethod(models.TextChoices):
    MARGINAL = "Marginal", "Marginal (each part of the sales at its tier's multiplier)"
    RETROACTIVE = "Retroactive", "Retroactive (every line at the tier reached)"


class CommissionPlan(models.Model):
    id = models.UUIDField("CommissionPlanId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="commission_plans")
    sales_rep = models.ForeignKey(OrganizationSalesRep, on_delete=models.PROTECT, related_name="commission_plans")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    default_rate = models.DecimalField(**RATE, validators=RATE_VALIDATORS)
    effective_start = models.DateField(null=True, blank=True)
    effective_end = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=False)
    commission_basis = models.CharField(max_length=16, choices=CommissionBasis.choices, default=CommissionBasis.INVOICE)
    quota = models.DecimalField(**MONEY, null=True, blank=True, help_text="Expected sales in one statement period.")
    accelerator_method = models.CharField(max_length=16, choices=AcceleratorMethod.choices,
                                          default=AcceleratorMethod.MARGINAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RepOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["sales_rep__rep_number", "-active", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sales_rep"], condition=Q(active=True), name="one_active_plan_per_rep"),
            models.CheckConstraint(condition=Q(default_rate__gte=0, default_rate__lte=1), name="plan_rate_0_to_1",
                                   violation_error_message=RATE_MESSAGE),
            models.CheckConstraint(
                condition=Q(effective_end__isnull=True) | Q(effective_start__isnull=True)
                | Q(effective_end__gte=F("effective_start")),
                name="plan_window_ordered", violation_error_message="The plan ends before it starts.",
            ),
            models.CheckConstraint(condition=Q(quota__isnull=True) | Q(quota__gt=0), name="plan_quota_positive",
                                   violation_error_message="A quota is above 0."),
        ]

    def __str__(self) -> str:
        return self.name


class Accelerator(models.Model):
    """A tier of a plan's quota: from `From` × Quota of sales on, lines earn `Multiplier` × their commission."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="accelerators")
    from_attainment = models.DecimalField(**FACTOR)
    multiplier = models.DecimalField(**FACTOR)

    class Meta:
        ordering = ["from_attainment"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "from_attainment"], name="accelerator_from_unique"),
            models.CheckConstraint(condition=Q(from_attainment__gte=0), name="accelerator_from_not_negative",
                                   violation_error_message="From is an attainment of 0 or more."),
            models.CheckConstraint(condition=Q(multiplier__gte=0), name="accelerator_multiplier_not_negative",
                                   violation_error_message="A multiplier is 0 or more."),
        ]

    def __str__(self) -> str:
        return f"from {self.from_attainment} × {self.multiplier}"


class CustomerOverride(models.Model):
    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="overrides")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="commission_overrides")
    default_rate = models.DecimalField(**RATE, null=True, blank=True, validators=RATE_VALIDATORS)
    effective_start = models.DateField(null=True, blank=True)
    effective_end = models.DateField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_rate__isnull=True) | Q(default_rate__gte=0, default_rate__lte=1),
                name="override_rate_0_to_1", violation_error_message=RATE_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(effective_end__isnull=True) | Q(effective_start__isnull=True)
                | Q(effective_end__gte=F("effective_start")),
                name="override_window_ordered", violation_error_message="The override ends before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Override {self.customer.customer_number}"


class CommissionRule(models.Model):
    """A rule of a plan, or of one of its customer overrides (exactly one of the two)."""

    plan = models.ForeignKey(CommissionPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    override = models.ForeignKey(
        CustomerOverride, null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    priority = models.IntegerField()
    name = models.CharField(max_length=200)
    rate = models.DecimalField(**RATE, null=True, blank=True, validators=RATE_VALIDATORS)
    amount_per_unit = models.DecimalField(**PER_UNIT, null=True, blank=True, help_text="Paid per unit sold.")
    sku_patterns = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    product_name_patterns = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    customer_numbers = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    min_line_amount = models.DecimalField(**MONEY, null=True, blank=True)
    max_line_amount = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta:
        ordering = ["priority"]
        constraints = [
            models.CheckConstraint(
                condition=Q(plan__isnull=False, override__isnull=True) | Q(plan__isnull=True, override__isnull=False),
                name="rule_belongs_to_plan_or_override",
            ),
            models.UniqueConstraint(fields=["plan", "priority"], condition=Q(plan__isnull=False),
                                    name="rule_priority_unique_in_plan"),
            models.UniqueConstraint(fields=["override", "priority"], condition=Q(override__isnull=False),
                                    name="rule_priority_unique_in_override"),
            models.CheckConstraint(condition=Q(rate__isnull=True) | Q(rate__gte=0, rate__lte=1), name="rule_rate_0_to_1",
                                   violation_error_message=RATE_MESSAGE),
            models.CheckConstraint(
                condition=Q(rate__isnull=False, amount_per_unit__isnull=True)
                | Q(rate__isnull=True, amount_per_unit__isnull=False, amount_per_unit__gte=0),
                name="rule_pays_rate_or_per_unit",
                violation_error_message="A rule pays either a Rate or an AmountPerUnit (0 or more), not both.",
            ),
            models.CheckConstraint(
                condition=Q(min_line_amount__isnull=True) | Q(max_line_amount__isnull=True)
                | Q(max_line_amount__gte=F("min_line_amount")),
                name="rule_amounts_ordered", violation_error_message="The maximum line amount is below the minimum.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {self.name}"


class StatementStatus(models.TextChoices):
    GENERATING = "Generating"
    FAILED = "Failed"
    DRAFT = "Draft"
    APPROVED = "Approved"
    PAID = "Paid"
    VOID = "Void"


class CommissionStatement(models.Model):
    id = models.UUIDField("CommissionStatementId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="commission_statements")
    sales_rep = models.ForeignKey(OrganizationSalesRep, on_delete=models.PROTECT, related_name="statements")
    plan = models.ForeignKey(CommissionPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateField()
    period_end = models.DateField()
    currency_code = models.CharField("currency", max_length=3)
    include_earlier = models.BooleanField(
        default=False, help_text="Catch-up: also lines dated before the period that are on no live statement."
    )
    status = models.CharField(max_length=16, choices=StatementStatus.choices, default=StatementStatus.GENERATING)
    sales_total = models.DecimalField(**MONEY, default=0, help_text="The sales lines' amounts (no clawbacks).")
    quota = models.DecimalField(**MONEY, null=True, blank=True)
    attainment = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    lines_total = models.DecimalField(**MONEY, default=0)
    adjustments_total = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY, default=0, help_text="LinesTotal + AdjustmentsTotal.")
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=128, blank=True)
    failure = models.TextField(blank=True, help_text="Why the last generation failed.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RepOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "sales_rep__rep_number"]
        constraints = [
            # One statement per rep, period and currency unless voided: a rerun of the schedule,
            # or two racing generations, cannot make a second one.
            models.UniqueConstraint(
                fields=["sales_rep", "period_start", "period_end", "currency_code"],
                condition=~Q(status="Void"), name="one_statement_per_rep_period",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="statement_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.sales_rep.rep_number} {self.period_start}–{self.period_end} {self.currency_code}"


class StatementEntry(models.Model):
    """One invoice on a statement, with its lines' commissions summed."""

    statement = models.ForeignKey(CommissionStatement, on_delete=models.CASCADE, related_name="entries")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="statement_entries")
    invoice_number = models.CharField(max_length=20)
    customer_number = models.CharField(max_length=64)
    commission = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["invoice_number"]
        constraints = [models.UniqueConstraint(fields=["statement", "invoice"], name="one_entry_per_invoice")]


class StatementLine(models.Model):
    """One earning of the statement's rep: an invoice line earned whole (`payment` null) or one
    payment's share of it, or a clawback of a credit-memo line. `sales_rep` repeats the
    statement's, so the unique indexes can say "once per rep".

    The database checks none of the line's foreign keys (`db_constraint=False`): on a statement of
    a million lines each one is a million trigger calls at commit, about a fifth of generation's
    time. What they would say holds by construction: generation, the only writer, copies the
    statement, its rep and the entry from the statement it writes, and takes the invoice line,
    payment and credit-memo line from rows it has just read under the invoices' share lock; none of
    those rows is ever deleted (PROTECT, and no service deletes invoices, their lines, payments or
    credit memos); entries and lines go only with their statement, through Django's cascade.
    The statement property test (`dangling_references`) holds generation to it on every example."""

    statement = models.ForeignKey(CommissionStatement, on_delete=models.CASCADE, related_name="lines",
                                  db_constraint=False)
    entry = models.ForeignKey(StatementEntry, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    # Not indexed alone, and the invoice line only with the rep (Meta.indexes): see there.
    sales_rep = models.ForeignKey(OrganizationSalesRep, on_delete=models.PROTECT, related_name="+", db_index=False,
                                  db_constraint=False)
    invoice_line = models.ForeignKey(InvoiceLine, null=True, on_delete=models.PROTECT, related_name="+",
                                     db_index=False, db_constraint=False)
    payment = models.ForeignKey(Payment, null=True, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    credit_memo_line = models.ForeignKey(CreditMemoLine, null=True, on_delete=models.PROTECT, related_name="+",
                                         db_constraint=False)
    live = models.BooleanField(default=True, help_text="False once the statement is void: the line is free again.")
    line_date = models.DateField()
    sku = models.CharField("SKU", max_length=64)
    product_name = models.CharField(max_length=200)
    quantity = models.IntegerField()
    line_amount = models.DecimalField(**MONEY)
    share = models.DecimalField(**RATE, default=1)
    rate = models.DecimalField(**RATE, null=True)
    amount_per_unit = models.DecimalField(**PER_UNIT, null=True)
    rate_source = models.CharField(max_length=300)
    multiplier = models.DecimalField(max_digits=16, decimal_places=6, default=1, help_text="Shown to 6 decimals.")
    # The exact multiplier (numerator / denominator), which a later clawback of this line uses.
    multiplier_numerator = models.DecimalField(max_digits=30, decimal_places=10, default=1)
    multiplier_denominator = models.DecimalField(**MONEY, default=1)
    commission = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["entry_id", "pk"]
        # "This rep's live lines of these invoice lines" (generation's probes, the clawbacks' original
        # line) is looked up by the invoice lines. Given an index led by the rep, a planner that sees the
        # statement table as small (as it is when a generation starts writing into it) takes it, and
        # reads every line the generation has written so far once per chunk: quadratic in the
        # statement's size. So no index here starts with the rep (deleting a rep, which PROTECT
        # refuses anyway, scans the table).
        indexes = [models.Index(fields=["invoice_line", "sales_rep"], name="statement_line_line_rep")]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_line", "sales_rep"],
                condition=Q(live=True, invoice_line__isnull=False, payment__isnull=True),
                name="line_earned_whole_once_per_rep",
            ),
            models.UniqueConstraint(
                fields=["invoice_line", "sales_rep", "payment"],
                condition=Q(live=True, invoice_line__isnull=False, payment__isnull=False),
                name="payment_share_earned_once_per_rep",
            ),
            models.UniqueConstraint(fields=["credit_memo_line", "sales_rep"],
                                    condition=Q(live=True, credit_memo_line__isnull=False),
                                    name="credit_line_clawed_back_once_per_rep"),
            models.CheckConstraint(
                condition=Q(invoice_line__isnull=False, credit_memo_line__isnull=True)
                | Q(invoice_line__isnull=True, credit_memo_line__isnull=False),
                name="statement_line_has_one_source",
            ),
        ]


class StatementAdjustment(models.Model):
    """A signed amount staff add to a Draft by hand (a bonus, a correction, a deduction), with its reason."""

    id = models.UUIDField("AdjustmentId", primary_key=True, default=uuid.uuid4, editable=False)
    statement = models.ForeignKey(CommissionStatement, on_delete=models.CASCADE, related_name="adjustments")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=500)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    invoice_number = models.CharField(max_length=20, blank=True)
    actor = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="adjustment_not_zero",
                                              violation_error_message="An adjustment is not 0.")]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.reason}"


class DisputeStatus(models.TextChoices):
    OPEN = "Open"
    RESOLVED = "Resolved"


class StatementDispute(models.Model):
    """A rep's question about its statement (a line, an invoice, a SKU); approval and payment wait
    for it to be resolved."""

    id = models.UUIDField("DisputeId", primary_key=True, default=uuid.uuid4, editable=False)
    statement = models.ForeignKey(CommissionStatement, on_delete=models.CASCADE, related_name="disputes")
    status = models.CharField(max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    note = models.TextField()
    invoice_number = models.CharField(max_length=20, blank=True)
    sku = models.CharField("SKU", max_length=64, blank=True)
    raised_by = models.CharField(max_length=254)
    raised_at = models.DateTimeField(default=timezone.now)
    resolution = models.TextField(blank=True)
    resolved_by = models.CharField(max_length=254, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        indexes = [models.Index(fields=["status"], name="dispute_by_status")]

    def __str__(self) -> str:
        return f"{self.status}: {self.note[:60]}"


class EventType(models.TextChoices):
    CREATED = "Created"
    RECALCULATED = "Recalculated"
    ADJUSTED = "Adjusted"
    DISPUTED = "Disputed"
    DISPUTE_RESOLVED = "DisputeResolved"
    APPROVED = "Approved"
    PAID = "Paid"
    VOIDED = "Voided"
    FAILED = "Failed"


class StatementEvent(models.Model):
    """Append-only history of a statement: never updated, never deleted."""

    statement = models.ForeignKey(CommissionStatement, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=16, choices=EventType.choices)
    actor = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]


class StatementScheduleQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        principal = principal_of(user)
        return self.in_organization_of(user) if principal is not None and principal.is_admin else self.none()


class StatementSchedule(models.Model):
    """When an organization's monthly statements are made, in its own time zone (§7). Made with the
    organization; `periodic_task` is the django-celery-beat task whose crontab follows it."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="statement_schedule")
    enabled = models.BooleanField(default=True, help_text="Make last month's Draft statements every month.")
    day_of_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="1–28, so that every month has the day.")
    hour = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(0), MaxValueValidator(23)],
                                            help_text="0–23, in the organization's time zone.")
    periodic_task = models.OneToOneField(PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", editable=False)

    objects = StatementScheduleQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(day_of_month__gte=1, day_of_month__lte=28),
                                   name="schedule_day_1_to_28", violation_error_message="A day from 1 to 28."),
            models.CheckConstraint(condition=Q(hour__gte=0, hour__lte=23), name="schedule_hour_0_to_23",
                                   violation_error_message="An hour from 0 to 23."),
        ]

    def __str__(self) -> str:
        state = f"day {self.day_of_month} at {self.hour:02d}:00" if self.enabled else "off"
        return f"Monthly statements of {self.organization.org_code}: {state}"
