"""Base viewsets: every queryset starts from the model's `visible_to(user)`."""
from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets
from rest_framework.exceptions import NotFound

from nymble.models import Organization
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

    @cached_property
    def organization(self) -> Organization:
        """The caller's organization (writes need the object, scoping only its id): the one
        authentication loaded with the caller's membership or API client, else read."""
        user = self.request.user
        loaded_with = getattr(user, "membership", None) or getattr(user, "client", None)
        if loaded_with is not None and loaded_with.organization_id == self.principal.organization_id:
            return loaded_with.organization
        return Organization.objects.get(pk=self.principal.organization_id)

    def validated_input(self, instance=None, partial: bool = False) -> dict:
        """The request body through the view's serializer; a 400 problem document if it is invalid."""
        serializer = self.get_serializer(instance, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


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
