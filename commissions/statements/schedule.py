"""Each organization's monthly statement run (§7), kept in django-celery-beat rather than in a
scheduler of our own: one PeriodicTask per organization, whose crontab follows the organization's
StatementSchedule (on or off, day of month, hour) in the organization's time zone."""
from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from audit.services import audit_record, audit_snapshot
from commissions.models import StatementSchedule
from nymble.models import Organization

TASK = "commissions.tasks.generate_monthly_statements"


def task_name(organization: Organization) -> str:
    return f"Monthly commission statements: {organization.org_code}"


def _sync(schedule: StatementSchedule) -> None:
    organization = schedule.organization
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour=str(schedule.hour), day_of_month=str(schedule.day_of_month), month_of_year="*",
        day_of_week="*", timezone=organization.time_zone,
    )
    task = schedule.periodic_task or PeriodicTask.objects.filter(name=task_name(organization)).first() or PeriodicTask(
        name=task_name(organization))
    task.task, task.crontab, task.enabled = TASK, crontab, schedule.enabled
    task.kwargs = json.dumps({"organization_id": str(organization.pk)})
    task.description = "Last month's Draft statements (with catch-up) for every active rep with an active plan."
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])


@transaction.atomic
def schedule_ensure(*, organization: Organization) -> StatementSchedule:
    """The organization's schedule, made (on, the 1st at 03:00 local) if it has none."""
    schedule, created = StatementSchedule.objects.get_or_create(organization=organization)
    if created or schedule.periodic_task_id is None:
        _sync(schedule)
    if created:
        audit_record(schedule, "created")
    return schedule


@transaction.atomic
def schedule_update(*, schedule: StatementSchedule, enabled: bool, day_of_month: int, hour: int) -> StatementSchedule:
    schedule = StatementSchedule.objects.select_for_update(of=("self",)).select_related("organization").get(pk=schedule.pk)
    before = audit_snapshot(schedule)
    schedule.enabled, schedule.day_of_month, schedule.hour = enabled, day_of_month, hour
    schedule.full_clean(exclude=["organization", "periodic_task"])
    schedule.save(update_fields=["enabled", "day_of_month", "hour"])
    _sync(schedule)
    audit_record(schedule, "updated", before=before)
    return schedule


def schedule_follow_time_zone(*, organization: Organization) -> None:
    """The organization's time zone changed (whichever door changed it): its task's crontab follows."""
    schedule = StatementSchedule.objects.filter(organization=organization).select_related(
        "periodic_task__crontab").first()
    if schedule and schedule.periodic_task and str(schedule.periodic_task.crontab.timezone) != organization.time_zone:
        _sync(schedule)
