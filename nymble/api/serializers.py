"""Serializer base for the wire conventions of §3.

Fields are declared with their PascalCase wire names. Input keys are matched to them
case-insensitively (`poNumber` is `PONumber`); a key the resource does not know is a 400
naming it; keys the resource only returns (ids, numbers, timestamps) are ignored, so a
fetched object can be sent back as it is. A value of the wrong JSON type is a 400 too, where
DRF would convert it (42 for a string, 0 or "yes" for a boolean), and a field with a pattern
takes its value as given, untrimmed: the pattern is its contract.
"""
import datetime
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from nymble.currencies import ISO_4217


class ApiSerializerMixin:
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.RegexField):
                field.trim_whitespace = False
        return fields

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
            elif (wrong_type := _wrong_json_type(self.fields[name], value)) is not None:
                errors[str(key)] = [wrong_type]
            elif name in canonical:
                errors[str(key)] = [f"Given twice (as '{name}' too)."]
            else:
                canonical[name] = value
        if errors:
            raise serializers.ValidationError(errors)
        return canonical


def _wrong_json_type(field, value) -> str | None:
    """Why a JSON value is of the wrong type for a field DRF would convert it for, if it is: a
    number for a string (or in a list of strings), anything but true or false for a boolean."""
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (_wrong_json_type(field.child, item) for item in value)), None)
    if isinstance(field, serializers.CharField) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return "Not a valid string."
    if isinstance(field, serializers.BooleanField) and value is not None and not isinstance(value, bool):
        return "Must be true or false."
    return None


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


class CurrencyField(serializers.CharField):
    """An ISO 4217 code, upper-cased."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in ISO_4217:
            raise serializers.ValidationError(f"'{code}' is not an ISO 4217 currency code.")
        return code


class OrganizationSlugField(serializers.SlugRelatedField):
    """A related object of the caller's organization named by its code (`Pricing` → a price tier).

    The serializer's context carries `organization_id`; another organization's code does not exist.
    """

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def get_queryset(self):
        return super().get_queryset().filter(organization_id=self.context["organization_id"])

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except ObjectDoesNotExist:
            raise serializers.ValidationError(f"No {self.kind} '{data}' in this organization.") from None


class OptionalTextField(serializers.CharField):
    """An optional string where null and absent both mean empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        return super().run_validation("" if data is None else data)


class CalendarDateField(serializers.DateField):
    """A date given as `YYYY-MM-DD` or as an ISO 8601 datetime, which counts as its calendar day
    in the organization's time zone (the serializer context's `time_zone`)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and "T" in value:
            moment = serializers.DateTimeField(default_timezone=datetime.timezone.utc).to_internal_value(value)
            zone = self.context.get("time_zone") or datetime.timezone.utc
            return moment.astimezone(zone).date()
        return super().to_internal_value(value)
