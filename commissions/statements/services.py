"""Commission statements: starting and filling them (§6, in `generation`), and the workflow (§7).

Filling runs in one transaction: a worker killed half-way leaves the statement as it was
(Generating, no lines) and a retry produces the same statement. Generations for one rep take
turns on the rep's row lock; the partial unique indexes on live statement lines are the guarantee
that no earning is ever on two statements of one rep that are not void.
"""
from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound

from audit.services import audit_record, audit_snapshot
from commissions.engine import attainment
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce

from commissions.models import (
    CommissionStatement,
    DisputeStatus,
    EventType,
    StatementAdjustment,
    StatementDispute,
    StatementEvent,
    StatementLine,
    StatementStatus,
)
from commissions.plans.services import active_plan, plan_compiled, plan_schedule
from commissions.statements import generation
from commissions.statements.serializers import StatementHeaderSerializer
from nymble.api.problems import Conflict
from nymble.emails import email_send_after_commit, public_link
from nymble.models import Membership, Role
from orders.models import Invoice, Order
from orders.services import sales_credits_checked, sales_credits_write
from salesreps.models import OrganizationSalesRep
from webhooks.services import webhook_emit


# ---------------------------------------------------------------- events


def _event(statement: CommissionStatement, kind: str, actor: str, note: str = "") -> None:
    StatementEvent.objects.create(statement=statement, type=kind, actor=actor, note=note)


def _emit(statement: CommissionStatement, event_type: str) -> None:
    """The statement as its header (§12: without its lines, which may be a million)."""
    webhook_emit(organization_id=statement.organization_id, event_type=event_type,
                 data=lambda: StatementHeaderSerializer(CommissionStatement.objects.select_related("sales_rep").get(
                     pk=statement.pk)).data)


# ---------------------------------------------------------------- starting a statement


@transaction.atomic
def statement_start(*, rep: OrganizationSalesRep, period_start: datetime.date, period_end: datetime.date,
                    currency_code: str | None = None, include_earlier: bool = False,
                    actor: str | None = None) -> CommissionStatement:
    """The statement row, in status Generating, for `statement_fill` to complete (in-request or
    in a worker). 409 when the rep has no active plan, or has a statement for that period and
    currency already that is not void."""
    if period_end < period_start:
        raise serializers.ValidationError({"PeriodEnd": ["Must not be before PeriodStart."]})
    plan = active_plan(rep)
    if plan is None:
        raise Conflict(f"Sales rep {rep.rep_number} has no active commission plan.")
    currency_code = currency_code or rep.organization.currency_code
    try:
        with transaction.atomic():
            statement = CommissionStatement.objects.create(
                organization_id=rep.organization_id, sales_rep=rep, plan=plan, period_start=period_start,
                period_end=period_end, currency_code=currency_code, include_earlier=include_earlier,
                status=StatementStatus.GENERATING,
            )
            audit_record(statement, "generation_started", actor=actor)
            return statement
    except IntegrityError:
        raise Conflict(
            f"{rep.rep_number} has a statement for {period_start}–{period_end} in {currency_code} already; "
            "recalculate or void it.",
            errors={"PeriodStart": ["A statement for this period exists."]},
        ) from None


def statement_fill(statement: CommissionStatement, *, actor: str, recalculating: bool = False,
                   note: str = "") -> CommissionStatement:
    """Rates the eligible lines onto the statement and makes it a Draft, in one transaction."""
    with transaction.atomic():
        # of=self: locking the joined rep row FOR UPDATE too would make new credits naming it wait.
        statement = CommissionStatement.objects.select_for_update(of=("self",)).select_related("sales_rep").get(
            pk=statement.pk)
        # A generation also retries a failed one; a recalculation needs a Draft.
        expected = (StatementStatus.DRAFT,) if recalculating else (StatementStatus.GENERATING, StatementStatus.FAILED)
        if statement.status not in expected:
            if not recalculating and statement.status == StatementStatus.DRAFT:
                return statement  # a repeated task: already done
            raise Conflict(f"A {statement.status} statement cannot be {'recalculated' if recalculating else 'generated'}.")
        # Generations for one rep take turns, so each sees the lines the other committed. No-key: rows that
        # merely point at the rep (new sales credits, statements) must not wait for it, or replacing an
        # order's credits while this rep's generation waits for that order's invoice would deadlock.
        OrganizationSalesRep.objects.select_for_update(no_key=True).get(pk=statement.sales_rep_id)
        before = audit_snapshot(statement)
        plan = active_plan(statement.sales_rep)
        if plan is None:
            raise Conflict(f"Sales rep {statement.sales_rep.rep_number} has no active commission plan.")
        if recalculating:
            statement.lines.all().delete()
            statement.entries.all().delete()
        lines = generation.StatementLines(statement, plan_schedule(plan))
        generation.write_sales_lines(statement, plan, plan_compiled(plan), lines)
        generation.apply_accelerators(statement, lines)
        generation.write_clawbacks(statement, plan, lines)  # last: they may claw back a line just taken
        statement.lines_total, statement.sales_total = generation.statement_totals(statement, lines)
        statement.total = statement.lines_total + statement.adjustments_total  # recalculation keeps adjustments
        statement.quota = plan.quota
        statement.attainment = attainment(statement.sales_total, plan.quota)
        statement.plan = plan
        statement.status = StatementStatus.DRAFT
        statement.failure = ""
        statement.updated_at = timezone.now()
        statement.save(update_fields=["lines_total", "sales_total", "total", "quota", "attainment", "plan", "status",
                                      "failure", "updated_at"])
        lines = statement.lines.count()
        summary = f"{lines} line(s), total {statement.total} {statement.currency_code}, plan '{plan.name}'."
        _event(statement, EventType.RECALCULATED if recalculating else EventType.CREATED, actor,
               f"{note} ({summary})" if note else summary)
        audit_record(statement, "recalculated" if recalculating else "generated", before=before, actor=actor,
                     unchanged_too=True)
        _emit(statement, "statement.generated")  # a recalculation too: its lines and totals are new
    return statement


