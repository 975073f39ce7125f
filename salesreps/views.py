"""Sales reps of an organization, and a rep's own organizations: thin viewsets over salesreps.services.

What a caller sees comes from `OrganizationSalesRep.objects.visible_to` (an admin: the organization's
reps; a rep: itself; a portal user: nothing); `action_roles` only says who may act on what it sees.
"""
import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from nymble.api.filters import BooleanParam
from nymble.api.permissions import ADMIN, ADMIN_AND_REP
from nymble.api.views import OrganizationNestedMixin, ScopedViewSet
from nymble.models import Organization, Role
from salesreps import services
from salesreps.models import OrganizationSalesRep
from salesreps.serializers import RepOrganizationSerializer, SalesRepSerializer

REP_ONLY = frozenset({Role.SALES_REP.value})


class SalesRepFilter(django_filters.FilterSet):
    active = BooleanParam(field_name="active")

    class Meta:
        model = OrganizationSalesRep
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List the organization's sales reps",
                       description="Admins see every rep; a rep's list holds itself alone."),
    retrieve=extend_schema(summary="Get a sales rep by its RepNumber",
                           description="Admins read any rep of the organization; a rep its own record."),
)
@extend_schema(tags=["salesreps"])
class SalesRepViewSet(OrganizationNestedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The reps of the caller's organization, addressed by `RepNumber`: admins manage them, a rep
    reads its own record."""

    model = OrganizationSalesRep
    serializer_class = SalesRepSerializer
    lookup_field = lookup_url_kwarg = "rep_number"
    filterset_class = SalesRepFilter
    search_fields = ["rep_number", "first_name", "last_name", "sales_rep__user__email"]
    sort_fields = {"RepNumber": "rep_number", "Name": "last_name", "CreatedAt": "created_at"}
    default_sort = "RepNumber"
    action_roles = {
        "list": ADMIN_AND_REP,  # a rep's list holds itself alone (the queryset's doing)
        "retrieve": ADMIN_AND_REP,
        "create": ADMIN,
        "partial_update": ADMIN,
        "activate": ADMIN,
        "deactivate": ADMIN,
    }

    def get_queryset(self):
        return super().get_queryset().select_related("sales_rep__user")

    def _respond(self, rep: OrganizationSalesRep, code=status.HTTP_200_OK) -> Response:
        rep = self.get_queryset().get(pk=rep.pk)  # fresh, with the login's email
        return Response(self.get_serializer(rep).data, status=code)

    def create(self, request, *args, **kwargs):
        """Create a sales rep

        Admins only. An `Email` that is already a rep of another organization links the same `SalesRepId`
        (the person is invited by mail); `Password` sets a new login's password.
        """
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = Organization.objects.get(pk=self.principal.organization_id)
        rep = services.sales_rep_create(organization=organization, **data.validated_data)
        return self._respond(rep, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        """Update a sales rep

        Admins only. `Password` may change only while the login belongs to this organization alone.
        """
        rep = self.get_object()
        data = self.get_serializer(rep, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rep = services.sales_rep_update(rep=rep, **data.validated_data)
        return self._respond(rep)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, *args, **kwargs):
        """Activate a sales rep

        Admins only. Old tokens stay revoked: the rep logs in again.
        """
        return self._respond(services.sales_rep_set_active(rep=self.get_object(), active=True))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, *args, **kwargs):
        """Deactivate a sales rep

        Admins only. Every token of the rep's login in this organization fails from its next request on.
        """
        return self._respond(services.sales_rep_set_active(rep=self.get_object(), active=False))


@extend_schema(tags=["salesreps"])
class RepOrganizationViewSet(mixins.ListModelMixin, ScopedViewSet):
    """`GET /api/salesreps/organizations`: every organization the calling rep's global identity
    (`SalesRepId`) belongs to, inactive memberships included (with `Active: false`).

    The one read that crosses organizations on purpose: it starts from the caller's own rep
    record and follows its identity, so it shows only the caller's own memberships.
    """

    model = OrganizationSalesRep
    serializer_class = RepOrganizationSerializer
    action_roles = {"list": REP_ONLY}
    sort_fields = {"Name": "organization__name", "OrgCode": "organization__org_code"}
    default_sort = "Name"

    @extend_schema(summary="List the calling rep's organizations",
                   description="Reps only: every organization its `SalesRepId` belongs to, inactive memberships "
                               "included (`Active: false`).")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrganizationSalesRep.objects.none()
        if self.principal is None or not self.principal.is_rep:
            return OrganizationSalesRep.objects.none()
        own = OrganizationSalesRep.objects.visible_to(self.request.user).values("sales_rep_id")
        return OrganizationSalesRep.objects.filter(sales_rep_id__in=own).select_related("organization")
