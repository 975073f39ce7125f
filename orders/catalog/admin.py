"""The catalog in the admin: products with inline tier prices, scoped to the staff user's
organization, written through orders.catalog.services so the API's rules hold here too."""
import re

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from rest_framework.exceptions import APIException

from nymble.admin_base import ScopedAdmin, ScopedInline
from nymble.admin_display import day
from nymble.api.problems import flatten_errors
from nymble.currencies import ISO_4217
from nymble.models import Organization
from nymble.spreadsheets import SpreadsheetAdminMixin
from orders.catalog import services as catalog
from orders.catalog.imports import IMPORT_HELP, ProductResource
from orders.models import Product, ProductPrice

PRICE_FORM_FIELDS = {wire: field for field, wire in catalog.PRICE_WIRE_NAMES.items()}
PRICE_ERROR = re.compile(r"^Prices\[(\d+)\]\.(\w+)$")


def _organization_of(form_or_formset, instance):
    return instance.organization_id or form_or_formset.admin_organization_id


def _staff_organization_id(request):
    """The organization a staff user's new objects belong to; None for a superuser (the form names it)."""
    principal = ScopedAdmin.principal(request)
    return None if request.user.is_superuser or principal is None else principal.organization_id


class ProductPriceForm(forms.ModelForm):
    """A row's own checks on its fields, so a refusal shows beside the field at fault."""

    at_quantity = forms.IntegerField(label="From quantity", min_value=1, max_value=catalog.MAX_QUANTITY, initial=1)
    price = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)

    class Meta:
        model = ProductPrice
        fields = ("price_tier", "currency_code", "at_quantity", "price")

    def clean_currency_code(self):
        code = (self.cleaned_data.get("currency_code") or "").strip().upper()
        if code not in ISO_4217:
            raise forms.ValidationError(f"'{code}' is not an ISO 4217 currency code.")
        return code


class ProductPriceFormSet(BaseInlineFormSet):
    """Checks the rows as orders.catalog.services will (tier of the organization, ISO currency, one
    price per tier, currency and break) and shows each refusal on its row."""

    admin_organization_id = None

    def kept_forms(self) -> list:
        return [f for f in self.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]

    def rows(self) -> list[dict]:
        return [{field: form.cleaned_data[field] for field in catalog.PRICE_WIRE_NAMES} for form in self.kept_forms()]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        organization_id = _organization_of(self, self.instance)
        if organization_id is None:  # a superuser's new product without an organization: the form says so
            return
        currency = Organization.objects.filter(pk=organization_id).values_list("currency_code", flat=True).first()
        try:
            catalog.prices_validated(organization_id=organization_id, prices=self.rows(), default_currency=currency)
        except APIException as exc:
            kept = self.kept_forms()
            general = []
            for name, messages_ in flatten_errors(exc.detail).items():
                match = PRICE_ERROR.match(name)
                field = PRICE_FORM_FIELDS.get(match.group(2)) if match else None
                if field:
                    kept[int(match.group(1))].add_error(field, messages_)
                else:
                    general.extend(f"{name}: {message}" for message in messages_)
            if general:
                raise forms.ValidationError(general) from None


class ProductPriceInline(ScopedInline):
    """Tier choices are the staff user's organization's (ScopedInline); a superuser's are checked on save."""

    model = ProductPrice
    form = ProductPriceForm
    formset = ProductPriceFormSet
    fields = ("price_tier", "currency_code", "at_quantity", "price")
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("price_tier")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.admin_organization_id = _staff_organization_id(request)
        return formset


class ProductForm(forms.ModelForm):
    """Checks what the services would refuse, so the staff user sees it on the form."""

    admin_organization_id = None
    minimum_order_quantity = forms.IntegerField(min_value=1, max_value=catalog.MAX_QUANTITY, initial=1)
    quantity_increment = forms.IntegerField(min_value=1, max_value=catalog.MAX_QUANTITY, initial=1)

    class Meta:
        model = Product
        exclude = ()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("external_id") == "":
            cleaned["external_id"] = None
        organization_id = _organization_of(self, self.instance) or getattr(cleaned.get("organization"), "pk", None)
        if organization_id is None:
            return cleaned
        others = Product.objects.filter(organization_id=organization_id).exclude(pk=self.instance.pk)
        if cleaned.get("sku") and others.filter(sku=cleaned["sku"]).exists():
            self.add_error("sku", "A product with this SKU exists.")
        if cleaned.get("external_id") and others.filter(external_id=cleaned["external_id"]).exists():
            self.add_error("external_id", "Another product has this ExternalId.")
        return cleaned


@admin.register(Product)
class ProductAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    resource_classes = [ProductResource]  # import and export through orders.catalog.imports
    import_help = IMPORT_HELP
    form = ProductForm
    # Six columns fit at 1440 pixels (UPC and quantities are on the page).
    list_display = ("sku", "name", "category", "active", "price_count", "updated_on")
    list_display_links = ("sku", "name")
    list_filter = ("active", "category")
    search_fields = ("sku", "name", "upc")
    list_per_page = 50
    readonly_fields = ("id", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("sku", "name", "active")}),
        ("Description", {"fields": ("description", "category", "upc")}),
        ("Ordering", {"fields": ("minimum_order_quantity", "quantity_increment", "external_id")}),
        ("History", {"fields": ("id", "created_at", "updated_at")}),
    )
    inlines = [ProductPriceInline]
    actions = ["activate", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(price_count=Count("prices"))

    def get_object(self, request, object_id, from_field=None):
        """Out of scope (another organization's) or missing, a product's page is a 404 alike."""
        product = super().get_object(request, object_id, from_field)
        if product is None:
            raise Http404
        return product

    @admin.display(description="updated", ordering="updated_at")
    def updated_on(self, product):
        return day(product.updated_at)

    @admin.display(description="prices", ordering="price_count")
    def price_count(self, obj):
        return obj.price_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.admin_organization_id = _staff_organization_id(request)
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser and obj is None:
            return ((None, {"fields": ("organization",)}),) + tuple(fieldsets)
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser and obj is not None:
            readonly.append("organization")  # a product never moves between organizations
        return readonly

    def save_model(self, request, obj, form, change):
        """Through orders.catalog.services; the prices follow in save_formset."""
        fields = set(catalog.WIRE_NAMES) - {"prices"}
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in fields}
            catalog.product_update(product=obj, **changed)
            obj.refresh_from_db()
            return
        data = {name: value for name, value in form.cleaned_data.items() if name in fields}
        organization = form.cleaned_data.get("organization")
        if not request.user.is_superuser:
            organization = Organization.objects.get(pk=self.principal(request).organization_id)
        created = catalog.product_create(organization=organization, **data)
        obj.pk, obj.organization = created.pk, organization
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductPrice:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # only to list what changed in the history; the service writes
        if formset.has_changed():
            catalog.product_update(product=form.instance, prices=formset.rows())

    @admin.action(description="Activate the selected products")
    def activate(self, request, queryset):
        changed = catalog.products_set_active(products=queryset, active=True)
        self.message_user(request, f"Activated {changed} product(s).", messages.SUCCESS)

    @admin.action(description="Deactivate the selected products (hidden from reps and portal users)")
    def deactivate(self, request, queryset):
        changed = catalog.products_set_active(products=queryset, active=False)
        self.message_user(request, f"Deactivated {changed} product(s).", messages.SUCCESS)