def statement_mark_failed(statement_id, reason: str, actor: str = "system") -> None:
    """Shows a failed generation on the statement (the lines were rolled back with it)."""
    with transaction.atomic():
        statement = CommissionStatement.objects.select_for_update().filter(pk=statement_id).first()
        if statement is None or statement.status != StatementStatus.GENERATING:
            return
        before = audit_snapshot(statement)
        statement.status = StatementStatus.FAILED
        statement.failure = reason[:2000]
        statement.updated_at = timezone.now()
        statement.save(update_fields=["status", "failure", "updated_at"])
        _event(statement, EventType.FAILED, actor, reason[:2000])
        audit_record(statement, "generation_failed", before=before, actor=actor)


def statement_generate(*, rep: OrganizationSalesRep, period_start: datetime.date, period_end: datetime.date,
                       currency_code: str | None = None, include_earlier: bool = False,
                       actor: str) -> CommissionStatement:
    """Start and fill in-process (the admin's generate page, the demo seed, tests). A fill that fails
    leaves the statement Failed, with the reason, rather than stuck in Generating."""
    statement = statement_start(rep=rep, period_start=period_start, period_end=period_end, currency_code=currency_code,
                                include_earlier=include_earlier)
    try:
        return statement_fill(statement, actor=actor)
    except APIException as exc:
        statement_mark_failed(statement.pk, str(exc.detail), actor)
        raise
    except Exception as exc:
        statement_mark_failed(statement.pk, f"{type(exc).__name__}: {exc}", actor)
        raise


# ---------------------------------------------------------------- mail (§7)


def _mail_context(statement: CommissionStatement) -> dict:
    rep = statement.sales_rep
    return {"statement": statement, "rep": rep, "organization": rep.organization,
            "period": f"{statement.period_start} – {statement.period_end}"}


def _mail_rep(statement: CommissionStatement, template: str) -> None:
    """The rep hears when its statement is approved and when it is paid."""
    statement = CommissionStatement.objects.select_related("sales_rep__organization", "sales_rep__sales_rep__user").get(
        pk=statement.pk)
    email_send_after_commit(to=statement.sales_rep.email, template=template, context={
        **_mail_context(statement), "link": public_link(f"/api/commissions/statements/{statement.pk}")})


def _mail_admins_of_dispute(statement: CommissionStatement, dispute: StatementDispute) -> None:
    statement = CommissionStatement.objects.select_related("sales_rep__organization").get(pk=statement.pk)
    admins = Membership.objects.able_to_log_in().filter(organization_id=statement.organization_id, role=Role.ADMIN)
    context = {**_mail_context(statement), "dispute": dispute,
               "link": public_link(f"/admin/commissions/commissionstatement/{statement.pk}/change/")}
    for email in admins.values_list("user__email", flat=True).order_by("user__email"):
        email_send_after_commit(to=email, template="dispute_raised", context=context)


# ---------------------------------------------------------------- workflow


def _transition(statement, allowed: tuple[str, ...], to: str, verb: str):
    """The locked statement moved to `to` (not saved yet), and its audit snapshot from before."""
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status not in allowed:
        raise Conflict(f"A {statement.status} statement cannot be {verb}.")
    before = audit_snapshot(statement)
    statement.status = to
    statement.updated_at = timezone.now()
    return statement, before


