"""Each organization gets its own schedule (the 1st at 03:00 in its time zone, on); the one global
periodic task of 0002 gives way to one per organization."""
import json

from django.db import migrations

TASK = "commissions.tasks.generate_monthly_statements"


def per_organization(apps, schema_editor):
    Organization = apps.get_model("nymble", "Organization")
    StatementSchedule = apps.get_model("commissions", "StatementSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="Monthly commission statements", task=TASK).delete()
    for organization in Organization.objects.all():
        crontab, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="3", day_of_month="1", month_of_year="*",
                                                           day_of_week="*", timezone=organization.time_zone)
        task, _ = PeriodicTask.objects.get_or_create(
            name=f"Monthly commission statements: {organization.org_code}",
            defaults={"task": TASK, "crontab": crontab, "kwargs": json.dumps({"organization_id": str(organization.pk)})},
        )
        StatementSchedule.objects.get_or_create(organization=organization, defaults={"periodic_task": task})


class Migration(migrations.Migration):
    dependencies = [("commissions", "0006_statement_schedules"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(per_organization, migrations.RunPython.noop)]
