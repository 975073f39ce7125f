from django.apps import AppConfig


class SalesrepsConfig(AppConfig):
    name = "salesreps"
    verbose_name = "Sales reps"
    default_auto_field = "django.db.models.BigAutoField"
