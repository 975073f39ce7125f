"""The catalog (products with tier prices and quantity breaks), orders, invoices, payments and credit memos.

Money columns are DECIMAL with two places; line totals are checked by the database to be
exactly quantity × price, and totals are sums of those lines.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from customers.models import Customer
from nymble.currencies import validate_currency_code
from nymble.identifiers import validate_identifier
from nymble.models import Organization, PriceTier
from nymble.scoping import ScopedQuerySet, principal_of
from salesreps.models import OrganizationSalesRep

MONEY = {"max_digits": 14, "decimal_places": 2}


def exact_cents(expression) -> Round:
    """quantity × price to the cent. On PostgreSQL the product of NUMERICs is already exact; SQLite
    (the embedded default) multiplies floats, and 3 × 0.10 would not equal 0.30 without the rounding."""
    return Round(expression, 2)


class ProductQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Admins see the whole catalog; reps and portal users its active products."""
        principal = principal_of(user)
        qs = self.in_organization_of(user)
        if principal is not None and not principal.is_admin:
            qs = qs.filter(active=True)
        return qs


class Product(models.Model):
    id = models.UUIDField("ProductId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField("SKU", max_length=64, validators=[validate_identifier])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True)
    upc = models.CharField("UPC", max_length=32, blank=True, validators=[validate_identifier])
    active = models.BooleanField(default=True)
    minimum_order_quantity = models.PositiveIntegerField(default=1)
    quantity_increment = models.PositiveIntegerField(default=1)
    external_id = models.CharField("external ID", max_length=128, null=True, blank=True, validators=[validate_identifier])
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sku"], name="product_sku_unique"),
            models.UniqueConstraint(
                fields=["organization", "external_id"], condition=Q(external_id__isnull=False),
                name="product_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(minimum_order_quantity__gte=1), name="product_moq_positive"),
            models.CheckConstraint(condition=Q(quantity_increment__gte=1), name="product_increment_positive"),
        ]
        indexes = [models.Index(fields=["organization", "active", "sku"])]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductPrice(models.Model):
    """A product's price in one tier and currency from `at_quantity` units on (quantity breaks)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    price_tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, related_name="prices")
    currency_code = models.CharField("currency", max_length=3, validators=[validate_currency_code])
    at_quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["price_tier__code", "currency_code", "at_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "price_tier", "currency_code", "at_quantity"], name="one_price_per_break"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="price_not_negative"),
            models.CheckConstraint(condition=Q(at_quantity__gte=1), name="price_break_positive"),
        ]
        indexes = [models.Index(fields=["price_tier", "currency_code", "product"])]

    def __str__(self) -> str:
        return f"{self.price_tier} {self.currency_code} {self.price} from {self.at_quantity}"


class OrganizationSequence(models.Model):
    """Per-organization counters (`ORD`, `INV`); taken under a row lock, so numbers have no gaps or repeats."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sequences")
    name = models.CharField(max_length=16)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="one_sequence_per_name")]


class CustomerScopedQuerySet(ScopedQuerySet):
    """Orders and invoices are seen by whoever sees their customer (§5)."""

    def visible_to(self, user):
        principal = principal_of(user)
        qs = self.in_organization_of(user)
        if principal is None:
            return qs
        if principal.is_rep:
            return qs.filter(customer__sales_rep_id=principal.sales_rep_id)
        if principal.is_customer:
            return qs.filter(customer_id=principal.customer_id)
        return qs


class OrderType(models.TextChoices):
    STANDARD = "Standard"
    ASSISTED = "Assisted"


class Channel(models.TextChoices):
    WEB = "Web"
    PORTAL = "Portal"
    PHONE = "Phone"
    TRADE_SHOW = "TradeShow", "Trade show"
    EMAIL = "Email"
    EDI = "EDI", "EDI"
    IMPORT = "Import"


class OrderStatus(models.TextChoices):
    PENDING = "Pending"
    PROCESSING = "Processing"
    SHIPPED = "Shipped"
    COMPLETE = "Complete"
    CANCELLED = "Cancelled"


class Order(models.Model):
    id = models.UUIDField("OrderId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(max_length=20)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    customer_snapshot = models.JSONField(default=dict)
    order_type = models.CharField(max_length=16, choices=OrderType.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    po_number = models.CharField("PO number", max_length=64, blank=True)
    price_tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, related_name="orders")
    currency_code = models.CharField("currency", max_length=3)
    terms = models.CharField(max_length=32)
    primary_sales_rep = models.ForeignKey(
        OrganizationSalesRep, null=True, blank=True, on_delete=models.PROTECT, related_name="primary_orders"
    )
    taken_by_sales_rep = models.ForeignKey(
        OrganizationSalesRep, null=True, blank=True, on_delete=models.PROTECT, related_name="taken_orders"
    )
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    placed_by_label = models.CharField(max_length=254, help_text="Who placed it: a login's email or an API client.")
    placed_by_role = models.CharField(max_length=16)
    subtotal = models.DecimalField(**MONEY)
    external_id = models.CharField("external ID", max_length=128, null=True, blank=True, validators=[validate_identifier])
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "order_number"], name="order_number_unique"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "external_id"], condition=Q(external_id__isnull=False),
                name="order_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="order_subtotal_not_negative"),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self) -> str:
        return self.order_number