@transaction.atomic
def statement_recalculate(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    """Draft only: re-rates from the current plan and picks up newly eligible lines."""
    return statement_fill(statement, actor=actor, recalculating=True, note=note)


def _refuse_open_disputes(statement: CommissionStatement, verb: str) -> None:
    open_ids = [str(pk) for pk in statement.disputes.filter(status=DisputeStatus.OPEN).values_list("pk", flat=True)]
    if open_ids:
        raise Conflict(f"The statement has open disputes ({', '.join(open_ids)}): resolve them before it is {verb}.",
                       errors={"Disputes": open_ids})


@transaction.atomic
def statement_approve(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    statement, before = _transition(statement, (StatementStatus.DRAFT,), StatementStatus.APPROVED, "approved")
    _refuse_open_disputes(statement, "approved")
    statement.save(update_fields=["status", "updated_at"])
    _event(statement, EventType.APPROVED, actor, note)
    audit_record(statement, "approved", before=before, actor=actor)
    _emit(statement, "statement.approved")
    _mail_rep(statement, "statement_approved")
    return statement


@transaction.atomic
def statement_mark_paid(*, statement: CommissionStatement, actor: str, paid_at: datetime.datetime | None = None,
                        reference: str = "", note: str = "") -> CommissionStatement:
    statement, before = _transition(statement, (StatementStatus.APPROVED,), StatementStatus.PAID, "marked paid")
    _refuse_open_disputes(statement, "paid")
    statement.paid_at = paid_at or timezone.now()
    statement.payment_reference = reference
    statement.save(update_fields=["status", "paid_at", "payment_reference", "updated_at"])
    _event(statement, EventType.PAID, actor, note or (f"Reference {reference}" if reference else ""))
    audit_record(statement, "paid", before=before, actor=actor)
    _emit(statement, "statement.paid")
    _mail_rep(statement, "statement_paid")
    return statement


@transaction.atomic
def statement_void(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    """Draft or Approved (or a failed generation, to free its period): its lines become eligible again."""
    statement, before = _transition(
        statement, (StatementStatus.DRAFT, StatementStatus.APPROVED, StatementStatus.FAILED), StatementStatus.VOID,
        "voided")
    statement.save(update_fields=["status", "updated_at"])
    statement.lines.update(live=False)
    _event(statement, EventType.VOIDED, actor, note)
    audit_record(statement, "voided", before=before, actor=actor)
    _emit(statement, "statement.voided")
    return statement


@transaction.atomic
def statements_mark_paid(*, statement_ids: list, organization_id, actor: str,
                         paid_at: datetime.datetime | None = None, reference: str = "") -> list[CommissionStatement]:
    """Pays several Approved statements at once, all or none: 409 naming every one that is not
    Approved (or has an open dispute), and then nothing is paid."""
    wanted = list(dict.fromkeys(statement_ids))
    found = {s.pk: s for s in CommissionStatement.objects.select_for_update().filter(
        organization_id=organization_id, pk__in=wanted).order_by("pk")}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise serializers.ValidationError({"CommissionStatementIds": [f"No statement {pk}." for pk in missing]})
    disputed = set(StatementDispute.objects.filter(statement_id__in=wanted, status=DisputeStatus.OPEN)
                   .values_list("statement_id", flat=True))
    refused = [str(pk) for pk in wanted if found[pk].status != StatementStatus.APPROVED or pk in disputed]
    if refused:
        raise Conflict(f"Only Approved statements without open disputes can be paid: {', '.join(refused)}.",
                       errors={"CommissionStatementIds": refused})
    paid_at = paid_at or timezone.now()
    return [statement_mark_paid(statement=found[pk], actor=actor, paid_at=paid_at, reference=reference)
            for pk in wanted]


# ---------------------------------------------------------------- adjustments and disputes


def _draft(statement: CommissionStatement, verb: str) -> CommissionStatement:
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != StatementStatus.DRAFT:
        raise Conflict(f"A {statement.status} statement cannot be {verb}: only a Draft.")
    return statement


def _retotal(statement: CommissionStatement) -> None:
    statement.adjustments_total = statement.adjustments.aggregate(
        total=Coalesce(Sum("amount"), Decimal("0.00")))["total"].quantize(Decimal("0.01"))
    statement.total = statement.lines_total + statement.adjustments_total
    statement.updated_at = timezone.now()
    statement.save(update_fields=["adjustments_total", "total", "updated_at"])


@transaction.atomic
def statement_adjust(*, statement: CommissionStatement, amount: Decimal, reason: str, actor: str,
                     invoice_number: str = "") -> StatementAdjustment:
    """A signed amount (a bonus, a correction, a deduction; not 0) added to a Draft with its reason,
    optionally naming the invoice it concerns."""
    statement = _draft(statement, "adjusted")
    before = audit_snapshot(statement, ("adjustments",))
    if not amount:
        raise serializers.ValidationError({"Amount": ["An adjustment is not 0."]})
    if not reason.strip():
        raise serializers.ValidationError({"Reason": ["Say why."]})
    invoice = None
    if invoice_number:
        invoice = Invoice.objects.filter(organization_id=statement.organization_id, invoice_number=invoice_number).first()
        if invoice is None:
            raise serializers.ValidationError({"InvoiceNumber": [f"No invoice '{invoice_number}' in this organization."]})
    adjustment = StatementAdjustment.objects.create(statement=statement, amount=amount, reason=reason, invoice=invoice,
                                                    invoice_number=invoice_number, actor=actor)
    _retotal(statement)
    _event(statement, EventType.ADJUSTED, actor, f"{amount:+} {statement.currency_code}: {reason}")
    audit_record(statement, "adjusted", before=before, actor=actor)
    return adjustment


@transaction.atomic
def statement_adjustment_remove(*, statement: CommissionStatement, adjustment_id, actor: str) -> None:
    statement = _draft(statement, "adjusted")
    before = audit_snapshot(statement, ("adjustments",))
    adjustment = statement.adjustments.filter(pk=adjustment_id).first()
    if adjustment is None:
        raise NotFound("No such adjustment on this statement.")
    adjustment.delete()
    _retotal(statement)
    _event(statement, EventType.ADJUSTED, actor,
           f"Removed {adjustment.amount:+} {statement.currency_code}: {adjustment.reason}")
    audit_record(statement, "adjustment_removed", before=before, actor=actor)


@transaction.atomic
def statement_dispute_raise(*, statement: CommissionStatement, note: str, actor: str, invoice_number: str = "",
                            sku: str = "") -> StatementDispute:
    """The statement's rep (or an admin) questions a Draft or Approved statement."""
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status not in (StatementStatus.DRAFT, StatementStatus.APPROVED):
        raise Conflict(f"A {statement.status} statement cannot be disputed.")
    before = audit_snapshot(statement, ("disputes",))
    if not note.strip():
        raise serializers.ValidationError({"Note": ["Say what is wrong."]})
    dispute = StatementDispute.objects.create(statement=statement, note=note, invoice_number=invoice_number, sku=sku,
                                              raised_by=actor)
    about = ", ".join(filter(None, [invoice_number, sku]))
    _event(statement, EventType.DISPUTED, actor, f"{note} ({about})" if about else note)
    audit_record(statement, "dispute_raised", before=before, actor=actor)
    _mail_admins_of_dispute(statement, dispute)
    return dispute


@transaction.atomic
def statement_dispute_resolve(*, statement: CommissionStatement, dispute_id, resolution: str,
                              actor: str) -> StatementDispute:
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    before = audit_snapshot(statement, ("disputes",))
    dispute = statement.disputes.select_for_update().filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound("No such dispute on this statement.")
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict("This dispute is resolved already.")
    if not resolution.strip():
        raise serializers.ValidationError({"Resolution": ["Say how it was resolved."]})
    dispute.status, dispute.resolution, dispute.resolved_by = DisputeStatus.RESOLVED, resolution, actor
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    _event(statement, EventType.DISPUTE_RESOLVED, actor, resolution)
    audit_record(statement, "dispute_resolved", before=before, actor=actor)
    return dispute


# ---------------------------------------------------------------- sales credits


@transaction.atomic
def sales_credits_replace(*, order: Order, credits: list[dict]) -> Order:
    """Replaces an order's `SalesCredits` (§4) while no line of its invoice is on a statement that
    is not void (409 after: what was paid was paid by the old shares). The invoice's row lock makes
    a generation reading these credits and this replacement take turns."""
    order = Order.objects.select_for_update(of=("self",)).select_related("organization").get(pk=order.pk)
    invoice = Invoice.objects.select_for_update().filter(order=order).first()
    if invoice is not None and StatementLine.objects.filter(live=True, invoice_line__invoice=invoice).exists():
        raise Conflict(f"Lines of {invoice.invoice_number} are on a commission statement: void it first to change "
                       "the credits.", errors={"SalesCredits": ["Commissioned already."]})
    before = audit_snapshot(order, ("sales_credits",))
    sales_credits_write(order=order, credits=sales_credits_checked(organization=order.organization, credits=credits))
    audit_record(order, "sales_credits_replaced", before=before)
    return order


# ---------------------------------------------------------------- the schedule


def previous_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end

