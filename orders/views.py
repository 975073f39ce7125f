"""Orders and invoices: thin viewsets over orders.services, scoped by the models' visible_to."""
import datetime

import django_filters
from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers.models import Customer
from nymble.api.permissions import ADMIN, EVERY_ROLE
from nymble.api.views import ScopedViewSet
from nymble.models import Organization, PriceTier
from orders import services
from orders.models import Channel, Invoice, InvoiceStatus, Order, OrderStatus, OrderType
from orders.serializers import (
    INVOICE_PREFETCH,
    INVOICE_RELATED,
    ORDER_PREFETCH,
    ORDER_RELATED,
    CreditMemoSerializer,
    InvoiceSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    OrderStatusSerializer,
    PaymentSerializer,
    invoice_for_output,
    order_for_output,
    sales_credits_input,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", location=OpenApiParameter.HEADER, required=False,
    description="Repeating a POST with the same key returns the first order; another body with it is a 409.",
)


class OrganizationDayRangeFilter(django_filters.FilterSet):
    """`dateFrom` / `dateTo` (YYYY-MM-DD, inclusive) as calendar days in the organization's time zone."""

    date_field = "created_at"
    dateFrom = django_filters.DateFilter(method="filter_from")
    dateTo = django_filters.DateFilter(method="filter_to")

    def _zone(self):
        return Organization.objects.get(pk=self.request.user.principal.organization_id).zone

    def filter_from(self, queryset, name, day):
        start = self._start(day)
        return queryset if start is None else queryset.filter(**{f"{self.date_field}__gte": start})

    def filter_to(self, queryset, name, day):
        end = self._start(day + datetime.timedelta(days=1)) if day < datetime.date.max else None
        return queryset if end is None else queryset.filter(**{f"{self.date_field}__lt": end})

    def _start(self, day: datetime.date):
        """The day's first moment in the organization's time zone; None where that lies beyond what
        a datetime holds (0001-01-01 east of UTC), which bounds nothing."""
        if not isinstance(self.Meta.model._meta.get_field(self.date_field), models.DateTimeField):
            return day
        try:
            return datetime.datetime.combine(day, datetime.time.min, tzinfo=self._zone()).astimezone(datetime.UTC)
        except OverflowError:
            return None


class CustomerOrderFilter(OrganizationDayRangeFilter):
    """The filters of one customer's orders."""

    repNumber = django_filters.CharFilter(field_name="primary_sales_rep__rep_number")
    status = django_filters.ChoiceFilter(field_name="status", choices=OrderStatus.choices)
    channel = django_filters.ChoiceFilter(field_name="channel", choices=Channel.choices)
    orderType = django_filters.ChoiceFilter(field_name="order_type", choices=OrderType.choices)

    class Meta:
        model = Order
        fields = []


class OrderFilter(CustomerOrderFilter):
    customerNumber = django_filters.CharFilter(field_name="customer__customer_number")


class CustomerInvoiceFilter(OrganizationDayRangeFilter):
    """The filters of one customer's invoices."""

    date_field = "invoice_date"
    status = django_filters.ChoiceFilter(field_name="status", choices=InvoiceStatus.choices)

    class Meta:
        model = Invoice
        fields = []


class InvoiceFilter(CustomerInvoiceFilter):
    customerNumber = django_filters.CharFilter(field_name="customer__customer_number")


