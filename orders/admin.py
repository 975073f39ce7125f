"""Orders and invoices in the admin. Every change goes through the services: invoicing,
cancelling, moving status, recording payments and voiding (orders.services), and an order's sales
credits (commissions.statements.services.sales_credits_replace, which refuses once commissioned).

A refused save comes back filled in as it was sent, with the refusal on its fields
(nymble.admin_refusals).
"""
from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from rest_framework.exceptions import APIException

from nymble.admin_base import ReadOnlyInline, ScopedAdmin, ScopedInline, ScopedRelatedFilter, api_error_text
from nymble.admin_refusals import (
    RefusableAdmin,
    RefusableFormSet,
    RefusableInline,
    changed_rows,
    refusal_of,
    wire_parts,
)
from orders import services
from orders.catalog import admin as catalog_admin  # noqa: F401  (registers the product admin)
from orders.models import (
    CreditMemo,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    SalesCredit,
)
from salesreps.models import OrganizationSalesRep


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("sku", "product_name", "quantity", "price", "catalog_price", "line_total")
    readonly_fields = fields


class SalesCreditInline(RefusableInline, ScopedInline):
    """The reps credited with the order's sales (§4 "Sales credits"), saved all at once through
    `sales_credits_replace`: the shares add up to 1, and once a line of the invoice is on a
    statement that is not void, the credits stay as they are (the service's 409, shown here)."""

    model = SalesCredit
    formset = RefusableFormSet
    fields = ("sales_rep", "share")
    verbose_name = "sales credit"
    verbose_name_plural = "sales credits — who is credited with the order's sales; the shares add up to 1"

    def get_formset(self, request, obj=None, **kwargs):
        self.order = obj  # whose organization's reps may be credited
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "sales_rep":
            order = getattr(self, "order", None)
            reps = OrganizationSalesRep.objects.visible_to(request.user)
            # The order's organization only (a superuser sees every organization's reps); inactive
            # reps stay listed so a stored credit still shows, and the service refuses a new one.
            field.queryset = reps.filter(organization_id=order.organization_id) if order else reps.none()
            field.label_from_instance = lambda rep: f"{rep}{'' if rep.active else ' (inactive)'}"
        return field

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "sales_rep" and hasattr(field.widget, "can_add_related"):
            # Credit a rep who exists; reps are added and edited on their own pages.
            field.widget.can_add_related = field.widget.can_change_related = False
        return field

    def has_add_permission(self, request, obj=None):
        return obj is not None and super().has_add_permission(request, obj)


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
class OrderAdmin(RefusableAdmin, ScopedAdmin):
    service_argument = "order"
    list_display = ("order_number", "customer", "status", "channel", "order_type", "primary_sales_rep",
                    "taken_by_sales_rep", "subtotal", "currency_code", "created_at")
    list_filter = ("status", "channel", "order_type", ("primary_sales_rep", ScopedRelatedFilter), "created_at")
    search_fields = ("order_number", "po_number", "customer__customer_number", "customer__company_name")
    list_select_related = ("customer", "primary_sales_rep", "taken_by_sales_rep")
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, SalesCreditInline]
    actions = ["invoice", "cancel", "mark_processing", "mark_shipped", "mark_complete"]
    readonly_fields = ("order_number", "customer", "customer_snapshot", "order_type", "channel", "status",
                       "po_number", "price_tier", "currency_code", "terms", "primary_sales_rep",
                       "taken_by_sales_rep", "placed_by_label", "placed_by_role", "subtotal", "external_id",
                       "created_at", "updated_at", "cancelled_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders are placed through the API (rep apps, portals, ERP)

    def save_model(self, request, obj, form, change):
        pass  # every field of the order is read-only here; its credits are saved in save_related

    def save_related(self, request, form, formsets, change):
        """The credits, all rows at once, through the service (and only when they changed, so a
        commissioned order's page can still be saved as it is)."""
        from commissions.statements.services import sales_credits_replace  # commissions builds on orders

        self.forget_saving(formsets)
        credits = next((f for f in formsets if f.model is SalesCredit), None)
        if credits is None or not credits.has_changed():
            return
        rows = changed_rows(credits)
        data = [{"rep_number": row.cleaned_data["sales_rep"].rep_number, "share": row.cleaned_data["share"]}
                for row in rows]
        positions = [credits.forms.index(row) for row in rows]

        def route(name):
            collection, index, rest = wire_parts(name)
            if collection != "SalesCredits":
                return None
            field = {"RepNumber": "sales_rep", "Share": "share"}.get(rest)
            if index is None or index >= len(positions) or field is None:
                return (credits.prefix, None, None)
            return (credits.prefix, positions[index], field)

        try:
            sales_credits_replace(order=form.instance, credits=data)
        except APIException as exc:
            raise refusal_of(exc, route) from None

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
