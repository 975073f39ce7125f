from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from nymble.api.serializers import ApiSerializer, CurrencyField, MoneyField, OptionalTextField, prefetched
from nymble.identifiers import validate_identifier
from nymble.models import Role
from orders.models import Channel, Invoice, InvoiceStatus, Order, OrderStatus, OrderType, SalesCredit

MAX_QUANTITY = 1_000_000


class RepSerializer(ApiSerializer):
    """A rep as orders show it; on input only `RepNumber` counts, the rest is ignored."""

    RepNumber = serializers.CharField(source="rep_number", max_length=64)
    FirstName = serializers.CharField(source="first_name", read_only=True)
    LastName = serializers.CharField(source="last_name", read_only=True)
    Email = serializers.EmailField(source="email", read_only=True)
    PhoneNumber = serializers.CharField(source="phone_number", read_only=True)


class SalesCreditSerializer(ApiSerializer):
    """A rep credited with a share of the order's sales; on input `RepNumber` and `Share`."""

    RepNumber = serializers.CharField(source="sales_rep.rep_number", max_length=64)
    Share = serializers.DecimalField(source="share", max_digits=5, decimal_places=4, min_value=Decimal("0.0001"),
                                     max_value=Decimal("1"), help_text="Above 0, at most 1, up to 4 decimals.")
    FirstName = serializers.CharField(source="sales_rep.first_name", read_only=True)
    LastName = serializers.CharField(source="sales_rep.last_name", read_only=True)
    Email = serializers.EmailField(source="sales_rep.email", read_only=True)
    PhoneNumber = serializers.CharField(source="sales_rep.phone_number", read_only=True)


class SalesCreditsSerializer(ApiSerializer):
    """The body of `PUT /api/orders/{orderId}/sales-credits`."""

    SalesCredits = SalesCreditSerializer(many=True, allow_empty=False, max_length=50)


def sales_credits_input(validated: list[dict]) -> list[dict]:
    return [{"rep_number": credit["sales_rep"]["rep_number"], "share": credit["share"]} for credit in validated]


class SnapshotAddressSerializer(serializers.Serializer):
    """A default address of the customer as it was when the order was placed."""

    Address1 = serializers.CharField()
    Address2 = serializers.CharField()
    City = serializers.CharField()
    StateProvince = serializers.CharField()
    ZipPostalCode = serializers.CharField()
    Country = serializers.CharField()
    Code = serializers.CharField()


class OrderCustomerSerializer(ApiSerializer):
    """The order's customer as it was when the order was placed."""

    CustomerNumber = serializers.CharField(max_length=64)
    CompanyName = serializers.CharField(read_only=True)
    CompanyEmail = serializers.CharField(read_only=True)
    CompanyPhone = serializers.CharField(read_only=True)
    ShippingAddress = SnapshotAddressSerializer(read_only=True, allow_null=True,
                                                help_text="The customer's default Shipping address, if it had one.")
    BillingAddress = SnapshotAddressSerializer(read_only=True, allow_null=True,
                                               help_text="The customer's default Billing address, if it had one.")


def _ignored_text(max_length: int) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length,
                                 help_text="Accepted (the seed's example sends it) and ignored: the order keeps the "
                                           "customer as stored.")


@extend_schema_serializer(component_name="OrderCustomer")  # its request form: OrderCustomerRequest
class OrderCustomerInputSerializer(ApiSerializer):
    """The customer an order is for, named by `CustomerNumber`; the company fields are accepted and ignored."""

    CustomerNumber = serializers.CharField(max_length=64)
    CompanyName = _ignored_text(200)
    CompanyEmail = _ignored_text(254)
    CompanyPhone = _ignored_text(40)

    def validate(self, attrs):
        return {"CustomerNumber": attrs["CustomerNumber"]}


class OrderItemSerializer(ApiSerializer):
    """A line of an order: `Sku` and `Quantity` in (and `Price`, for reps and admins); the catalog price and total out."""

    Sku = serializers.CharField(source="sku", max_length=64)
    ProductName = serializers.CharField(source="product_name", read_only=True)
    Quantity = serializers.IntegerField(source="quantity", min_value=1, max_value=MAX_QUANTITY)
    Price = MoneyField(source="price", required=False, allow_null=True, min_value=0, max_digits=12)
    CatalogPrice = MoneyField(source="catalog_price", read_only=True)
    LineTotal = MoneyField(source="line_total", read_only=True)


class PlacedBySerializer(serializers.Serializer):
    """Who placed the order: a login's email or an API client's name, and the role it acted in."""

    Name = serializers.CharField(source="placed_by_label")
    Role = serializers.ChoiceField(source="placed_by_role", choices=Role.choices)


