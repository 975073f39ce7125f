"""Base viewsets: every queryset starts from the model's `visible_to(user)`."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets
from rest_framework.exceptions import NotFound

from nymble.scoping import principal_of


class ScopedViewSetMixin:
    """`model` names the resource; its manager's `visible_to` decides what the caller sees."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.model.objects.none()
        return self.model.objects.visible_to(self.request.user)

    @property
    def principal(self):
        return principal_of(self.request.user)


class ScopedViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    lookup_value_regex = "[^/]+"

    def get_object(self):
        try:
            return super().get_object()
        except (DjangoValidationError, ValueError):  # a malformed id names nothing
            raise NotFound() from None


class OrganizationNestedMixin:
    """Routes under /api/organizations/{organizationId}/: another organization's id is a 404."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if getattr(self, "swagger_fake_view", False):
            return
        principal = principal_of(request.user)
        if principal is None or str(principal.organization_id) != str(kwargs.get("organization_id")):
            raise NotFound()
