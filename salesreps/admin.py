"""Sales reps in the admin. Every write goes through salesreps.services, as the API's do, so a
deactivation revokes tokens and a new rep links the global identity of its email. A refusal (a
taken RepNumber, a shared login's password) comes back on its field, the form as it was sent."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.db.models import Count
from rest_framework.exceptions import APIException

from customers.models import Customer
from nymble.admin_base import ReadOnlyInline, ScopedAdmin
from nymble.admin_refusals import RefusableAdmin, refusal_on_fields
from nymble.models import Organization
from salesreps import services
from salesreps.models import OrganizationSalesRep

# Model fields an admin form may change, as sales_rep_update names them.
UPDATABLE = ("rep_number", "first_name", "last_name", "phone_number", "active")
# The services' wire names → the forms' fields, for their refusals.
WIRE_TO_FIELD = {"RepNumber": "rep_number", "FirstName": "first_name", "LastName": "last_name", "Email": "email",
                 "Password": "password", "PhoneNumber": "phone_number", "Active": "active"}


def _checked_password(form: forms.ModelForm) -> str:
    password = form.cleaned_data.get("password") or ""
    if password:
        try:
            password_validation.validate_password(password)
        except forms.ValidationError as exc:
            form.add_error("password", exc)
    return password


class SalesRepAddForm(forms.ModelForm):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"class": "vTextField"}), help_text="The rep's login. The email of a rep of another organization links that same person."
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"class": "vTextField"}),  # a refused form comes back as it was typed
        help_text="The password of a new login. An existing login keeps its own password.",
    )

    class Meta:
        model = OrganizationSalesRep
        fields = ("organization", "rep_number", "first_name", "last_name", "phone_number", "active")

    def clean_password(self):
        return _checked_password(self)


class SalesRepChangeForm(forms.ModelForm):
    password = forms.CharField(
        label="New password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"class": "vTextField"}),  # a refused form comes back as it was typed
        help_text="Leave empty to keep it. Only a login that belongs to this organization alone can be changed here.",
    )

    class Meta:
        model = OrganizationSalesRep
        fields = ("rep_number", "first_name", "last_name", "phone_number", "active")

    def clean_password(self):
        return _checked_password(self)


class CustomerInline(ReadOnlyInline):
    """The rep's customers, read-only: assignments change on the customer."""

    model = Customer
    fields = ("customer_number", "company_name", "active", "price_tier")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def get_queryset(self, request):
        return Customer.objects.visible_to(request.user).select_related("price_tier")


@admin.register(OrganizationSalesRep)
class OrganizationSalesRepAdmin(RefusableAdmin, ScopedAdmin):
    list_display = ("rep_number", "full_name", "email", "active", "customer_count")
    list_display_links = ("rep_number", "full_name")
    list_filter = ("active",)
    search_fields = ("rep_number", "first_name", "last_name", "sales_rep__user__email")
    ordering = ("rep_number",)
    actions = ["activate", "deactivate"]
    inlines = [CustomerInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("sales_rep__user")
        return qs.annotate(customer_count=Count("customers"))

    # ---- forms: add (with login) and change (login shown, password optional)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SalesRepChangeForm if obj is not None else SalesRepAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            fields = ["rep_number", "first_name", "last_name", "email", "password", "phone_number", "active"]
            return (["organization"] if request.user.is_superuser else []) + fields
        return [
            "rep_number", "first_name", "last_name", "email", "password", "phone_number", "active",
            "sales_rep_identity", "id", "created_at", "updated_at",
        ] + (["organization"] if request.user.is_superuser else [])

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("email", "sales_rep_identity", "id", "created_at", "updated_at", "organization")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    # ---- saves go through the services

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                changes = {name: data[name] for name in form.changed_data if name in UPDATABLE}
                if data.get("password"):
                    changes["password"] = data["password"]
                rep = services.sales_rep_update(rep=obj, **changes)
            else:
                organization = data["organization"] if request.user.is_superuser else None
                rep = services.sales_rep_create(
                    organization=organization or self._organization(request),
                    rep_number=data["rep_number"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    phone_number=data.get("phone_number") or "",
                    active=data.get("active", True),
                    password=data.get("password") or None,
                )
        except APIException as exc:
            raise refusal_on_fields(exc, WIRE_TO_FIELD) from None
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(rep, field.attname))
        obj._state.adding = False

    def _organization(self, request) -> Organization:
        return Organization.objects.get(pk=self.principal(request).organization_id)

    # ---- list columns

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj):
        return obj.full_name

    @admin.display(description="email", ordering="sales_rep__user__email")
    def email(self, obj):
        return obj.email

    @admin.display(description="SalesRepId")
    def sales_rep_identity(self, obj):
        return obj.sales_rep_id  # the person's id, the same in every organization

    @admin.display(description="customers", ordering="customer_count")
    def customer_count(self, obj):
        return obj.customer_count

    # ---- actions

    def _set_active(self, request, queryset, active: bool):
        done = 0
        for rep in queryset:
            if self.run_service(request, services.sales_rep_set_active, rep=rep, active=active) is not None:
                done += 1
        if done:
            what = "activated" if active else "deactivated; their tokens fail from the next request on"
            self.message_user(request, f"{done} rep(s) {what}.", messages.SUCCESS)

    @admin.action(description="Activate the selected reps")
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate the selected reps (revokes their tokens)")
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)
