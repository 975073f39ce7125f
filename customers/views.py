"""Customers: thin viewsets over customers.services; scope comes from Customer.objects.visible_to."""
import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers import services
from customers.models import Contact, Customer
from customers.selectors import customer_search
from customers.serializers import (
    CUSTOMER_LIST_PREFETCH,
    CUSTOMER_LIST_RELATED,
    CustomerSerializer,
    PortalLoginSerializer,
    customer_for_output,
    customers_as_json,
)
from nymble.api.filters import BooleanParam
from nymble.api.json import json_in_database
from nymble.api.permissions import ADMIN, ADMIN_AND_REP, EVERY_ROLE
from nymble.api.views import ScopedViewSet


class CustomerFilter(django_filters.FilterSet):
    active = BooleanParam(field_name="active")
    pricing = django_filters.CharFilter(field_name="price_tier__code")
    repNumber = django_filters.CharFilter(field_name="sales_rep__rep_number")

    class Meta:
        model = Customer
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List customers", description="An admin sees the organization's customers, a rep "
                       "those assigned to it, a portal user its own account. `search` matches company name, customer "
                       "number, company email and contact names and emails."),
    retrieve=extend_schema(summary="Get a customer", description="With its addresses and contacts."),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Customer
    serializer_class = CustomerSerializer
    lookup_field = lookup_url_kwarg = "customer_number"
    filterset_class = CustomerFilter
    sort_fields = {"Name": "company_name", "CustomerNumber": "customer_number", "CreatedAt": "created_at"}
    default_sort = "Name"
    action_roles = {
        "list": EVERY_ROLE,
        "retrieve": EVERY_ROLE,
        "create": ADMIN_AND_REP,
        "partial_update": EVERY_ROLE,
        "upsert": ADMIN,
        "activate": ADMIN,
        "deactivate": ADMIN,
        "portal_login": ADMIN,
        "portal_login_revoke": ADMIN,
    }

    def get_queryset(self):
        return super().get_queryset().select_related(*CUSTOMER_LIST_RELATED).prefetch_related(*CUSTOMER_LIST_PREFETCH)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.principal is not None:
            context["organization_id"] = self.principal.organization_id
        return context

    def list(self, request, *args, **kwargs):
        if not json_in_database():
            return super().list(request, *args, **kwargs)
        ids = self.filter_queryset(self.get_queryset()).prefetch_related(None).values_list("pk", flat=True)
        return self.get_paginated_response(customers_as_json(self.paginate_queryset(ids)))

    @staticmethod
    def search_queryset(queryset, term):
        return customer_search(queryset, term)

    def _respond(self, customer, code=status.HTTP_200_OK):
        return Response(self.get_serializer(customer_for_output(customer)).data, status=code)

    def create(self, request):
        """Create a customer

        Admins and reps (a rep's customer is assigned to itself). The seed's example is accepted as it
        is; a `CustomerNumber` already taken is a 409.
        """
        data = self.validated_input()
        customer = services.customer_create(organization=self.organization, actor=self.principal, **data)
        return self._respond(customer, status.HTTP_201_CREATED)

    @extend_schema(responses={200: CustomerSerializer, 201: CustomerSerializer})
    def upsert(self, request):
        """Create or replace a customer by its CustomerNumber (ERP sync)

        Admins only. 201 when it creates, 200 when it replaces; addresses and contacts in the body replace
        the stored ones.
        """
        data = self.validated_input()
        customer, created = services.customer_upsert(organization=self.organization, actor=self.principal, **data)
        return self._respond(customer, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, customer_number):
        """Update a customer

        A rep may not change `RepNumber`, `Pricing`, `Terms` or `Active`; a portal user edits only its own
        contacts and addresses. Addresses or contacts given replace the stored ones.
        """
        customer = self.get_object()
        data = self.validated_input(customer, partial=True)
        return self._respond(services.customer_update(customer=customer, actor=self.principal, **data))

    @extend_schema(request=None)
    def activate(self, request, customer_number):
        """Activate a customer

        Admins only. Old tokens stay revoked: its portal users log in again.
        """
        return self._respond(services.customer_set_active(customer=self.get_object(), active=True))

    @extend_schema(request=None)
    def deactivate(self, request, customer_number):
        """Deactivate a customer

        Admins only. Nothing is deleted; every token of its portal users fails from the next request on,
        and it cannot order.
        """
        return self._respond(services.customer_set_active(customer=self.get_object(), active=False))

    def _contact(self, contact_id):
        try:
            return self.get_object().contacts.get(pk=contact_id)
        except (Contact.DoesNotExist, DjangoValidationError):
            raise NotFound() from None

    @extend_schema(request=PortalLoginSerializer, responses={201: CustomerSerializer})
    def portal_login(self, request, customer_number, contact_id):
        """Give a contact a portal login

        Admins only. The login is the contact's `Email`; an email that already logs into another
        organization is invited by mail instead of given a password.
        """
        contact = self._contact(contact_id)
        serializer = PortalLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.portal_login_create(contact=contact, password=serializer.validated_data.get("Password"))
        return self._respond(contact.customer, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def portal_login_revoke(self, request, customer_number, contact_id):
        """Revoke a contact's portal login

        Admins only. The contact keeps its place on the customer; its login's tokens fail from the next
        request on.
        """
        services.portal_login_revoke(contact=self._contact(contact_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

