from decimal import Decimal

from rest_framework import serializers

from commissions.models import AcceleratorMethod, CommissionBasis
from nymble.api.serializers import ApiSerializer, CalendarDateField, MoneyField, OptionalTextField, RateField


def patterns(source: str) -> serializers.ListField:
    """Glob patterns: `*` any run of characters, `?` one character, everything else literal."""
    return serializers.ListField(child=serializers.CharField(max_length=100), source=source, required=False,
                                 max_length=50)


class MatchSerializer(ApiSerializer):
    SkuPatterns = patterns("sku_patterns")
    ProductNamePatterns = patterns("product_name_patterns")
    CustomerNumbers = serializers.ListField(child=serializers.CharField(max_length=64), source="customer_numbers",
                                            required=False, max_length=500)
    MinLineAmount = MoneyField(source="min_line_amount", required=False, allow_null=True)
    MaxLineAmount = MoneyField(source="max_line_amount", required=False, allow_null=True)


class RuleSerializer(ApiSerializer):
    Priority = serializers.IntegerField(source="priority", min_value=-1_000_000, max_value=1_000_000)
    Name = serializers.CharField(source="name", max_length=200)
    Rate = RateField(source="rate", required=False, allow_null=True,
                     help_text="The rate this rule pays (0.05 = 5%); or give AmountPerUnit instead.")
    AmountPerUnit = serializers.DecimalField(
        source="amount_per_unit", max_digits=14, decimal_places=4, min_value=Decimal("0"), required=False,
        allow_null=True, help_text="A fixed amount paid per unit sold; or give Rate instead.",
    )
    Match = MatchSerializer(source="*", required=False)


class AcceleratorSerializer(ApiSerializer):
    From = serializers.DecimalField(source="from_attainment", max_digits=10, decimal_places=4, min_value=Decimal("0"),
                                    help_text="An attainment (a fraction of Quota) from which the multiplier applies.")
    Multiplier = serializers.DecimalField(source="multiplier", max_digits=10, decimal_places=4,
                                          min_value=Decimal("0"))


class CustomerOverrideSerializer(ApiSerializer):
    CustomerNumber = serializers.CharField(source="customer.customer_number", max_length=64)
    DefaultRate = RateField(source="default_rate", required=False, allow_null=True)
    EffectiveStartDate = CalendarDateField(source="effective_start", required=False, allow_null=True)
    EffectiveEndDate = CalendarDateField(source="effective_end", required=False, allow_null=True)
    Rules = RuleSerializer(source="rules", many=True, required=False, max_length=200)


class CommissionPlanSerializer(ApiSerializer):
    CommissionPlanId = serializers.UUIDField(source="id", read_only=True)
    SalesRepId = serializers.UUIDField(source="sales_rep.sales_rep_id")
    RepNumber = serializers.CharField(source="sales_rep.rep_number", read_only=True)
    Name = serializers.CharField(source="name", max_length=200)
    Description = OptionalTextField(source="description", max_length=5000)
    DefaultRate = RateField(source="default_rate")
    EffectiveStartDate = CalendarDateField(source="effective_start", required=False, allow_null=True)
    EffectiveEndDate = CalendarDateField(source="effective_end", required=False, allow_null=True)
    Rules = RuleSerializer(source="rules", many=True, required=False, max_length=200)
    CustomerOverrides = CustomerOverrideSerializer(source="overrides", many=True, required=False, max_length=500)
    CommissionBasis = serializers.ChoiceField(
        source="commission_basis", choices=CommissionBasis.choices, required=False,
        help_text="Invoice: a line earns when its invoice is paid in full. Payment: every payment earns its share.",
    )
    Quota = MoneyField(source="quota", required=False, allow_null=True, min_value=Decimal("0.01"),
                       help_text="The sales expected in one statement period, in the statement's currency.")
    Accelerators = AcceleratorSerializer(source="accelerators", many=True, required=False, max_length=50)
    AcceleratorMethod = serializers.ChoiceField(source="accelerator_method", choices=AcceleratorMethod.choices,
                                                required=False)
    Active = serializers.BooleanField(source="active", required=False)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


def plan_input(validated: dict) -> dict:
    """Serializer output in the services' terms (overrides keyed by customer number)."""
    data = dict(validated)
    if "overrides" in data:
        data["overrides"] = [
            {**{k: v for k, v in o.items() if k != "customer"}, "customer_number": o["customer"]["customer_number"]}
            for o in data["overrides"]
        ]
    data.pop("sales_rep", None)
    return data
