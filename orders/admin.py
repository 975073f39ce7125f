"""Orders and invoices in the admin. Every change goes through the services: invoicing,
cancelling, moving status, recording payments and voiding (orders.services), and an order's sales
credits (commissions.statements.services.sales_credits_replace, which refuses once commissioned).

A refused save comes back filled in as it was sent, with the refusal on its fields
(nymble.admin_refusals).
"""
from django import forms
from django.contrib import admin, messages
from django.db.models import F, Sum
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from rest_framework.exceptions import APIException

from customers.admin import CustomerAdmin
from customers.models import Customer
from nymble.admin_base import ReadOnlyInline, ScopedAdmin, ScopedInline, ScopedRelatedFilter, api_error_text
from nymble.admin_refusals import (
    RefusableAdmin,
    RefusableFormSet,
    RefusableInline,
    changed_rows,
    refusal_of,
    wire_parts,
)
from nymble.admin_display import LATEST, day, link, list_link, money, record_table
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


class MoneyColumns:
    """Read-only money columns of an order's or invoice's rows, each with the document's currency."""

    @staticmethod
    def _currency(row) -> str:
        parent = getattr(row, "order", None) or getattr(row, "invoice", None)
        return parent.currency_code

    @admin.display(description="price")
    def price_shown(self, row):
        return money(row.price, self._currency(row))

    @admin.display(description="line total")
    def line_total_shown(self, row):
        return money(row.line_total, self._currency(row))


class OrderItemInline(MoneyColumns, ReadOnlyInline):
    model = OrderItem
    fields = ("sku", "product_name", "quantity", "price_shown", "catalog_price_shown", "line_total_shown")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description="catalog price")
    def catalog_price_shown(self, row):
        return money(row.catalog_price, self._currency(row))


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
        if obj is not None and credits_locked(obj):  # this instance serves this request alone
            self.verbose_name_plural = "sales credits — commissioned on a statement: void it first to change them"
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
        return obj is not None and not credits_locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or not credits_locked(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not credits_locked(obj)) and super().has_delete_permission(request, obj)


def credits_locked(order: Order) -> bool:
    """Once a line of the order's invoice is on a statement that is not void, its credits stay as
    they are (sales_credits_replace refuses): the page then shows them read-only, with no Save."""
    if not hasattr(order, "_credits_locked"):
        from commissions.models import StatementLine  # commissions builds on orders

        order._credits_locked = StatementLine.objects.filter(live=True, invoice_line__invoice__order=order).exists()
    return order._credits_locked


def read_only_page(extra_context, *, title: str, saves: bool) -> dict:
    """A page whose one change is its inline (an order's credits, an invoice's new payment): titled
    for the record (not "Change …"), a single Save while there is something to save, none else."""
    return {**(extra_context or {}), "title": title, "show_save": saves, "show_save_and_continue": False,
            "show_save_and_add_another": False}


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
    # Six columns fit beside the admin's menu and the filters at 1440 pixels (channel and type are filters).
    list_display = ("order_number", "customer", "status", "primary_sales_rep", "subtotal_shown", "created_on")
    list_filter = ("status", "channel", "order_type", ("primary_sales_rep", ScopedRelatedFilter), "created_at")
    search_fields = ("order_number", "po_number", "customer__customer_number", "customer__company_name")
    list_select_related = ("customer", "primary_sales_rep")
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, SalesCreditInline]
    actions = ["invoice", "cancel", "mark_processing", "mark_shipped", "mark_complete"]
    readonly_fields = ("order_number", "status", "invoice_link", "customer", "customer_as_ordered", "order_type",
                       "channel", "po_number", "price_tier", "terms", "primary_sales_rep", "taken_by_sales_rep",
                       "placed_by_label", "placed_by_role", "subtotal_shown", "external_id", "created_at",
                       "updated_at", "cancelled_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders are placed through the API (rep apps, portals, ERP)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        saves = order is not None and not credits_locked(order)
        return super().change_view(request, object_id, form_url,
                                   read_only_page(extra_context, title="Order", saves=saves))

    @admin.display(description="subtotal", ordering="subtotal")
    def subtotal_shown(self, order):
        return money(order.subtotal, order.currency_code)

    @admin.display(description="placed", ordering="created_at")
    def created_on(self, order):
        return day(order.created_at)

    @admin.display(description="invoice")
    def invoice_link(self, order):
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            return "not invoiced yet (the “Invoice” action on the orders list)"
        return format_html("{} · {} · balance {}", link(invoice), invoice.status,
                           money(invoice.balance, invoice.currency_code))

    @admin.display(description="customer as ordered")
    def customer_as_ordered(self, order):
        """The snapshot the order keeps of its customer, as a card rather than JSON."""
        snapshot = order.customer_snapshot or {}

        def address(kind):
            parts = snapshot.get(f"{kind}Address") or {}
            lines = [parts.get("Address1"), parts.get("Address2"), " ".join(
                p for p in (parts.get("City"), parts.get("StateProvince"), parts.get("ZipPostalCode")) if p),
                parts.get("Country")]
            return [line for line in lines if line] or ["-"]

        rows = [("Customer", [f"{snapshot.get('CustomerNumber', '')} {snapshot.get('CompanyName', '')}".strip()]),
                ("Email", [snapshot.get("CompanyEmail") or "-"]), ("Phone", [snapshot.get("CompanyPhone") or "-"]),
                ("Ship to", address("Shipping")), ("Bill to", address("Billing"))]
        cells = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", (
            (label, format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))) for label, lines in rows))
        return format_html('<table class="nymble-card">{}</table>', cells)

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


