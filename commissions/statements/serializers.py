"""Commission statements on the wire (§4 "Commission statements"): the request bodies of generation
and of each transition, the header a list shows, and the full statement with entries, lines and events."""
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from commissions.models import DisputeStatus, EventType, StatementStatus
from nymble.api.serializers import ApiSerializer, CurrencyField, MoneyField, OptionalTextField, RateField


class StatementStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=StatementStatus.choices, **kwargs)


class StatementStatusFieldSchema(OpenApiSerializerFieldExtension):
    """One named enum for the statement's status, shared by the list and the detail (drf-spectacular
    cannot name a choice set used by two components without a settings override)."""

    target_class = StatementStatusField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="StatementStatusEnum", type=ResolvedComponent.SCHEMA, object="StatementStatusEnum",
            schema={"type": "string", "enum": list(StatementStatus.values),
                    "description": "Generating → Draft (or Failed) → Approved → Paid; Draft, Approved and Failed "
                                   "may be voided."},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class StatementGenerateSerializer(ApiSerializer):
    """A rep and a period to generate a statement for. The other keys of a statement (its id,
    status, totals, timestamps, entries) are ignored, so a fetched statement can be sent as it is."""

    SalesRepId = serializers.UUIDField()
    PeriodStart = serializers.DateField()
    PeriodEnd = serializers.DateField()
    CurrencyCode = CurrencyField(required=False, allow_null=True, help_text="Default: the organization's currency.")
    IncludeEarlier = serializers.BooleanField(
        required=False, default=False,
        help_text="Catch-up: also take the rep's lines dated before PeriodStart that are on no live statement.",
    )
    # Read-only for that: an ApiSerializer refuses the keys it does not know (§3).
    CommissionStatementId = serializers.UUIDField(read_only=True)
    RepNumber = serializers.CharField(read_only=True)
    Status = StatementStatusField(read_only=True)
    Total = MoneyField(read_only=True)
    SalesTotal = MoneyField(read_only=True)
    Quota = MoneyField(read_only=True)
    Attainment = serializers.DecimalField(max_digits=16, decimal_places=4, read_only=True)
    LinesTotal = MoneyField(read_only=True)
    AdjustmentsTotal = MoneyField(read_only=True)
    Adjustments = serializers.ListField(read_only=True)
    Disputes = serializers.ListField(read_only=True)
    PaidAt = serializers.DateTimeField(read_only=True)
    PaymentReference = serializers.CharField(read_only=True)
    Failure = serializers.CharField(read_only=True)
    CreatedAt = serializers.DateTimeField(read_only=True)
    UpdatedAt = serializers.DateTimeField(read_only=True)
    Entries = serializers.ListField(read_only=True)
    Events = serializers.ListField(read_only=True)

    def validate(self, attrs):
        if attrs["PeriodEnd"] < attrs["PeriodStart"]:
            raise serializers.ValidationError({"PeriodEnd": ["Must not be before PeriodStart."]})
        return attrs


class NoteSerializer(ApiSerializer):
    """The body of recalculate, approve and void: an optional note recorded on the statement's event."""

    Note = OptionalTextField(max_length=2000)


class MarkPaidSerializer(NoteSerializer):
    """The body of mark-paid: when and by what the statement was paid, and an optional note for its event."""

    PaidAt = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
    Reference = OptionalTextField(max_length=128, help_text="The payment's reference (a payroll run, a transfer).")


class AdjustmentRequestSerializer(ApiSerializer):
    """A signed amount added to a Draft statement, with its reason."""

    Amount = MoneyField(help_text="Signed: a bonus or a correction up, a deduction down; not 0.")
    Reason = serializers.CharField(max_length=500)
    InvoiceNumber = OptionalTextField(max_length=20, help_text="The invoice it concerns, if one.")


class AdjustmentSerializer(serializers.Serializer):
    """An adjustment on a statement: who added it, when, and why."""

    AdjustmentId = serializers.UUIDField(source="id")
    Amount = MoneyField(source="amount")
    Reason = serializers.CharField(source="reason")
    InvoiceNumber = serializers.CharField(source="invoice_number")
    Actor = serializers.CharField(source="actor")
    At = serializers.DateTimeField(source="at")


class DisputeRequestSerializer(ApiSerializer):
    """A rep's question about its statement, about an invoice or a SKU if it names one."""

    Note = serializers.CharField(max_length=2000, help_text="What looks wrong.")
    InvoiceNumber = OptionalTextField(max_length=20)
    Sku = OptionalTextField(max_length=64)


class ResolveRequestSerializer(ApiSerializer):
    """How an admin settled a dispute."""

    Resolution = serializers.CharField(max_length=2000)


class DisputeSerializer(serializers.Serializer):
    """A dispute on a statement, Open until an admin resolves it (approval and payment wait for that)."""

    DisputeId = serializers.UUIDField(source="id")
    Status = serializers.ChoiceField(source="status", choices=DisputeStatus.choices)
    Note = serializers.CharField(source="note")
    InvoiceNumber = serializers.CharField(source="invoice_number")
    Sku = serializers.CharField(source="sku")
    RaisedBy = serializers.CharField(source="raised_by")
    RaisedAt = serializers.DateTimeField(source="raised_at")
    Resolution = serializers.CharField(source="resolution")
    ResolvedBy = serializers.CharField(source="resolved_by")
    ResolvedAt = serializers.DateTimeField(source="resolved_at", allow_null=True)


