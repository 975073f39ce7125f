from django.apps import AppConfig


class SalesrepsConfig(AppConfig):
    name = "salesreps"
    default_auto_field = "django.db.models.BigAutoField"