class OrderSerializer(ApiSerializer):
    """An order: the seed's assisted-order body in, the full order out."""

    OrderId = serializers.UUIDField(source="id", read_only=True)
    OrderNumber = serializers.CharField(source="order_number", read_only=True)
    Customer = OrderCustomerSerializer(source="customer_snapshot")
    OrderType = serializers.ChoiceField(source="order_type", choices=OrderType.choices, required=False)
    Channel = serializers.ChoiceField(source="channel", choices=Channel.choices, required=False)
    Status = serializers.ChoiceField(source="status", choices=OrderStatus.choices, read_only=True)
    PONumber = OptionalTextField(source="po_number", max_length=64)
    PriceTier = serializers.CharField(source="price_tier.code", read_only=True)
    CurrencyCode = CurrencyField(source="currency_code", required=False)
    Terms = OptionalTextField(source="terms", max_length=32)
    PrimarySalesRep = RepSerializer(source="primary_sales_rep", required=False, allow_null=True)
    TakenBySalesRep = RepSerializer(source="taken_by_sales_rep", required=False, allow_null=True)
    SalesCredits = SalesCreditSerializer(
        source="sales_credits", many=True, required=False, allow_empty=False, max_length=50,
        help_text="The reps credited with the order's sales and their shares (adding up to 1); admins only. "
                  "Left out: the primary rep, whole.",
    )
    Items = OrderItemSerializer(source="items", many=True, allow_empty=False, max_length=500)
    Subtotal = MoneyField(source="subtotal", read_only=True)
    ExternalId = OptionalTextField(source="external_id", max_length=128, validators=[validate_identifier])
    PlacedBy = PlacedBySerializer(source="*", read_only=True)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class OrderCreateSerializer(OrderSerializer):
    """The input side: `PriceTier` is a code, checked by the service against the organization's tiers."""

    Customer = OrderCustomerInputSerializer(source="customer_snapshot")
    PriceTier = serializers.CharField(required=False, allow_null=True, max_length=64)


class OrderStatusSerializer(ApiSerializer):
    """The body of an admin's PATCH of an order: the status it moves forward to."""

    Status = serializers.ChoiceField(choices=OrderStatus.choices)


class InvoiceLineSerializer(serializers.Serializer):
    """One line of an invoice: an order item as invoiced."""

    Sku = serializers.CharField(source="sku")
    ProductName = serializers.CharField(source="product_name")
    Quantity = serializers.IntegerField(source="quantity")
    Price = MoneyField(source="price")
    LineTotal = MoneyField(source="line_total")


class PaymentSerializer(ApiSerializer):
    """A payment against an invoice; recorded with `Amount` (above 0, at most the balance), `PaidAt` and `Reference`."""

    PaymentId = serializers.UUIDField(source="public_id", read_only=True)
    Amount = MoneyField(source="amount", max_digits=12, min_value=Decimal("0.01"),
                        help_text="Above 0 and at most the invoice's balance.")
    PaidAt = serializers.DateTimeField(source="paid_at", required=False)
    Reference = OptionalTextField(source="reference", max_length=128)
    RecordedBy = serializers.CharField(source="recorded_by", read_only=True)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class CreditMemoLineSerializer(ApiSerializer):
    """Units of an invoiced SKU returned: `Sku` and `Quantity` in, its price and amount out."""

    Sku = serializers.CharField(source="invoice_line.sku", max_length=64)
    Quantity = serializers.IntegerField(source="quantity", min_value=1, max_value=MAX_QUANTITY)
    Price = MoneyField(source="price", read_only=True)
    Amount = MoneyField(source="amount", read_only=True)


class CreditMemoSerializer(ApiSerializer):
    """A return against a paid invoice, never more than was invoiced across all its memos."""

    CreditMemoId = serializers.UUIDField(source="id", read_only=True)
    CreditDate = serializers.DateField(source="credit_date")
    Reason = OptionalTextField(source="reason", max_length=500)
    Lines = CreditMemoLineSerializer(source="lines", many=True, allow_empty=False)
    Total = MoneyField(source="total", read_only=True)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class InvoiceSerializer(ApiSerializer):
    """An invoice of a whole order, with its lines, payments (in the order recorded) and credit memos."""

    InvoiceId = serializers.UUIDField(source="id", read_only=True)
    InvoiceNumber = serializers.CharField(source="invoice_number", read_only=True)
    OrderId = serializers.UUIDField(source="order_id", read_only=True)
    OrderNumber = serializers.CharField(source="order.order_number", read_only=True)
    CustomerNumber = serializers.CharField(source="customer.customer_number", read_only=True)
    PrimarySalesRep = serializers.CharField(source="primary_sales_rep.rep_number", read_only=True, allow_null=True)
    InvoiceDate = serializers.DateField(source="invoice_date", required=False)
    DueDate = serializers.DateField(source="due_date", read_only=True)
    CurrencyCode = serializers.CharField(source="currency_code", read_only=True)
    Lines = InvoiceLineSerializer(source="lines", many=True, read_only=True)
    Total = MoneyField(source="total", read_only=True)
    AmountPaid = MoneyField(source="amount_paid", read_only=True)
    Balance = MoneyField(source="balance", read_only=True)
    Status = serializers.ChoiceField(source="status", choices=InvoiceStatus.choices, read_only=True)
    PaidAt = serializers.DateTimeField(source="paid_at", read_only=True, allow_null=True)  # null until Paid
    Payments = PaymentSerializer(source="payments", many=True, read_only=True)
    CreditMemos = CreditMemoSerializer(source="credit_memos", many=True, read_only=True)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


ORDER_RELATED = ("price_tier", "primary_sales_rep__sales_rep__user", "taken_by_sales_rep__sales_rep__user")
ORDER_PREFETCH = ("items", prefetched("sales_credits", SalesCredit.objects.select_related("sales_rep__sales_rep__user")))
INVOICE_RELATED = ("order", "customer", "primary_sales_rep")
INVOICE_PREFETCH = ("lines", "payments", "credit_memos__lines__invoice_line")


def order_for_output(order: Order) -> Order:
    return Order.objects.select_related(*ORDER_RELATED).prefetch_related(*ORDER_PREFETCH).get(pk=order.pk)


def invoice_for_output(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_related(*INVOICE_RELATED).prefetch_related(*INVOICE_PREFETCH).get(pk=invoice.pk)