class CustomerNestedMixin:
    """`/api/customers/{customerNumber}/orders|invoices`: the customer must be visible, else 404."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        number = self.kwargs["customer_number"]
        customer = Customer.objects.visible_to(self.request.user).filter(customer_number=number).first()
        if customer is None:
            raise NotFound()
        return queryset.filter(customer=customer)


@extend_schema_view(
    list=extend_schema(summary="List orders", description="The orders the caller can see: an admin's organization's, "
                       "a rep's customers', a portal user's own account's; by `CreatedAt` unless `sortOn` says otherwise."),
    retrieve=extend_schema(summary="Get an order", description="With the customer's snapshot, the reps as full "
                           "objects, each item's catalog price and line total, and the sales credits."),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Order
    serializer_class = OrderSerializer
    lookup_url_kwarg = "order_id"
    filterset_class = OrderFilter
    sort_fields = {"CreatedAt": "created_at", "OrderNumber": "order_number"}
    default_sort = "CreatedAt"
    action_roles = {"list": EVERY_ROLE, "retrieve": EVERY_ROLE, "create": EVERY_ROLE, "cancel": EVERY_ROLE,
                    "partial_update": ADMIN, "invoice": ADMIN}

    def get_queryset(self):
        return super().get_queryset().select_related(*ORDER_RELATED).prefetch_related(*ORDER_PREFETCH)

    def get_serializer_class(self):
        return OrderCreateSerializer if self.action == "create" else OrderSerializer

    @extend_schema(parameters=[IDEMPOTENCY_HEADER], request=OrderCreateSerializer,
                   responses={201: OrderSerializer, 200: OrderSerializer})
    def create(self, request):
        """Place an order

        Accepts the seed's assisted-order body as it is. A rep orders for its own customers, a portal
        user for its own account at catalog prices; `PriceTier` and `Terms` default to the customer's,
        `PrimarySalesRep` to its assigned rep. A repeat with the same `Idempotency-Key` (or `ExternalId`)
        answers 200 with the first order.
        """
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 128:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 128 characters."]})
        principal = self.principal
        organization = self.organization
        number = data["customer_snapshot"]["CustomerNumber"]
        customer = Customer.objects.visible_to(request.user).select_related(
            "price_tier", *(f"sales_rep__{path}" for path in services.REP_SHOWN)).filter(
            customer_number=number).first()
        if customer is None:
            raise services.invalid("Customer.CustomerNumber", f"No customer '{number}'.")
        tier = None
        if data.get("PriceTier"):
            tier = PriceTier.objects.filter(organization=organization, code=data["PriceTier"]).first()
            if tier is None:
                raise services.invalid("PriceTier", f"No price tier '{data['PriceTier']}' in this organization.")
        order, created = services.order_place_idempotent(
            organization=organization, actor=principal, actor_user=request.user if principal.membership_id else None,
            actor_label=str(request.user), customer=customer, items=data["items"],
            order_type=data.get("order_type"), channel=data.get("channel"), po_number=data.get("po_number", ""),
            price_tier=tier, currency_code=data.get("currency_code"), terms=data.get("terms") or None,
            primary_rep_number=(data.get("primary_sales_rep") or {}).get("rep_number"),
            taken_by_rep_number=(data.get("taken_by_sales_rep") or {}).get("rep_number"),
            sales_credits=sales_credits_input(data["sales_credits"]) if "sales_credits" in data else None,
            external_id=data.get("external_id") or None, idempotency_key=key,
            fingerprint=services.request_fingerprint(data),
        )
        # A new order comes back from order_place as stored; a replay is read.
        return Response(OrderSerializer(order if created else order_for_output(order)).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=OrderStatusSerializer)
    def partial_update(self, request, order_id):
        """Move an order's status forward

        Admins only: Pending → Processing → Shipped → Complete.
        """
        order = self.get_object()
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_advance(order=order, status=serializer.validated_data["Status"])
        return Response(OrderSerializer(order_for_output(order)).data)

    @extend_schema(request=None)
    def cancel(self, request, order_id):
        """Cancel an order

        While it is Pending or Processing and not invoiced; any role that sees the order may.
        """
        order = services.order_cancel(order=self.get_object())
        return Response(OrderSerializer(order_for_output(order)).data)

    @extend_schema(request=None, responses={201: InvoiceSerializer})
    def invoice(self, request, order_id):
        """Invoice an order

        Admins only; the whole order, once. `DueDate` follows the terms (`NetN`: N days; `COD`, `Prepaid`: 0).
        """
        invoice = services.invoice_create(order=self.get_object())
        return Response(InvoiceSerializer(invoice_for_output(invoice)).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List invoices", description="The invoices of the customers the caller can see, "
                       "scoped as customers are."),
    retrieve=extend_schema(summary="Get an invoice", description="With its lines, its payments in the order they "
                           "were recorded, its credit memos and its balance."),
)
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Invoice
    serializer_class = InvoiceSerializer
    lookup_url_kwarg = "invoice_id"
    filterset_class = InvoiceFilter
    sort_fields = {"InvoiceDate": "invoice_date", "InvoiceNumber": "invoice_number", "DueDate": "due_date"}
    default_sort = "InvoiceDate"
    action_roles = {"list": EVERY_ROLE, "retrieve": EVERY_ROLE, "payments": ADMIN, "void": ADMIN,
                    "credit_memos": ADMIN}

    def get_queryset(self):
        return super().get_queryset().select_related(*INVOICE_RELATED).prefetch_related(*INVOICE_PREFETCH)

    def _respond(self, invoice, code=status.HTTP_200_OK):
        return Response(InvoiceSerializer(invoice_for_output(invoice)).data, status=code)

    @extend_schema(request=PaymentSerializer, responses={201: InvoiceSerializer})
    def payments(self, request, invoice_id):
        """Record a payment on an invoice

        Admins only. A partial payment makes the invoice PartiallyPaid; reaching the total makes it Paid,
        dated by that payment. More than the balance is a 400.
        """
        invoice = self.get_object()
        serializer = PaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = services.payment_record(invoice=invoice, amount=data["amount"], paid_at=data.get("paid_at"),
                                          reference=data.get("reference", ""), actor_label=str(request.user))
        return self._respond(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=None)
    def void(self, request, invoice_id):
        """Void an invoice

        Admins only, while nothing is paid on it; never reversed.
        """
        return self._respond(services.invoice_void(invoice=self.get_object()))

    @extend_schema(request=CreditMemoSerializer, responses={201: InvoiceSerializer})
    def credit_memos(self, request, invoice_id):
        """Record a credit memo (a return) on a paid invoice

        Admins only; never more of a SKU than was invoiced, across all the invoice's memos.
        """
        invoice = self.get_object()
        serializer = CreditMemoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [{"sku": line["invoice_line"]["sku"], "quantity": line["quantity"]} for line in data["lines"]]
        services.credit_memo_create(invoice=invoice, credit_date=data["credit_date"], reason=data.get("reason", ""),
                                    lines=lines, actor_label=str(request.user))
        return self._respond(invoice, status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(
    summary="List a customer's orders",
    description="The orders of one customer the caller can see (404 for any other customer).",
))
class CustomerOrderViewSet(CustomerNestedMixin, OrderViewSet):
    filterset_class = CustomerOrderFilter


@extend_schema_view(list=extend_schema(
    summary="List a customer's invoices",
    description="The invoices of one customer the caller can see (404 for any other customer).",
))
class CustomerInvoiceViewSet(CustomerNestedMixin, InvoiceViewSet):
    filterset_class = CustomerInvoiceFilter
