"""Commission statements through the API (§4 "Commission statements", §7): admins generate and move
them through their workflow, a rep reads and exports its own, portal users find nothing (404).

Every write is a call to commissions.statements.services; generation is started here and filled by the
generate_statement task (in-process when Celery runs eagerly, the embedded default).
"""
import logging
import uuid

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from commissions.plans import services as plans

from commissions.statements import services as statements
from commissions.statements.exports import payouts_csv_response, statement_csv_response
from commissions.models import CommissionStatement, StatementEntry, StatementLine, StatementStatus
from orders.models import Order
from orders.serializers import OrderSerializer, SalesCreditsSerializer, order_for_output, sales_credits_input
from commissions.statements.serializers import (
    AdjustmentRequestSerializer,
    BulkMarkPaidSerializer,
    DisputeRequestSerializer,
    GenerationStartedSerializer,
    MarkPaidSerializer,
    NoteSerializer,
    ResolveRequestSerializer,
    StatementGenerateSerializer,
    StatementHeaderSerializer,
    StatementSerializer,
)
from commissions.tasks import enqueue_generation
from commissions.plans.views import HiddenFromPortalMixin
from nymble.api.filters import SearchFilter, SortFilter
from nymble.api.json import DecimalJSONRenderer
from nymble.api.pagination import query_param
from nymble.api.permissions import ADMIN, ADMIN_AND_REP
from nymble.api.views import ScopedViewSet

logger = logging.getLogger(__name__)

STATEMENT_PREFETCH = (
    Prefetch("entries", queryset=StatementEntry.objects.order_by("invoice_number", "pk")),
    Prefetch("entries__lines", queryset=StatementLine.objects.select_related("payment").order_by("pk")),
    "adjustments",
    "disputes",
    "events",
)


# The body each write reads (`validated_input`); what they answer is the full statement.
INPUT_SERIALIZERS = {
    "create": StatementGenerateSerializer,
    "recalculate": NoteSerializer,
    "approve": NoteSerializer,
    "mark_paid": MarkPaidSerializer,
    "void": NoteSerializer,
    "adjust": AdjustmentRequestSerializer,
    "dispute": DisputeRequestSerializer,
    "resolve": ResolveRequestSerializer,
    "mark_paid_many": BulkMarkPaidSerializer,
}


class StatementFilter(django_filters.FilterSet):
    """`periodStart`/`periodEnd` select the statements whose period overlaps [periodStart, periodEnd]
    (either bound may be left out): `?periodStart=2026-03-01&periodEnd=2026-03-31` finds every
    statement that covers a day of March."""

    salesRepId = django_filters.UUIDFilter(field_name="sales_rep__sales_rep_id")
    repNumber = django_filters.CharFilter(field_name="sales_rep__rep_number")
    status = django_filters.ChoiceFilter(field_name="status", choices=StatementStatus.choices)
    periodStart = django_filters.DateFilter(field_name="period_end", lookup_expr="gte",
                                            label="Statements whose period ends on or after this day.")
    periodEnd = django_filters.DateFilter(field_name="period_start", lookup_expr="lte",
                                          label="Statements whose period starts on or before this day.")
    currencyCode = django_filters.CharFilter(field_name="currency_code", lookup_expr="iexact")

    class Meta:
        model = CommissionStatement
        fields = []


class NewestFirstSortFilter(SortFilter):
    """As SortFilter, except that a list asked for no order shows the latest periods first."""

    def filter_queryset(self, request, queryset, view):
        if query_param(request, "sortOn") is None and query_param(request, "sortDirection") is None:
            return queryset.order_by("-period_start", "sales_rep__rep_number", "-pk")
        return super().filter_queryset(request, queryset, view)


class CSVRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through negotiation; the export streams its own response, and an
    error (a problem document) is still written as JSON."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return DecimalJSONRenderer().render(data, renderer_context=renderer_context)


