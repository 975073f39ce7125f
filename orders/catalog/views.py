"""Products: thin viewsets over orders.catalog.services; scope comes from Product.objects.visible_to and
the prices from the caller's price view (orders.catalog.services.price_view_for)."""
from functools import cached_property

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from nymble.api.filters import BooleanParam
from nymble.api.json import json_in_database
from nymble.api.pagination import query_param
from nymble.api.permissions import ADMIN, EVERY_ROLE
from nymble.api.views import ScopedViewSet
from orders.catalog import services as catalog
from orders.catalog.selectors import CountedQuerySet, catalog_count, products_as_json
from orders.catalog.serializers import ProductSerializer
from orders.models import Product

PRICE_PARAMETERS = [
    OpenApiParameter(
        "customerNumber", OpenApiTypes.STR,
        description="Admins and reps: show the catalog as this customer sees it (its tier and currency, "
                    "with `Price` and `CurrencyCode`). A customer outside the caller's scope is a 404. "
                    "Not accepted from portal users (400).",
    ),
    OpenApiParameter(
        "priceTier", OpenApiTypes.STR,
        description="Admins and reps: show only this tier's prices. Not accepted from portal users (400).",
    ),
]


class ProductFilter(django_filters.FilterSet):
    active = BooleanParam(field_name="active")
    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")

    class Meta:
        model = Product
        fields = []


@extend_schema(tags=["products"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Product
    serializer_class = ProductSerializer
    lookup_field = lookup_url_kwarg = "sku"
    filterset_class = ProductFilter
    search_fields = ("sku", "name", "description", "upc")
    sort_fields = {"Sku": "sku", "Name": "name", "Category": "category", "CreatedAt": "created_at"}
    default_sort = "Sku"
    action_roles = {
        "list": EVERY_ROLE,
        "retrieve": EVERY_ROLE,
        "create": ADMIN,
        "upsert": ADMIN,
        "partial_update": ADMIN,
    }

    @cached_property
    def price_view(self) -> catalog.PriceView:
        return catalog.price_view_for(
            user=self.request.user,
            customer_number=query_param(self.request, "customerNumber") or None,
            price_tier_code=query_param(self.request, "priceTier") or None,
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Product.objects.none()
        return catalog.catalog_products(user=self.request.user, view=self.price_view)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.principal is not None:
            context["organization_id"] = self.principal.organization_id
            context["price_view"] = self.price_view
        return context

    def paginate_queryset(self, queryset):
        """The page with `TotalRecords` from the count cache (orders.catalog.selectors)."""
        if self.paginator is None or self.principal is None:
            return super().paginate_queryset(queryset)
        count = catalog_count(queryset, organization_id=self.principal.organization_id)
        return super().paginate_queryset(CountedQuerySet(queryset, count))

    def _respond(self, product, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data, status=code)

    @extend_schema(parameters=PRICE_PARAMETERS)
    def list(self, request, *args, **kwargs):
        """List products

        A portal user sees the active products priced in its tier, each with `Price` and `CurrencyCode`;
        a rep active products, admins all of them. `search` matches SKU, name, description and UPC.
        """
        if not json_in_database():
            return super().list(request, *args, **kwargs)
        # The page's ids, then the page as ProductSerializer writes it, built by PostgreSQL.
        ids = self.filter_queryset(self.get_queryset()).prefetch_related(None).values_list("pk", flat=True)
        return self.get_paginated_response(products_as_json(self.paginate_queryset(ids), self.price_view))

    @extend_schema(parameters=PRICE_PARAMETERS)
    def retrieve(self, request, *args, **kwargs):
        """Get a product by its SKU

        With the prices the caller sees (see the list).
        """
        return super().retrieve(request, *args, **kwargs)

    def create(self, request):
        """Create a product

        Admins only. `Prices` with `AtQuantity` make quantity breaks: a line of quantity q pays the price of
        the largest `AtQuantity` ≤ q in its tier.
        """
        product = catalog.product_create(organization=self.organization, **self.validated_input())
        return self._respond(product, status.HTTP_201_CREATED)

    @extend_schema(responses={200: ProductSerializer, 201: ProductSerializer})
    def upsert(self, request):
        """Create or replace a product by its Sku (ERP sync)

        Admins only. 201 when it creates, 200 when it replaces; a replacement keeps `Active` and `Prices`
        when it leaves them out.
        """
        product, created = catalog.product_upsert(organization=self.organization, **self.validated_input())
        return self._respond(product, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, sku):
        """Update a product

        Admins only. `Prices` given replace the stored ones.
        """
        product = self.get_object()
        return self._respond(catalog.product_update(product=product, **self.validated_input(product, partial=True)))
