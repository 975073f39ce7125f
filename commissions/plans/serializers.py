from rest_framework import serializers

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
    Rate = RateField(source="rate")
    Match = MatchSerializer(source="*", required=False)


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