class InvoiceLineInline(MoneyColumns, ReadOnlyInline):
    model = InvoiceLine
    fields = ("sku", "product_name", "quantity", "price_shown", "line_total_shown")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")


def payable(invoice: Invoice | None) -> bool:
    return invoice is not None and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


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

    def has_add_permission(self, request, obj=None):
        return payable(obj) and super().has_add_permission(request, obj)  # a paid or void invoice takes none

    def get_formset(self, request, obj=None, **kwargs):
        if obj is not None:  # this instance serves this request alone
            self.verbose_name_plural = f"payments, in {obj.currency_code}"
        return super().get_formset(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False  # payments are never edited

    def has_delete_permission(self, request, obj=None):
        return False


class CreditMemoInline(ReadOnlyInline):
    model = CreditMemo
    fields = ("credit_date", "reason", "total_shown", "recorded_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    @admin.display(description="total")
    def total_shown(self, memo):
        return money(memo.total, memo.invoice.currency_code)


@admin.register(Invoice)
class InvoiceAdmin(ScopedAdmin):
    service_argument = "invoice"
    # Six columns fit at 1440 pixels (the invoice date is the date bar above, the rep a filter).
    list_display = ("invoice_number", "customer", "status", "total_shown", "balance_shown", "due_on")
    list_filter = ("status", ("primary_sales_rep", ScopedRelatedFilter), "invoice_date", "currency_code")
    search_fields = ("invoice_number", "order__order_number", "customer__customer_number", "customer__company_name")
    list_select_related = ("customer", "primary_sales_rep")
    date_hierarchy = "invoice_date"
    inlines = [InvoiceLineInline, PaymentInline, CreditMemoInline]
    actions = ["pay_balance_now", "void"]
    readonly_fields = ("invoice_number", "status", "order", "customer", "primary_sales_rep", "invoice_date",
                       "due_date", "total_shown", "amount_paid_shown", "credited", "balance_shown", "paid_at",
                       "created_at", "voided_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # invoices come from orders (the "Invoice" action on orders)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        saves = payable(self.get_object(request, object_id))  # Save records the new payment
        return super().change_view(request, object_id, form_url,
                                   read_only_page(extra_context, title="Invoice", saves=saves))

    @admin.display(description="due", ordering="due_date")
    def due_on(self, invoice):
        return day(invoice.due_date)

    @admin.display(description="total", ordering="total")
    def total_shown(self, invoice):
        return money(invoice.total, invoice.currency_code)

    @admin.display(description="paid")
    def amount_paid_shown(self, invoice):
        return money(invoice.amount_paid, invoice.currency_code)

    @admin.display(description="balance", ordering=F("total") - F("amount_paid"))
    def balance_shown(self, invoice):
        return money(invoice.balance, invoice.currency_code)

    @admin.display(description="credited (returns)")
    def credited(self, invoice):
        total = invoice.credit_memos.aggregate(total=Sum("total"))["total"]
        return money(total, invoice.currency_code) if total else "-"

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


# ---------------------------------------------------------------- a customer's page, with its orders


OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class CustomerWithOrdersAdmin(CustomerAdmin):
    """The customer's page shows its latest orders and invoices and what it owes (§9). It lives
    here because orders build on customers, not the other way round."""

    readonly_fields = (*CustomerAdmin.readonly_fields, "open_balance", "latest_orders", "latest_invoices")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Orders and invoices", {"fields": ("open_balance", "latest_orders", "latest_invoices")}))

    @admin.display(description="open balance")
    def open_balance(self, customer):
        owed = (Invoice.objects.filter(customer=customer, status__in=OPEN).values("currency_code")
                .annotate(owed=Sum(F("total") - F("amount_paid"))).order_by("currency_code"))
        if not owed:
            return money(0, customer.currency_code)
        return " + ".join(money(row["owed"], row["currency_code"]) for row in owed)

    @admin.display(description="orders")
    def latest_orders(self, customer):
        orders = Order.objects.filter(customer=customer).order_by("-created_at")
        rows = [(link(order, order.order_number), order.get_status_display(), money(order.subtotal, order.currency_code),
                 day(order.created_at)) for order in orders[:LATEST]]
        return record_table(("order", "status", "subtotal", "placed"), rows, total=orders.count(),
                            everything=list_link(Order, "all its orders", customer=customer.pk))

    @admin.display(description="invoices")
    def latest_invoices(self, customer):
        invoices = Invoice.objects.filter(customer=customer).order_by("-invoice_date", "-created_at")
        rows = [(link(invoice, invoice.invoice_number), invoice.get_status_display(),
                 money(invoice.total, invoice.currency_code), money(invoice.balance, invoice.currency_code),
                 day(invoice.due_date)) for invoice in invoices[:LATEST]]
        return record_table(("invoice", "status", "total", "balance", "due"), rows, total=invoices.count(),
                            everything=list_link(Invoice, "all its invoices", customer=customer.pk))


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithOrdersAdmin)
