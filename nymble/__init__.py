"""Nymble back office: project package and core app (organizations, logins, JWT, API plumbing)."""
from .celery import app as celery_app

__all__ = ("celery_app",)
