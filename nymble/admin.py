from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from nymble import logins, services
from nymble.admin_base import ScopedAdmin, ScopedInline
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


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "organization", "role", "is_active", "pending", "invited_at", "created_at")
    list_filter = ("role", "is_active", "pending")
    search_fields = ("user__email",)
    readonly_fields = ("user", "organization", "role", "token_version", "pending", "invited_at", "created_at")
    actions = ["revoke_tokens", "resend_invitation"]

    def has_add_permission(self, request):
        return False

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
