from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The admin's front page: the organization's sales, commissions and what waits for staff."""

    name = "dashboard"
