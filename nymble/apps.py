from django.apps import AppConfig


class NymbleConfig(AppConfig):
    name = "nymble"
    verbose_name = "Organizations and logins"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from nymble import schema  # noqa: F401  registers the OpenAPI auth extension
