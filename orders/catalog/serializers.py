"""Products on the wire (docs/api.md): PascalCase fields, prices with quantity breaks,
and the resolved `Price`/`CurrencyCode` of a customer's view."""
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nymble.api.serializers import (
    ApiSerializer,
    CurrencyField,
    MoneyField,
    OptionalTextField,
    OrganizationSlugField,
    PatternField,
    prefetched_items,
)
from nymble.identifiers import validate_identifier
from nymble.models import PriceTier
from orders.catalog.services import EVERY_PRICE, MAX_QUANTITY, displayed_price

CENTS = Decimal("0.01")


class ProductPriceSerializer(ApiSerializer):
    PriceTier = OrganizationSlugField(kind="price tier", source="price_tier", slug_field="code",
                                      queryset=PriceTier.objects.all())
    Price = MoneyField(source="price", min_value=0)
    CurrencyCode = CurrencyField(source="currency_code", required=False)
    AtQuantity = serializers.IntegerField(source="at_quantity", required=False, min_value=1, max_value=MAX_QUANTITY)


class ProductSerializer(ApiSerializer):
    """A product. `Prices` given replace the stored ones. `Price` and `CurrencyCode` appear only in a
    customer's view (a portal user, or `?customerNumber=`) and in one tier's (`?priceTier=`, in the
    organization's currency); the context's `price_view` says which."""

    ProductId = serializers.UUIDField(source="id", read_only=True)
    Sku = PatternField(
        r"^[^/\s](?:[^/]*[^/\s])?$", source="sku", max_length=64, validators=[validate_identifier],
        error_messages={"invalid": "Must not contain '/' nor start or end with a space."},
    )
    Name = serializers.CharField(source="name", max_length=200)
    Description = OptionalTextField(source="description", max_length=10_000)
    Category = OptionalTextField(source="category", max_length=100)
    UPC = OptionalTextField(source="upc", max_length=32, validators=[validate_identifier])
    Active = serializers.BooleanField(source="active", required=False)
    MinimumOrderQuantity = serializers.IntegerField(
        source="minimum_order_quantity", required=False, min_value=1, max_value=MAX_QUANTITY
    )
    QuantityIncrement = serializers.IntegerField(
        source="quantity_increment", required=False, min_value=1, max_value=MAX_QUANTITY
    )
    ExternalId = OptionalTextField(source="external_id", max_length=128, validators=[validate_identifier])
    Prices = ProductPriceSerializer(source="prices", many=True, required=False)
    Price = serializers.SerializerMethodField()
    CurrencyCode = serializers.SerializerMethodField()
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_ExternalId(self, value):
        return value or None

    @property
    def _price_view(self):
        return self.context.get("price_view", EVERY_PRICE)

    @extend_schema_field(MoneyField(allow_null=True, help_text="At quantity 1 (or the smallest quantity "
                                    "priced) in the view's tier and currency; null when the product has none there."))
    def get_Price(self, product) -> Decimal | None:
        currency = self._price_view.price_currency
        if currency is None:
            return None
        # The prefetched prices are the view's tier's.
        breaks = sorted((p.at_quantity, p.price) for p in prefetched_items(product, "prices") if p.currency_code == currency)
        price = displayed_price(breaks, product.minimum_order_quantity)
        return None if price is None else price.quantize(CENTS)

    def get_CurrencyCode(self, product) -> str | None:
        return self._price_view.price_currency

    def to_representation(self, product):
        data = super().to_representation(product)
        if self._price_view.price_currency is None:
            del data["Price"], data["CurrencyCode"]
        return data


class ProductSchema(OpenApiSerializerExtension):
    """The schema of a product: `Price` and `CurrencyCode` are not promised, since only a
    customer's view has them."""

    target_class = ProductSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        required = [name for name in schema.get("required", []) if name not in ("Price", "CurrencyCode")]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema
