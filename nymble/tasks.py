"""Celery tasks of the core app."""
import smtplib

from celery import shared_task
from django.core.mail import send_mail


@shared_task(acks_late=True, autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=True, max_retries=6)
def send_email(*, to: str, subject: str, body: str, html: str | None = None) -> None:
    """One mail (plain text, and HTML when given) through Django's email backend (`EMAIL_URL`);
    retried with growing waits while the mail server is unreachable."""
    send_mail(subject, body, None, [to], html_message=html)
