from django.db import migrations

TASK = "commissions.tasks.generate_monthly_statements"


def schedule(apps, schema_editor):
    """Staff see and change this in the admin (Periodic tasks); beat reads it from the database."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_month="1", month_of_year="*", day_of_week="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name="Monthly commission statements",
        defaults={"task": TASK, "crontab": crontab,
                  "description": "Draft statements for last month for every active rep with an active plan."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("commissions", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(schedule, unschedule)]
