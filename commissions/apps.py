from django.apps import AppConfig
from django.db.models.signals import post_save


def _schedule_organization(sender, instance, created, raw=False, **kwargs):
    """An organization gets its statement schedule when it is made (§7), and the schedule keeps to
    its time zone, whichever door made or changed it."""
    if raw:
        return
    from commissions.statements.schedule import schedule_ensure, schedule_follow_time_zone

    if created:
        schedule_ensure(organization=instance)
    else:
        schedule_follow_time_zone(organization=instance)


class CommissionsConfig(AppConfig):
    name = "commissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from nymble.models import Organization

        post_save.connect(_schedule_organization, sender=Organization, dispatch_uid="commissions-schedule")