class CommissionStatementViewSet(HiddenFromPortalMixin, mixins.ListModelMixin, ScopedViewSet):
    """Commission statements: admins generate them and move them through Draft → Approved → Paid (or
    Void); a rep reads and exports its own; portal users find none (404)."""

    model = CommissionStatement
    serializer_class = StatementSerializer
    lookup_url_kwarg = "statement_id"
    filterset_class = StatementFilter
    filter_backends = [DjangoFilterBackend, SearchFilter, NewestFirstSortFilter]
    search_fields = ["sales_rep__rep_number", "sales_rep__first_name", "sales_rep__last_name"]
    sort_fields = {"PeriodStart": "period_start", "RepNumber": "sales_rep__rep_number", "CreatedAt": "created_at",
                   "Total": "total"}
    default_sort = "PeriodStart"
    # Generation and every transition: admins (the default); reading and exporting: a rep its own too.
    action_roles = {"list": ADMIN_AND_REP, "retrieve": ADMIN_AND_REP, "export": ADMIN_AND_REP,
                    "dispute": ADMIN_AND_REP}

    def get_queryset(self):
        # Actions and the export load the header only; the full statement is fetched to answer.
        queryset = super().get_queryset().select_related("sales_rep", "organization")
        return queryset.prefetch_related(*STATEMENT_PREFETCH) if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        if self.action in INPUT_SERIALIZERS:
            return INPUT_SERIALIZERS[self.action]
        return StatementHeaderSerializer if self.action == "list" else StatementSerializer

    def get_renderers(self):
        renderers = super().get_renderers()
        return [*renderers, CSVRenderer()] if self.action in ("export", "payouts") else renderers

    def _full(self, statement_id) -> CommissionStatement:
        return self.get_queryset().prefetch_related(*STATEMENT_PREFETCH).get(pk=statement_id)

    def _respond(self, statement, code=status.HTTP_200_OK) -> Response:
        return Response(StatementSerializer(self._full(statement.pk)).data, status=code)

    @property
    def actor(self) -> str:
        return str(self.request.user)

    @extend_schema(
        summary="List statements (headers, without entries)",
        responses=StatementHeaderSerializer(many=True),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A statement with its entries, lines and events")
    def retrieve(self, request, statement_id):
        return Response(StatementSerializer(self.get_object()).data)

    @extend_schema(
        summary="Generate a Draft statement for a rep and period",
        request=StatementGenerateSerializer,
        responses={
            201: OpenApiResponse(StatementSerializer, description="Generated (Draft), or Failed with its Failure."),
            202: OpenApiResponse(GenerationStartedSerializer, description="Generating in the background."),
        },
    )
    def create(self, request):
        data = self.validated_input()
        rep = plans.sales_rep_by_global_id(self.organization, data["SalesRepId"])
        statement = statements.statement_start(rep=rep, period_start=data["PeriodStart"],
                                               period_end=data["PeriodEnd"], currency_code=data.get("CurrencyCode"),
                                               include_earlier=data.get("IncludeEarlier", False))
        try:
            enqueue_generation(statement, actor=self.actor)
        except Exception as exc:
            # Run eagerly, the task marks the statement Failed before it re-raises; a broker that
            # cannot take the task leaves it Generating, so it is marked Failed here. Either way the
            # answer is the Failed statement, which an admin may void and generate again.
            logger.exception("Generating statement %s failed", statement.pk)
            statements.statement_mark_failed(statement.pk, f"Could not run the generation: {type(exc).__name__}: "
                                                           f"{exc}", self.actor)
        if self._status_of(statement) == StatementStatus.GENERATING:
            body = {"CommissionStatementId": str(statement.pk), "Status": StatementStatus.GENERATING}
            return Response(body, status=status.HTTP_202_ACCEPTED)
        return self._respond(statement, status.HTTP_201_CREATED)

    @staticmethod
    def _status_of(statement) -> str:
        return CommissionStatement.objects.filter(pk=statement.pk).values_list("status", flat=True).get()

    @extend_schema(summary="Re-rate a Draft statement from the current plan and eligible lines",
                   request=NoteSerializer, responses=StatementSerializer)
    def recalculate(self, request, statement_id):
        statement = self.get_object()
        note = self.validated_input().get("Note", "")
        return self._respond(statements.statement_recalculate(statement=statement, actor=self.actor, note=note))

    @extend_schema(summary="Approve a Draft statement", request=NoteSerializer, responses=StatementSerializer)
    def approve(self, request, statement_id):
        statement = self.get_object()
        note = self.validated_input().get("Note", "")
        return self._respond(statements.statement_approve(statement=statement, actor=self.actor, note=note))

    @extend_schema(summary="Mark an Approved statement paid", request=MarkPaidSerializer,
                   responses=StatementSerializer)
    def mark_paid(self, request, statement_id):
        statement = self.get_object()
        data = self.validated_input()
        return self._respond(statements.statement_mark_paid(
            statement=statement, actor=self.actor, paid_at=data.get("PaidAt"), reference=data.get("Reference", ""),
            note=data.get("Note", "")))

    @extend_schema(summary="Void a Draft, Approved or Failed statement (its lines become eligible again)",
                   request=NoteSerializer, responses=StatementSerializer)
    def void(self, request, statement_id):
        statement = self.get_object()
        note = self.validated_input().get("Note", "")
        return self._respond(statements.statement_void(statement=statement, actor=self.actor, note=note))

    @extend_schema(
        summary="The statement's lines as CSV",
        operation_id="commissions_statements_export_csv",
        description="One row per line: InvoiceNumber, CustomerNumber, Sku, ProductName, Quantity, LineAmount, "
                    "Rate, RateSource, Commission. No total row: the Commission column sums to the statement's "
                    "Total. Text cells that a spreadsheet would read as a formula are prefixed with an apostrophe.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def export(self, request, statement_id):
        return statement_csv_response(self.get_object())

    @extend_schema(summary="Add a signed adjustment to a Draft (admins)", request=AdjustmentRequestSerializer,
                   responses={201: StatementSerializer})
    def adjust(self, request, statement_id):
        statement = self.get_object()
        data = self.validated_input()
        statements.statement_adjust(statement=statement, amount=data["Amount"], reason=data["Reason"],
                                    invoice_number=data.get("InvoiceNumber", ""), actor=self.actor)
        return self._respond(statement, status.HTTP_201_CREATED)

    @extend_schema(summary="Remove an adjustment from a Draft (admins)", request=None,
                   responses={200: StatementSerializer})
    def remove_adjustment(self, request, statement_id, adjustment_id):
        statement = self.get_object()
        statements.statement_adjustment_remove(statement=statement, adjustment_id=_uuid_or_404(adjustment_id),
                                               actor=self.actor)
        return self._respond(statement)

    @extend_schema(summary="Raise a dispute on a Draft or Approved statement (its rep, or an admin)",
                   request=DisputeRequestSerializer, responses={201: StatementSerializer})
    def dispute(self, request, statement_id):
        statement = self.get_object()
        data = self.validated_input()
        statements.statement_dispute_raise(statement=statement, note=data["Note"], actor=self.actor,
                                           invoice_number=data.get("InvoiceNumber", ""), sku=data.get("Sku", ""))
        return self._respond(statement, status.HTTP_201_CREATED)

    @extend_schema(summary="Resolve a dispute (admins)", request=ResolveRequestSerializer,
                   responses={200: StatementSerializer})
    def resolve(self, request, statement_id, dispute_id):
        statement = self.get_object()
        data = self.validated_input()
        statements.statement_dispute_resolve(statement=statement, dispute_id=_uuid_or_404(dispute_id),
                                             resolution=data["Resolution"], actor=self.actor)
        return self._respond(statement)

    @extend_schema(summary="Mark several Approved statements paid at once, all or none (admins)",
                   operation_id="commissions_statements_mark_paid_many", request=BulkMarkPaidSerializer, responses={200: StatementHeaderSerializer(many=True)})
    def mark_paid_many(self, request):
        data = self.validated_input()
        paid = statements.statements_mark_paid(
            statement_ids=data["CommissionStatementIds"], organization_id=self.principal.organization_id,
            actor=self.actor, paid_at=data.get("PaidAt"), reference=data.get("Reference", ""))
        return Response(StatementHeaderSerializer(
            CommissionStatement.objects.filter(pk__in=[s.pk for s in paid]).select_related("sales_rep"),
            many=True).data)

    @extend_schema(
        summary="Statements as CSV for a payroll import (admins)",
        operation_id="commissions_payouts_csv",
        parameters=[OpenApiParameter("periodStart", OpenApiTypes.DATE), OpenApiParameter("periodEnd", OpenApiTypes.DATE),
                    OpenApiParameter("status", OpenApiTypes.STR, enum=[*StatementStatus.values])],
        description="One row per statement overlapping the period: RepNumber, FirstName, LastName, Email, "
                    "PeriodStart, PeriodEnd, CurrencyCode, Status, LinesTotal, AdjustmentsTotal, Total, "
                    "CommissionStatementId.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def payouts(self, request):
        return payouts_csv_response(self.filter_queryset(self.get_queryset()))


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


class OrderSalesCreditsViewSet(ScopedViewSet):
    """`PUT /api/orders/{orderId}/sales-credits`: a commissions rule (credits are fixed once commissioned),
    so it lives here rather than in orders."""

    model = Order
    serializer_class = SalesCreditsSerializer
    lookup_url_kwarg = "order_id"
    action_roles = {"update": ADMIN}

    @extend_schema(
        summary="Replace an order's sales credits",
        description="Admins only. The shares add up to exactly 1, each rep once, every rep active. 409 once a "
                    "line of the order's invoice is on a statement that is not Void.",
        request=SalesCreditsSerializer, responses={200: OrderSerializer},
    )
    def update(self, request, order_id):
        order = self.get_object()
        data = self.validated_input()
        order = statements.sales_credits_replace(order=order, credits=sales_credits_input(data["SalesCredits"]))
        return Response(OrderSerializer(order_for_output(order)).data)
