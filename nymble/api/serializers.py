"""Serializer base for the wire conventions of §3.

Fields are declared with their PascalCase wire names. Input keys are matched to them
case-insensitively (`poNumber` is `PONumber`); a key the resource does not know is a 400
naming it; keys the resource only returns (ids, numbers, timestamps) are ignored, so a
fetched object can be sent back as it is.
"""
from collections.abc import Mapping
from decimal import Decimal

from rest_framework import serializers


class ApiSerializerMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            data = self._canonical_input(data)
        return super().to_internal_value(data)

    def _canonical_input(self, data: Mapping) -> dict:
        by_lower = {name.lower(): name for name in self.fields}
        canonical, errors = {}, {}
        for key, value in data.items():
            name = by_lower.get(str(key).lower())
            if name is None:
                errors[str(key)] = ["Unknown field."]
            elif self.fields[name].read_only:
                continue
            elif name in canonical:
                errors[str(key)] = [f"Given twice (as '{name}' too)."]
            else:
                canonical[name] = value
        if errors:
            raise serializers.ValidationError(errors)
        return canonical


class ApiSerializer(ApiSerializerMixin, serializers.Serializer):
    pass


class ApiModelSerializer(ApiSerializerMixin, serializers.ModelSerializer):
    pass


class MoneyField(serializers.DecimalField):
    """An amount: a JSON number with two decimals, computed as Decimal."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class RateField(serializers.DecimalField):
    """A rate from 0 to 1 with up to 4 decimals (0.05 = 5%)."""

    def __init__(self, **kwargs):
        kwargs.update(max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"))
        super().__init__(**kwargs)