class BulkMarkPaidSerializer(ApiSerializer):
    """Approved statements paid by one payroll run: all of them are marked paid, or none."""

    CommissionStatementIds = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=1000)
    PaidAt = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
    Reference = OptionalTextField(max_length=128, help_text="The payroll run or transfer that paid them.")


class GenerationStartedSerializer(serializers.Serializer):
    """202: generation runs in the background; GET the statement to follow it."""

    CommissionStatementId = serializers.UUIDField()
    Status = StatementStatusField(help_text="Generating.")


class StatementEventSerializer(serializers.Serializer):
    """A transition of the statement, appended and never changed."""

    Type = serializers.ChoiceField(source="type", choices=EventType.choices)
    Actor = serializers.CharField(source="actor")
    At = serializers.DateTimeField(source="at")
    Note = serializers.CharField(source="note")


class StatementLineSerializer(serializers.Serializer):
    """A commissioned line: an invoice line (or one payment's share of it, or a clawback), its rate and commission."""

    Sku = serializers.CharField(source="sku")
    ProductName = serializers.CharField(source="product_name")
    LineDate = serializers.DateField(source="line_date", help_text="The org-local day of the PaidAt that earned it "
                                                                   "(a clawback: the credit memo's CreditDate).")
    Quantity = serializers.IntegerField(source="quantity", help_text="The invoice line's; negative on a clawback.")
    LineAmount = MoneyField(source="line_amount", help_text="The rep's credited amount, or one payment's share of it; "
                                                            "negative on a clawback line.")
    Share = serializers.DecimalField(source="share", max_digits=5, decimal_places=4,
                                     help_text="The rep's sales credit of the order.")
    Rate = RateField(source="rate", allow_null=True, help_text="Null on a line paid per unit.")
    AmountPerUnit = serializers.DecimalField(source="amount_per_unit", max_digits=14, decimal_places=4,
                                             allow_null=True, help_text="Null on a line paid at a rate.")
    Multiplier = serializers.DecimalField(source="multiplier", max_digits=16, decimal_places=6,
                                          help_text="The accelerator multiplier, shown to 6 decimals (used exact).")
    PaymentId = serializers.UUIDField(source="payment.public_id", allow_null=True,
                                      help_text="The payment that earned this line (pay on collection); else null.")
    RateSource = serializers.CharField(source="rate_source")
    Commission = MoneyField(source="commission")


class StatementEntrySerializer(serializers.Serializer):
    """The lines of one invoice on a statement."""

    InvoiceNumber = serializers.CharField(source="invoice_number")
    CustomerNumber = serializers.CharField(source="customer_number")
    Commission = MoneyField(source="commission", help_text="The sum of the entry's lines' commissions.")
    Lines = StatementLineSerializer(source="lines.all", many=True)


class StatementHeaderSerializer(serializers.Serializer):
    """A statement without its entries: what lists show (a statement may hold a million lines)."""

    CommissionStatementId = serializers.UUIDField(source="id")
    SalesRepId = serializers.UUIDField(source="sales_rep.sales_rep_id")
    RepNumber = serializers.CharField(source="sales_rep.rep_number")
    PeriodStart = serializers.DateField(source="period_start")
    PeriodEnd = serializers.DateField(source="period_end")
    CurrencyCode = serializers.CharField(source="currency_code")
    Status = StatementStatusField(source="status")
    SalesTotal = MoneyField(source="sales_total", help_text="The sales lines' amounts (clawbacks do not count).")
    Quota = MoneyField(source="quota", allow_null=True)
    Attainment = serializers.DecimalField(source="attainment", max_digits=16, decimal_places=4, allow_null=True,
                                          help_text="SalesTotal / Quota, 4 decimals; null without a quota.")
    LinesTotal = MoneyField(source="lines_total", help_text="The sum of the lines' commissions.")
    AdjustmentsTotal = MoneyField(source="adjustments_total", help_text="The sum of the adjustments.")
    Total = MoneyField(source="total", help_text="LinesTotal + AdjustmentsTotal.")
    PaidAt = serializers.DateTimeField(source="paid_at", allow_null=True)
    PaymentReference = serializers.CharField(source="payment_reference")
    Failure = serializers.CharField(source="failure", help_text="Why the last generation failed (status Failed).")
    CreatedAt = serializers.DateTimeField(source="created_at")
    UpdatedAt = serializers.DateTimeField(source="updated_at")


class StatementSerializer(StatementHeaderSerializer):
    """A statement whole: its header, its entries with their lines, its adjustments, disputes and events."""

    Entries = StatementEntrySerializer(source="entries.all", many=True, help_text="One per invoice.")
    Adjustments = AdjustmentSerializer(source="adjustments.all", many=True)
    Disputes = DisputeSerializer(source="disputes.all", many=True)
    Events = StatementEventSerializer(source="events.all", many=True)
