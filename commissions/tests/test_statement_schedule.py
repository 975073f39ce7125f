"""Each organization's own statement schedule (§7), kept in django-celery-beat."""
import json

import pytest
from django.core.management import call_command
from django.test import TestCase
from django_celery_beat.models import PeriodicTask

from commissions.models import CommissionStatement, StatementSchedule
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
