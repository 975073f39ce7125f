"""Organizations, logins and their memberships, API clients, and organization settings."""
import uuid
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from nymble.currencies import validate_currency_code
from nymble.identifiers import validate_identifier
from nymble.scoping import ScopedQuerySet, principal_of


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone.")


class Role(models.TextChoices):
    ADMIN = "Admin"
    SALES_REP = "SalesRep"
    CUSTOMER = "Customer"


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user):
        principal = principal_of(user)
        if principal is None:
            return self.none()
        if principal.all_organizations:
            return self.all()
        return self.filter(pk=principal.organization_id)


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    org_code = models.CharField("OrgCode", max_length=32, unique=True, validators=[validate_identifier])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency_code = models.CharField("currency", max_length=3, default="USD", validators=[validate_currency_code])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.org_code})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Logins with a membership in the caller's organization."""
        principal = principal_of(user)
        if principal is None:
            return self.none()
        if principal.all_organizations:
            return self.all()
        return self.filter(memberships__organization_id=principal.organization_id).distinct()


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_login(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    @staticmethod
    def normalize_login(email: str) -> str:
        return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A login, keyed by email. What it may see comes from a Membership, never from the user alone."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the admin (sees its organization only).")
    date_joined = models.DateTimeField(default=timezone.now)

    password_set_by_admin = models.BooleanField(
        default=False, editable=False, help_text="The password was chosen by an organization's admin, not its person."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        """A new password ends every session of this login in every organization, whichever door
        set it (reset, invitation, an admin, the Django admin's password form): every token's
        membership version moves, and Django's own sessions already hang on the password hash."""
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            self.memberships.update(token_version=models.F("token_version") + 1)


class MembershipQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.in_organization_of(user)

    def able_to_log_in(self):
        return self.filter(is_active=True, pending=False, user__is_active=True)


class Membership(models.Model):
    """A login's role in one organization. Its token version revokes every token issued for it.

    Linking a login that already belongs to another organization makes a *pending* membership: it
    works only once its person accepts the emailed invitation, so no organization's admin opens
    another's door with a password it chose."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    token_version = models.PositiveIntegerField(default=1, editable=False)
    pending = models.BooleanField(default=False, editable=False, help_text="Invited; works once its person accepts.")
    invited_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_one_role_per_org")]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user.email} · {self.role} · {self.organization.org_code}"


class OrganizationScopedQuerySet(ScopedQuerySet):
    """Settings of an organization: every role of the organization may read them."""

    def visible_to(self, user):
        return self.in_organization_of(user)


class PriceTier(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="price_tiers")
    code = models.CharField(max_length=64, validators=[validate_identifier])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="price_tier_code_unique")]

    def __str__(self) -> str:
        return self.code


class AttributeType(models.TextChoices):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


class CustomerAttributeDefinition(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="attribute_definitions")
    key = models.CharField(max_length=64, validators=[validate_identifier])
    type = models.CharField(max_length=16, choices=AttributeType.choices)
    required = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="attribute_key_unique")]

    def __str__(self) -> str:
        return self.key


class ApiClientQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.in_organization_of(user).filter(revoked_at__isnull=True)


class ApiClient(models.Model):
    """A machine login (ERP/CRM sync) with admin rights in one organization. The secret is stored hashed."""

    id = models.UUIDField("ClientId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=256, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name
