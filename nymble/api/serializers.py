"""Serializer base for the wire conventions of §3.

Fields are declared with their PascalCase wire names. Input keys are matched to them
case-insensitively (`poNumber` is `PONumber`); a key the resource does not know is a 400
naming it; keys the resource only returns (ids, numbers, timestamps) are ignored, so a
fetched object can be sent back as it is. A value of the wrong JSON type is a 400 too, where
DRF would convert it (42 for a string, 0 or "yes" for a boolean).
"""
import datetime
from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from nymble.currencies import validate_currency_code


# The value type that a field writes as it is (a str for a CharField, …).
AS_IS = ((serializers.CharField, str), (serializers.BooleanField, bool), (serializers.IntegerField, int))


class ApiSerializerMixin:
    def to_representation(self, instance):
        """DRF's, with a short cut for a plain model attribute whose value is already what the
        field would write (a str for a CharField, …): DRF's path per field was a third of a page
        of 25 customers with their addresses and contacts."""
        if not isinstance(instance, models.Model):
            return super().to_representation(instance)
        ret = {}
        for name, attr, as_is, field in self._output_plan:
            if attr is not None:
                value = getattr(instance, attr, AttributeError)
                if value is None or type(value) is as_is:
                    ret[name] = value
                    continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret

    @cached_property
    def _output_plan(self) -> list:
        """(name, attribute, type written as it is, field) per readable field; the attribute is
        None where the short cut does not apply (a dotted or `*` source, another kind of field)."""
        plan = []
        for field in self._readable_fields:
            as_is = next((kind for cls, kind in AS_IS if isinstance(field, cls)), None)
            simple = as_is is not None and len(field.source_attrs) == 1
            plan.append((field.field_name, field.source_attrs[0] if simple else None, as_is, field))
        return plan

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
        if getattr(self.root, "partial", False) and isinstance(self.parent, serializers.ListSerializer):
            # A PATCH leaves out what it keeps, but an item of a list it gives replaces a stored one
            # whole: DRF's partial would skip the item's required fields (a 500 further on).
            for name, field in self.fields.items():
                if field.required and not field.read_only and name not in canonical:
                    errors.setdefault(name, [field.error_messages["required"]])
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


def prefetched(lookup: str, queryset=None) -> Prefetch:
    """Prefetch `lookup` into a plain list on each object, read back by `prefetched_items` (and so
    by every nested list of an ApiSerializer). Django's own prefetch builds a filtered queryset
    per object to hold its cache: on a page of 25 customers that was most of the request."""
    return Prefetch(lookup, queryset=queryset, to_attr=f"prefetched_{lookup}")


def prefetched_items(instance, name: str):
    """The related objects `prefetched(name)` left on the instance, or else from the database."""
    items = getattr(instance, f"prefetched_{name}", None)
    return items if items is not None else getattr(instance, name).all()


class PrefetchedListSerializer(serializers.ListSerializer):
    def get_attribute(self, instance):
        items = getattr(instance, f"prefetched_{self.source}", None)
        return items if items is not None else super().get_attribute(instance)


class ApiSerializer(ApiSerializerMixin, serializers.Serializer):
    class Meta:
        list_serializer_class = PrefetchedListSerializer


class ApiModelSerializer(ApiSerializerMixin, serializers.ModelSerializer):
    pass


class WholeMatchValidator(RegexValidator):
    """The pattern matches the whole value, as JSON Schema's `pattern` does (Python's `$` also
    matches before a final newline)."""

    def __call__(self, value):
        if not self.regex.fullmatch(str(value)):
            raise DjangoValidationError(self.message, code=self.code, params={"value": value})


class PatternField(serializers.RegexField):
    """A string that matches its pattern (the one the schema shows) as given: untrimmed and whole.
    DRF's RegexField would trim "Gold\\u000b" into "Gold" and let "Gold\\n" through."""

    def __init__(self, regex, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(regex, **kwargs)
        self.validators = [
            WholeMatchValidator(v.regex, message=v.message) if type(v) is RegexValidator else v for v in self.validators
        ]


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
        try:
            validate_currency_code(code)  # the models' own check, so the admin refuses what this refuses
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
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

    def run_validation(self, data=serializers.empty):
        if data == "":  # DRF would read "" as null; null is how to clear it
            raise serializers.ValidationError(f"Must name a {self.kind}.")
        return super().run_validation(data)

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
            try:
                return moment.astimezone(zone).date()
            except OverflowError:  # 0001-01-01T00:00Z is a day of year 0 in America/Chicago
                raise serializers.ValidationError("Date out of range.") from None
        return super().to_internal_value(value)
