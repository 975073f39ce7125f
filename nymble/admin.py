from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django_celery_beat import admin as beat_admin  # registered first, so it can be narrowed below

from nymble import logins, services
from nymble.admin_base import ScopedAdmin, ScopedInline
from nymble.admin_display import day
from nymble.models import ApiClient, CustomerAttributeDefinition, Membership, Organization, PriceTier, User
from nymble.ratelimit import client_address


class LimitedAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's password login counts against the same limits as `POST /api/auth/token`, so
    the admin is no side door for guessing passwords."""

    def clean(self):
        email, address = self.cleaned_data.get("username") or "", client_address(self.request)
        try:
            logins.login_guard(email=email, address=address)
        except logins.TooManyLogins as exc:
            minutes = max(1, round(exc.wait / 60))
            raise ValidationError(f"Too many failed logins from this address; try again in {minutes} minutes.",
                                  code="too_many") from None
        try:
            cleaned = super().clean()
        except ValidationError:
            if self.user_cache is None:  # wrong email or password, not a login that may not enter
                logins.login_failed(email=email, address=address)
            raise
        logins.login_succeeded(email=email, address=address)
        return cleaned


admin.site.login_form = LimitedAdminAuthenticationForm
admin.site.site_header = "Nymble back office"
admin.site.site_title = "Nymble"
admin.site.index_title = "Back office"


class PriceTierInline(ScopedInline):
    model = PriceTier
    fields = ("code", "name")


@admin.register(Organization)
class OrganizationAdmin(ScopedAdmin):
    organization_field = None
    list_display = ("name", "org_code", "time_zone", "currency_code", "created_at")
    search_fields = ("name", "org_code")
    readonly_fields = ("id", "created_at")
    inlines = [PriceTierInline]

    def has_add_permission(self, request):
        return request.user.is_superuser  # organizations are created with `create_organization`


class MembershipInline(ScopedInline):
    model = Membership
    fields = ("organization", "role", "is_active", "pending", "created_at")
    readonly_fields = ("organization", "role", "pending", "created_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return Membership.objects.visible_to(request.user)


PASSWORD_BELONGS_TO_ITS_PERSON = (
    "A login's password belongs to its person: they choose it through the reset mail (“Forgot your "
    "password?” at login) or their invitation. A rep's password is set on the rep's page while the login "
    "belongs to your organization alone."
)


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    organization_field = None
    ordering = ("email",)
    list_display = ("email", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email",)
    fieldsets = ((None, {"fields": ("email", "password", "is_active", "is_staff", "date_joined")}),)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("date_joined",)
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return request.user.is_superuser  # logins are made by creating a rep, a portal login or an org

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        """Staff, who may not change a login, see how its password is set instead of a "Reset
        password" button that could only refuse them."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return tuple((name, {**options, "fields": tuple("password_note" if field == "password" else field
                                                           for field in options["fields"])})
                     for name, options in fieldsets)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "password_note")

    @admin.display(description="password")
    def password_note(self, obj):
        return PASSWORD_BELONGS_TO_ITS_PERSON

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied(PASSWORD_BELONGS_TO_ITS_PERSON)
        return super().user_change_password(request, id, form_url)


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "organization", "role", "is_active", "pending", "invited_on", "created_on")
    list_filter = ("role", "is_active", "pending")
    search_fields = ("user__email",)
    readonly_fields = ("user", "organization", "role", "token_version", "pending", "invited_at", "created_at")
    actions = ["revoke_tokens", "resend_invitation"]

    def has_add_permission(self, request):
        return False

    def get_list_display(self, request):
        """Staff see their own organization's logins: its column would only take room from the others."""
        display = super().get_list_display(request)
        return display if request.user.is_superuser else tuple(name for name in display if name != "organization")

    @admin.display(description="invited", ordering="invited_at")
    def invited_on(self, membership):
        return day(membership.invited_at)

    @admin.display(description="created", ordering="created_at")
    def created_on(self, membership):
        return day(membership.created_at)

    @admin.action(description="Revoke every token of the selected logins")
    def revoke_tokens(self, request, queryset):
        from nymble.tokens import membership_revoke_tokens

        membership_revoke_tokens(*queryset.values_list("pk", flat=True))
        self.message_user(request, "Their tokens fail from the next request on.", messages.SUCCESS)

    @admin.action(description="Send the invitation again (pending logins)")
    def resend_invitation(self, request, queryset):
        sent = logins.invitations_resend(memberships=queryset)
        self.message_user(request, f"Sent {sent} invitation(s); earlier ones no longer work.", messages.SUCCESS)


@admin.register(PriceTier)
class PriceTierAdmin(ScopedAdmin):
    list_display = ("code", "name", "organization", "created_at")
    search_fields = ("code", "name")


@admin.register(CustomerAttributeDefinition)
class AttributeDefinitionAdmin(ScopedAdmin):
    list_display = ("key", "type", "required", "organization")
    list_filter = ("type", "required")
    search_fields = ("key",)


@admin.register(ApiClient)
class ApiClientAdmin(ScopedAdmin):
    list_display = ("name", "id", "organization", "created_at", "revoked_at")
    readonly_fields = ("id", "created_at", "revoked_at")
    fields = ("name", "id", "created_at", "revoked_at")
    actions = ["revoke"]

    def get_queryset(self, request):  # revoked clients stay listed for the record
        return ApiClient.objects.in_organization_of(request.user)

    def has_add_permission(self, request):
        return False  # created through the API, which shows the secret once

    @admin.action(description="Revoke the selected API clients")
    def revoke(self, request, queryset):
        for client in queryset:
            services.api_client_revoke(client=client)
        self.message_user(request, "Revoked; their tokens fail from the next request on.", messages.SUCCESS)


class SuperusersOnly:
    """django-celery-beat's own pages hold every organization's tasks: a superuser's tools. A staff
    user who follows an old link learns where its organization's schedule is, on a styled page."""

    refusal = ("These pages hold the scheduled tasks of every organization, so they are for superusers. "
               "Your organization's statement run has its own page: Commissions → Statement schedules.")

    def _refuse_staff(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied(self.refusal)

    def changelist_view(self, request, extra_context=None):
        self._refuse_staff(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._refuse_staff(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._refuse_staff(request)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._refuse_staff(request)
        return super().delete_view(request, object_id, extra_context)


@admin.site.admin_view
def beat_app_index(request):
    """/admin/django_celery_beat/: the app's index for superusers, the same explanation for staff."""
    if not request.user.is_superuser:
        raise PermissionDenied(SuperusersOnly.refusal)
    return admin.site.app_index(request, beat_admin.__package__)


for _model, _model_admin in list(admin.site._registry.items()):
    if _model._meta.app_label == beat_admin.__package__:
        admin.site.unregister(_model)
        admin.site.register(_model, type(type(_model_admin).__name__, (SuperusersOnly, type(_model_admin)), {}))
