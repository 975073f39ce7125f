from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from rest_framework.exceptions import APIException

from customers import services
from customers.imports import IMPORT_HELP, CustomerResource
from customers.models import Address, Contact, Customer
from customers.selectors import customer_search
from customers.terms import COMMON_TERMS
from nymble.admin_display import day
from nymble.currencies import CURRENCY_CHOICES
from nymble.models import Organization
from nymble.admin_base import ScopedAdmin, ScopedInline, ScopedRelatedFilter, form_errors_from
from nymble.spreadsheets import SpreadsheetAdminMixin

FORM_FIELDS = {wire: field for field, wire in services.WIRE_NAMES.items()}


class AddressFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        defaults = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("is_default") and not data.get("DELETE"):
                kind = data.get("address_type", "")
                if kind in defaults:
                    raise forms.ValidationError(f"Only one default {kind or 'untyped'} address: untick one.")
                defaults[kind] = True


def _width(em: float) -> forms.TextInput:
    return forms.TextInput(attrs={"style": f"width: {em}em"})


class AddressForm(forms.ModelForm):
    """Nine columns: inputs sized to what they hold, so the row fits a 1440-pixel screen."""

    class Meta:
        model = Address
        fields = ("address_type", "is_default", "code", "address1", "address2", "city", "state_province",
                  "zip_postal_code", "country")
        widgets = {"address_type": _width(6), "code": _width(5), "address1": _width(11), "address2": _width(7),
                   "city": _width(7), "state_province": _width(4), "zip_postal_code": _width(5), "country": _width(3)}
        labels = {"state_province": "State", "zip_postal_code": "ZIP", "address1": "Address", "address2": "Line 2"}


class AddressInline(ScopedInline):
    model = Address
    form = AddressForm
    formset = AddressFormSet
    fields = ("address_type", "is_default", "code", "address1", "address2", "city", "state_province",
              "zip_postal_code", "country")


class ContactFormSet(BaseInlineFormSet):
    def delete_existing(self, obj, commit=True):
        if commit:
            services.portal_login_revoke(contact=obj)  # a removed contact's login stops at once
        super().delete_existing(obj, commit)


class ContactInline(ScopedInline):
    model = Contact
    formset = ContactFormSet
    fields = ("contact_type", "first_name", "last_name", "email", "phone", "has_portal_login")
    readonly_fields = ("has_portal_login",)

    @admin.display(boolean=True, description="portal login")
    def has_portal_login(self, obj):
        return obj.portal_membership_id is not None


class CustomerForm(forms.ModelForm):
    """Checks what the services would refuse, so the staff user sees it on the form. Terms and
    currency are choices of what the API takes (the model's validators check them again)."""

    admin_organization_id = None  # set by CustomerAdmin.get_form
    terms = forms.ChoiceField(required=False, help_text="The default terms of the customer's orders.")
    currency_code = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)

    class Meta:
        model = Customer
        exclude = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = self.instance.terms
        offered = [own] if own and own not in COMMON_TERMS else []
        self.fields["terms"].choices = [("", "none: each order names its terms"),
                                        *((terms, terms) for terms in [*offered, *COMMON_TERMS])]
        if self.instance.pk is None and self.admin_organization_id:
            self.fields["currency_code"].initial = (
                Organization.objects.filter(pk=self.admin_organization_id).values_list("currency_code", flat=True).first())

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        if value is not None and not isinstance(value, dict):
            raise forms.ValidationError('Must be a JSON object of attribute values, e.g. {"region": "West"}.')
        return value

    def clean(self):
        cleaned = super().clean()
        organization_id = self.instance.organization_id or self.admin_organization_id
        if organization_id is None:
            return cleaned
        others = Customer.objects.filter(organization_id=organization_id).exclude(pk=self.instance.pk)
        if cleaned.get("customer_number") and others.filter(customer_number=cleaned["customer_number"]).exists():
            self.add_error("customer_number", "A customer with this number exists.")
        if cleaned.get("external_id") and others.filter(external_id=cleaned["external_id"]).exists():
            self.add_error("external_id", "Another customer has this ExternalId.")
        if cleaned.get("external_id") == "":
            cleaned["external_id"] = None
        try:
            cleaned["attributes"] = services.attributes_validated(organization_id, cleaned.get("attributes") or {})
        except APIException as exc:
            for field, errors in form_errors_from(exc, FORM_FIELDS).items():
                self.add_error(None if field == "__all__" else field, errors)
        return cleaned


@admin.register(Customer)
class CustomerAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    resource_classes = [CustomerResource]  # import and export through customers.imports
    import_help = IMPORT_HELP
    form = CustomerForm
    list_display = ("customer_number", "company_name", "price_tier", "sales_rep", "terms", "active", "updated_on")
    list_display_links = ("customer_number", "company_name")
    list_filter = ("active", ("price_tier", ScopedRelatedFilter), ("sales_rep", ScopedRelatedFilter))
    search_fields = ("customer_number", "company_name", "company_email")  # searched as the API does (below)
    list_select_related = ("price_tier", "sales_rep")
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("customer_number", "company_name", "active")}),
        ("Contact", {"fields": ("company_email", "company_phone", "company_fax")}),
        ("Commercial terms", {"fields": ("price_tier", "sales_rep", "terms", "currency_code", "external_id")}),
        ("Attributes", {"fields": ("attributes",), "classes": ("collapse",)}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [AddressInline, ContactInline]
    actions = ["activate", "deactivate"]

    @admin.display(description="updated", ordering="updated_at")
    def updated_on(self, customer):
        return day(customer.updated_at)

    def get_search_results(self, request, queryset, search_term):
        """The API's search (contacts included, trigram-indexed on PostgreSQL); no row repeated."""
        return (customer_search(queryset, search_term) if search_term.strip() else queryset), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        principal = self.principal(request)
        form.admin_organization_id = principal.organization_id if principal else None
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser and obj is None:
            return ((None, {"fields": ("organization",)}),) + tuple(fieldsets)
        return fieldsets

    def save_model(self, request, obj, form, change):
        """Through the services: attribute rules, and token revocation when Active is cleared."""
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            services.customer_update(customer=obj, **changed)
            obj.refresh_from_db()
            return
        data = dict(form.cleaned_data)
        organization = data.pop("organization", None)
        if not request.user.is_superuser:
            organization = Organization.objects.get(pk=self.principal(request).organization_id)
        created = services.customer_create(organization=organization, **data)
        obj.pk, obj.organization = created.pk, organization
        obj._state.adding = False

    @admin.action(description="Activate the selected customers")
    def activate(self, request, queryset):
        for customer in queryset:
            services.customer_set_active(customer=customer, active=True)
        self.message_user(request, f"Activated {queryset.count()} customer(s).", messages.SUCCESS)

    @admin.action(description="Deactivate the selected customers (their portal logins stop at once)")
    def deactivate(self, request, queryset):
        for customer in queryset:
            services.customer_set_active(customer=customer, active=False)
        self.message_user(request, f"Deactivated {queryset.count()} customer(s).", messages.SUCCESS)
