"""Commission plans (and, with their issue, statements): admins manage, a rep reads its own,
portal users find nothing here (404)."""
import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from commissions.plans import services as plans
from commissions.models import CommissionPlan
from commissions.plans.serializers import CommissionPlanSerializer, plan_input
from nymble.api.filters import BooleanParam
from nymble.api.permissions import ADMIN_AND_REP
from nymble.api.views import ScopedViewSet

PLAN_PREFETCH = ("rules", "accelerators", "overrides__customer", "overrides__rules")


class HiddenFromPortalMixin:
    """Commissions do not exist for portal users: every route is a 404, lists included (§5)."""

    def check_permissions(self, request):
        if self.principal is not None and self.principal.is_customer:
            raise NotFound()
        super().check_permissions(request)


class PlanFilter(django_filters.FilterSet):
    salesRepId = django_filters.UUIDFilter(field_name="sales_rep__sales_rep_id")
    repNumber = django_filters.CharFilter(field_name="sales_rep__rep_number")
    active = BooleanParam(field_name="active")

    class Meta:
        model = CommissionPlan
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List commission plans",
                       description="Admins see the organization's plans, a rep its own."),
    retrieve=extend_schema(summary="Get a commission plan",
                           description="With its rules, customer overrides and accelerators."),
)
class CommissionPlanViewSet(HiddenFromPortalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = CommissionPlan
    serializer_class = CommissionPlanSerializer
    lookup_url_kwarg = "plan_id"
    filterset_class = PlanFilter
    search_fields = ["name", "sales_rep__rep_number"]
    sort_fields = {"Name": "name", "RepNumber": "sales_rep__rep_number", "CreatedAt": "created_at"}
    default_sort = "RepNumber"
    action_roles = {"list": ADMIN_AND_REP, "retrieve": ADMIN_AND_REP}  # writes: admins (the default)

    def get_queryset(self):
        return super().get_queryset().select_related("sales_rep").prefetch_related(*PLAN_PREFETCH)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.principal is not None and not getattr(self, "swagger_fake_view", False):
            context["time_zone"] = self.organization.zone
        return context

    def _respond(self, plan, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request):
        """Create a commission plan for a rep

        Admins only. Rule `Priority` values are unique within the plan or an override; a rule pays a `Rate`
        or an `AmountPerUnit`, never both. Created active, it deactivates the rep's other plan.
        """
        data = self.validated_input()
        rep = plans.sales_rep_by_global_id(self.organization, data["sales_rep"]["sales_rep_id"])
        plan = plans.plan_create(organization=self.organization, sales_rep=rep, **plan_input(data))
        return self._respond(plan, status.HTTP_201_CREATED)

    def _update(self, partial: bool):
        plan = self.get_object()
        data = self.validated_input(partial=partial)
        rep = None
        if "sales_rep" in data:
            rep = plans.sales_rep_by_global_id(self.organization, data["sales_rep"]["sales_rep_id"])
        fields = plan_input(data)
        active = fields.pop("active", None)
        plan = plans.plan_update(plan=plan, replace=not partial, sales_rep=rep, **fields)
        if active is not None and active != plan.active:
            plan = plans.plan_set_active(plan=plan, active=active)
        return self._respond(plan)

    def update(self, request, plan_id):
        """Replace a commission plan

        Admins only; what the body leaves out is reset. The plan stays with its rep.
        """
        return self._update(partial=False)

    def partial_update(self, request, plan_id):
        """Update part of a commission plan

        Admins only; what the body leaves out is kept.
        """
        return self._update(partial=True)

    @extend_schema(request=None)
    def activate(self, request, plan_id):
        """Activate a commission plan

        Admins only; the rep's other active plan is deactivated (one active plan per rep).
        """
        return self._respond(plans.plan_set_active(plan=self.get_object(), active=True))

    @extend_schema(request=None)
    def deactivate(self, request, plan_id):
        """Deactivate a commission plan

        Admins only. Statements already generated are not affected.
        """
        return self._respond(plans.plan_set_active(plan=self.get_object(), active=False))
