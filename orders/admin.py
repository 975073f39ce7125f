"""Orders and invoices in the admin. Every change goes through orders.services: invoicing,
cancelling, moving status, recording payments and voiding."""
from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from rest_framework.exceptions import APIException

from nymble.admin_base import ReadOnlyInline, ScopedAdmin, ScopedInline, ScopedRelatedFilter, api_error_text
from orders import services
from orders.catalog import admin as catalog_admin  # noqa: F401  (registers the product admin)
from orders.models import CreditMemo, Invoice, InvoiceLine, InvoiceStatus, Order, OrderItem, OrderStatus, Payment


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("sku", "product_name", "quantity", "price", "catalog_price", "line_total")
    readonly_fields = fields


def _each(modeladmin, request, queryset, service, done: str, **kwargs):
    succeeded = 0
    for obj in queryset:
        try:
            service(**kwargs, **{modeladmin.service_argument: obj})
            succeeded += 1
        except APIException as exc:
            modeladmin.message_user(request, f"{obj}: {api_error_text(exc)}", messages.ERROR)
    if succeeded:
        modeladmin.message_user(request, f"{done} {succeeded}.", messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ScopedAdmin):
    service_argument = "order"
    list_display = ("order_number", "customer", "status", "channel", "order_type", "primary_sales_rep",
                    "taken_by_sales_rep", "subtotal", "currency_code", "created_at")
    list_filter = ("status", "channel", "order_type", ("primary_sales_rep", ScopedRelatedFilter), "created_at")
    search_fields = ("order_number", "po_number", "customer__customer_number", "customer__company_name")
    list_select_related = ("customer", "primary_sales_rep", "taken_by_sales_rep")
    date_hierarchy = "created_at"
    inlines = [OrderItemInline]
    actions = ["invoice", "cancel", "mark_processing", "mark_shipped", "mark_complete"]
    readonly_fields = ("order_number", "customer", "customer_snapshot", "order_type", "channel", "status",
                       "po_number", "price_tier", "currency_code", "terms", "primary_sales_rep",
                       "taken_by_sales_rep", "placed_by_label", "placed_by_role", "subtotal", "external_id",
                       "created_at", "updated_at", "cancelled_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders are placed through the API (rep apps, portals, ERP)

    @admin.action(description="Invoice the selected orders")
    def invoice(self, request, queryset):
        _each(self, request, queryset, services.invoice_create, "Invoiced")

    @admin.action(description="Cancel the selected orders")
    def cancel(self, request, queryset):
        _each(self, request, queryset, services.order_cancel, "Cancelled")

    @admin.action(description="Mark as Processing")
    def mark_processing(self, request, queryset):
        _each(self, request, queryset, services.order_advance, "Updated", status=OrderStatus.PROCESSING)

    @admin.action(description="Mark as Shipped")
    def mark_shipped(self, request, queryset):
        _each(self, request, queryset, services.order_advance, "Updated", status=OrderStatus.SHIPPED)

    @admin.action(description="Mark as Complete")
    def mark_complete(self, request, queryset):
        _each(self, request, queryset, services.order_advance, "Updated", status=OrderStatus.COMPLETE)


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("sku", "product_name", "quantity", "price", "line_total")
    readonly_fields = fields


class PaymentFormSet(BaseInlineFormSet):
    """New payment rows are checked like the API checks them, then recorded by the service."""

    def clean(self):
        super().clean()
        new = [f.cleaned_data.get("amount") or 0 for f in self.extra_forms if f.has_changed() and f.cleaned_data]
        if not new:
            return
        if self.instance.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
            raise forms.ValidationError(f"A {self.instance.status} invoice takes no payment.")
        if any(amount <= 0 for amount in new):
            raise forms.ValidationError("A payment must be more than zero.")
        if sum(new) > self.instance.balance:
            raise forms.ValidationError(f"Overpays the invoice: the balance is {self.instance.balance}.")


class PaymentInline(ScopedInline):
    model = Payment
    formset = PaymentFormSet
    fields = ("amount", "paid_at", "reference", "recorded_by", "created_at")
    readonly_fields = ("recorded_by", "created_at")

    def has_change_permission(self, request, obj=None):
        return False  # payments are never edited

    def has_delete_permission(self, request, obj=None):
        return False


class CreditMemoInline(ReadOnlyInline):
    model = CreditMemo
    fields = ("credit_date", "reason", "total", "recorded_by", "created_at")
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(ScopedAdmin):
    service_argument = "invoice"
    list_display = ("invoice_number", "customer", "status", "total", "amount_paid", "balance", "currency_code",
                    "invoice_date", "due_date", "paid_at", "primary_sales_rep")
    list_filter = ("status", ("primary_sales_rep", ScopedRelatedFilter), "invoice_date", "currency_code")
    search_fields = ("invoice_number", "order__order_number", "customer__customer_number", "customer__company_name")
    list_select_related = ("customer", "primary_sales_rep")
    date_hierarchy = "invoice_date"
    inlines = [InvoiceLineInline, PaymentInline, CreditMemoInline]
    actions = ["pay_balance_now", "void"]
    readonly_fields = ("invoice_number", "order", "customer", "primary_sales_rep", "invoice_date", "due_date",
                       "currency_code", "total", "amount_paid", "status", "paid_at", "created_at", "voided_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # invoices come from orders (the "Invoice" action on orders)

    @admin.display(description="balance")
    def balance(self, obj):
        return obj.balance

    def save_formset(self, request, form, formset, change):
        if formset.model is not Payment:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []  # for the change message
        for payment_form in formset.extra_forms:
            if payment_form.has_changed() and payment_form.cleaned_data:
                data = payment_form.cleaned_data
                self.run_service(request, services.payment_record, invoice=form.instance, amount=data["amount"],
                                 paid_at=data.get("paid_at") or timezone.now(), reference=data.get("reference", ""),
                                 actor_label=request.user.email)

    @admin.action(description="Record payment of the whole balance, now")
    def pay_balance_now(self, request, queryset):
        def pay_in_full(invoice):
            return services.payment_record(invoice=invoice, amount=invoice.balance, actor_label=request.user.email)

        _each(self, request, queryset, pay_in_full, "Paid")

    @admin.action(description="Void the selected invoices (only while nothing is paid)")
    def void(self, request, queryset):
        _each(self, request, queryset, services.invoice_void, "Voided")
