"""Sales reps: one global identity per person, one membership per organization."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from nymble.identifiers import validate_identifier
from nymble.models import Membership, Organization
from nymble.scoping import ScopedQuerySet, principal_of


class SalesRep(models.Model):
    """The person behind a rep, the same in every organization (`SalesRepId`)."""

    id = models.UUIDField("SalesRepId", primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales_rep_identity")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.user.email


class OrganizationSalesRepQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        principal = principal_of(user)
        qs = self.in_organization_of(user)
        if principal is None or principal.is_customer:
            return self.none()
        if principal.is_rep:
            return qs.filter(pk=principal.sales_rep_id)
        return qs

    def active(self):
        return self.filter(active=True)


class OrganizationSalesRep(models.Model):
    """A rep in one organization (`OrganizationSalesRepId`), known there by its `RepNumber`."""

    id = models.UUIDField("OrganizationSalesRepId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sales_reps")
    sales_rep = models.ForeignKey(SalesRep, on_delete=models.PROTECT, related_name="organization_reps")
    membership = models.OneToOneField(Membership, on_delete=models.PROTECT, related_name="sales_rep")
    rep_number = models.CharField(max_length=64, validators=[validate_identifier])
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    phone_number = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)
    roles = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationSalesRepQuerySet.as_manager()

    class Meta:
        verbose_name = "sales rep"
        ordering = ["rep_number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "rep_number"], name="rep_number_unique"),
            models.UniqueConstraint(fields=["organization", "sales_rep"], name="rep_once_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_number} {self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        return self.sales_rep.user.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
