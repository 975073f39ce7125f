"""Celery tasks: they take ids, call a service, and are safe to run twice (an attempt claims its row)."""
from celery import shared_task
from django.conf import settings

from webhooks import services


@shared_task
def send_delivery(delivery_id: str) -> str | None:
    """An attempt; in-process (the embedded default) with the short eager timeout, so a slow
    endpoint holds up the request that emitted the event by that much at most."""
    eager = send_delivery.app.conf.task_always_eager
    delivery = services.delivery_attempt(delivery_id, timeout=settings.WEBHOOK_EAGER_TIMEOUT_SECONDS if eager else None)
    return delivery.status if delivery else None


@shared_task
def send_due_deliveries() -> int:
    """Beat's sweep: every delivery whose next attempt is due (retries, and any whose enqueue was lost)."""
    ids = services.due_delivery_ids()
    for delivery_id in ids:
        send_delivery.delay(str(delivery_id))
    return len(ids)