class SalesCredit(models.Model):
    """A rep credited with a share of an order's sales (§4 Sales credits). An order's shares add up
    to exactly 1 (checked by the service that writes them all at once); left out, the order's
    primary rep gets the whole."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="sales_credits")
    sales_rep = models.ForeignKey(OrganizationSalesRep, on_delete=models.PROTECT, related_name="sales_credits")
    share = models.DecimalField(max_digits=5, decimal_places=4)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sales_rep"], name="sales_credit_rep_once_per_order"),
            models.UniqueConstraint(fields=["order", "position"], name="sales_credit_position_unique"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="sales_credit_share_0_to_1",
                                   violation_error_message="A share is above 0 and at most 1."),
        ]
        indexes = [models.Index(fields=["sales_rep", "order"], name="sales_credit_by_rep")]

    def __str__(self) -> str:
        return f"{self.sales_rep.rep_number} × {self.share}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    sku = models.CharField("SKU", max_length=64)
    product_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    catalog_price = models.DecimalField(**MONEY)
    line_total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="order_item_price_not_negative"),
            models.CheckConstraint(condition=Q(line_total=exact_cents(F("quantity") * F("price"))),
                                   name="order_item_total_exact"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "Issued"
    PARTIALLY_PAID = "PartiallyPaid"
    PAID = "Paid"
    VOIDED = "Voided"


class Invoice(models.Model):
    """An order invoiced whole. Customer and primary rep are copied from the order so the
    statement run reads invoices without joining orders; `paid_on` is the organization-local
    calendar day of `paid_at`."""

    id = models.UUIDField("InvoiceId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invoices")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    primary_sales_rep = models.ForeignKey(
        OrganizationSalesRep, null=True, blank=True, on_delete=models.PROTECT, related_name="primary_invoices"
    )
    invoice_number = models.CharField(max_length=20)
    invoice_date = models.DateField()
    due_date = models.DateField()
    currency_code = models.CharField("currency", max_length=3)
    total = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY, default=0)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-invoice_date", "-invoice_number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "invoice_number"], name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="invoice_paid_not_negative"),
            models.CheckConstraint(condition=Q(amount_paid__lte=F("total")), name="invoice_not_overpaid"),
            models.CheckConstraint(
                condition=~Q(status="Paid") | Q(amount_paid=F("total"), paid_at__isnull=False, paid_on__isnull=False),
                name="invoice_paid_means_paid_in_full",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "invoice_date"]),
            models.Index(
                fields=["primary_sales_rep", "currency_code", "paid_on"], condition=Q(status="Paid"),
                name="invoice_paid_by_rep",
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_number

    @property
    def balance(self):
        return self.total - self.amount_paid


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    order_item = models.OneToOneField(OrderItem, on_delete=models.PROTECT, related_name="invoice_line")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="invoice_lines")
    sku = models.CharField("SKU", max_length=64)
    product_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    line_total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(line_total=exact_cents(F("quantity") * F("price"))),
                                   name="invoice_line_total_exact"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class Payment(models.Model):
    """A payment of an invoice. Payments count in the order they were recorded (their pk), which is
    how `Payments` lists them and how pay-on-collection shares are taken (§6). `paid_on` is the
    organization-local day of `paid_at`, the day a payment's commission is dated by."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    public_id = models.UUIDField("PaymentId", default=uuid.uuid4, unique=True, editable=False)
    amount = models.DecimalField(**MONEY)
    paid_at = models.DateTimeField()
    paid_on = models.DateField(editable=False)
    reference = models.CharField(max_length=128, blank=True)
    recorded_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]
        indexes = [models.Index(fields=["invoice", "paid_on"], name="payment_by_invoice_and_day")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_on}"  # the organization's day, as the page shows paid_at


class CreditMemo(models.Model):
    """A return against a paid invoice. Its lines are clawed back from the rep's commission."""

    id = models.UUIDField("CreditMemoId", primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_memos")
    credit_date = models.DateField()
    reason = models.CharField(max_length=500, blank=True)
    total = models.DecimalField(**MONEY)
    recorded_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["credit_date", "created_at"]

    def __str__(self) -> str:
        return f"Credit {self.total} on {self.invoice}"


class CreditMemoLine(models.Model):
    credit_memo = models.ForeignKey(CreditMemo, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="credit_line_quantity_positive"),
            models.CheckConstraint(condition=Q(amount=exact_cents(F("quantity") * F("price"))),
                                   name="credit_line_amount_exact"),
        ]
