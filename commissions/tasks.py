"""Celery tasks: they take ids, call a service, and are safe to run twice."""
import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import APIException

from commissions.models import CommissionStatement
from commissions.statements.services import previous_month, statement_fill, statement_mark_failed, statement_start
from nymble.models import Organization
from orders.models import Payment
from salesreps.models import OrganizationSalesRep


@shared_task(acks_late=True, autoretry_for=(Exception,), dont_autoretry_for=(APIException,), retry_backoff=True,
             max_retries=3)
def generate_statement(statement_id: str, actor: str) -> str:
    """Fills a statement started by statement_start. A refusal (the plan was deactivated meanwhile)
    marks it Failed for good; an unexpected error marks it Failed and is retried."""
    try:
        statement = statement_fill(CommissionStatement.objects.get(pk=statement_id), actor=actor)
    except APIException as exc:
        statement_mark_failed(statement_id, str(exc.detail), actor)
        return "failed"
    except Exception as exc:
        statement_mark_failed(statement_id, f"{type(exc).__name__}: {exc}", actor)
        raise
    return statement.status


def enqueue_generation(statement: CommissionStatement, actor: str) -> None:
    """After the statement row commits (eagerly, in-process, in the embedded default)."""
    transaction.on_commit(lambda: generate_statement.delay(str(statement.pk), actor))


@shared_task
def generate_monthly_statements(today: str | None = None, organization_id: str | None = None) -> int:
    """For the organization (each organization's beat task names its own; without one, every
    organization), every active rep with an active plan gets a Draft statement for the previous
    calendar month (in the organization's time zone), in the organization's currency and in any other
    currency it was paid in. A rerun finds them made and makes nothing. `today` (YYYY-MM-DD) replays
    the run of another day."""
    started = 0
    organizations = Organization.objects.all()
    if organization_id:
        organizations = organizations.filter(pk=organization_id)
    for organization in organizations:
        day = datetime.date.fromisoformat(today) if today else timezone.localdate(timezone=organization.zone)
        period_start, period_end = previous_month(day)
        reps = OrganizationSalesRep.objects.filter(organization=organization, active=True,
                                                   commission_plans__active=True).distinct()
        for rep in reps:
            paid_in = Payment.objects.filter(invoice__order__sales_credits__sales_rep=rep,
                                             paid_on__range=(period_start, period_end))
            currencies = {organization.currency_code} | set(
                paid_in.values_list("invoice__currency_code", flat=True).distinct())
            for currency in sorted(currencies):
                try:
                    # Catch-up always: a late credit memo or a plan activated late is paid (or clawed
                    # back) on the next run instead of lost with a closed month.
                    statement = statement_start(rep=rep, period_start=period_start, period_end=period_end,
                                                currency_code=currency, include_earlier=True, actor="schedule")
                except APIException:
                    continue  # made already (a rerun), or the plan went away
                enqueue_generation(statement, "schedule")
                started += 1
    return started
