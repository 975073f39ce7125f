"""Each organization's own statement schedule (§7), kept in django-celery-beat."""
import datetime
import json

import pytest
import time_machine
from django.core.management import call_command
from django.test import TestCase
from django_celery_beat.models import PeriodicTask

from commissions.models import CommissionStatement, StatementSchedule
from commissions.statements.schedule import schedule_update
from commissions.tasks import generate_monthly_statements
from commissions.tests.test_commission_rules import MARCH, make_shop, order, pay, plan
from commissions.tests.test_statement_api import eager_tasks  # noqa: F401  (tasks in-process)
from nymble.models import Organization

pytestmark = pytest.mark.django_db


def test_an_organization_is_made_with_its_schedule_in_its_own_time_zone(db):
    call_command("create_organization", "Initech", "--code", "INIT", "--admin-email", "boss@initech.test",
                 "--admin-password", "pass-word-1", "--time-zone", "Asia/Tokyo", stdout=open("/dev/null", "w"))
    schedule = StatementSchedule.objects.get(organization__org_code="INIT")
    task = schedule.periodic_task
    assert (schedule.enabled, schedule.day_of_month, schedule.hour) == (True, 1, 3)
    assert task.task == "commissions.tasks.generate_monthly_statements" and task.enabled
    assert json.loads(task.kwargs) == {"organization_id": str(schedule.organization_id)}
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, str(crontab.timezone)) == ("0", "3", "1", "Asia/Tokyo")


def test_staff_change_their_own_schedule_and_the_beat_task_follows(tenant, other_tenant, staff_client):
    mine = StatementSchedule.objects.get(organization=tenant.org)
    theirs = StatementSchedule.objects.get(organization=other_tenant.org)
    listing = staff_client.get("/admin/commissions/statementschedule/").content.decode()
    assert str(tenant.org) in listing and str(other_tenant.org) not in listing
    assert staff_client.get(f"/admin/commissions/statementschedule/{theirs.pk}/change/").status_code in (302, 404)
    url = f"/admin/commissions/statementschedule/{mine.pk}/change/"
    refused = staff_client.post(url, {"day_of_month": "31", "hour": "6"})
    assert refused.status_code == 200 and b"Ensure this value is less than or equal to 28" in refused.content
    saved = staff_client.post(url, {"enabled": "", "day_of_month": "5", "hour": "6"})
    assert saved.status_code == 302
    task = PeriodicTask.objects.get(pk=mine.periodic_task_id)
    assert (task.enabled, task.crontab.day_of_month, task.crontab.hour, str(task.crontab.timezone)) == (
        False, "5", "6", "America/Chicago")
    theirs.refresh_from_db()
    assert PeriodicTask.objects.get(pk=theirs.periodic_task_id).enabled  # another organization's is untouched


def test_each_organizations_task_makes_its_own_statements_once(tenant, other_tenant):
    for org_tenant in (tenant, other_tenant):
        make_shop(org_tenant)
        plan(org_tenant)
        pay(org_tenant, order(org_tenant, [("GAD-1", 1)]), "100.00", "2026-03-20T12:00:00-05:00")
    task = StatementSchedule.objects.get(organization=tenant.org).periodic_task
    kwargs = json.loads(task.kwargs)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert generate_monthly_statements("2026-04-01", **kwargs) == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert generate_monthly_statements("2026-04-01", **kwargs) == 0  # a rerun makes nothing
    made = CommissionStatement.objects.get()
    assert (made.organization_id, str(made.period_start), str(made.period_end), made.total) == (
        tenant.org.id, *MARCH, 10)
    assert made.include_earlier and made.status == "Draft"
    assert not CommissionStatement.objects.filter(organization=other_tenant.org).exists()
    assert Organization.objects.count() == StatementSchedule.objects.count()


def due_now(organization, last_run_at) -> bool:
    """What celery beat asks of the organization's task at this moment."""
    task = StatementSchedule.objects.get(organization=organization).periodic_task
    return task.enabled and task.schedule.is_due(last_run_at).is_due


def beat_tick(last_run_at) -> int:
    """One beat tick: every due organization's task, run as the worker would (no `today`)."""
    started = 0
    for schedule in StatementSchedule.objects.select_related("periodic_task", "organization"):
        if due_now(schedule.organization, last_run_at):
            with TestCase.captureOnCommitCallbacks(execute=True):
                started += generate_monthly_statements(**json.loads(schedule.periodic_task.kwargs))
    return started


def test_each_organization_runs_at_its_own_local_hour_and_closes_its_own_month(tenant, other_tenant):
    """Chicago and Tokyo both run on the 1st at 03:00 local: Tokyo's comes 14 hours before Chicago's,
    while it is still March 31 in Chicago — and each closes March in its own calendar."""
    tokyo = other_tenant.org
    Organization.objects.filter(pk=tokyo.pk).update(time_zone="Asia/Tokyo")
    schedule_update(schedule=StatementSchedule.objects.get(organization=tokyo), enabled=True, day_of_month=1, hour=3)
    for org_tenant, paid_at in ((tenant, "2026-03-31T20:00:00-05:00"),  # March 31 in Chicago (April 1 in UTC)
                                (other_tenant, "2026-03-01T08:00:00+09:00")):  # March 1 in Tokyo (Feb 28 in UTC)
        make_shop(org_tenant)
        plan(org_tenant)
        pay(org_tenant, order(org_tenant, [("GAD-1", 1)]), "100.00", paid_at)
    last_run = datetime.datetime(2026, 3, 15, tzinfo=datetime.UTC)

    with time_machine.travel(datetime.datetime(2026, 3, 31, 17, 59, tzinfo=datetime.UTC), tick=False):
        assert not due_now(tokyo, last_run) and not due_now(tenant.org, last_run)  # 02:59 in Tokyo
    with time_machine.travel(datetime.datetime(2026, 3, 31, 18, 0, 30, tzinfo=datetime.UTC), tick=False):
        assert due_now(tokyo, last_run) and not due_now(tenant.org, last_run)  # 03:00 in Tokyo, 13:00 in Chicago
        assert beat_tick(last_run) == 1
    made = CommissionStatement.objects.get()
    assert (made.organization_id, str(made.period_start), str(made.period_end), made.total) == (
        tokyo.pk, "2026-03-01", "2026-03-31", 10)  # the March 1 (Tokyo) payment is March's

    with time_machine.travel(datetime.datetime(2026, 4, 1, 8, 0, 30, tzinfo=datetime.UTC), tick=False):
        assert due_now(tenant.org, last_run)  # 03:00 in Chicago (CDT, UTC−5)
        assert beat_tick(last_run) == 1
        assert beat_tick(last_run) == 0  # a rerun (a second tick, a restarted beat) makes nothing
    chicago = CommissionStatement.objects.get(organization=tenant.org)
    assert (str(chicago.period_start), str(chicago.period_end), chicago.total) == ("2026-03-01", "2026-03-31", 10)
    assert CommissionStatement.objects.count() == 2


def test_the_schedule_follows_the_organizations_time_zone_when_it_changes(tenant):
    tenant.org.time_zone = "Europe/Berlin"
    tenant.org.save()
    task = StatementSchedule.objects.get(organization=tenant.org).periodic_task
    assert (task.crontab.hour, task.crontab.day_of_month, str(task.crontab.timezone)) == ("3", "1", "Europe/Berlin")
