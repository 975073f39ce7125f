"""Mail the product sends its people (invitations, password resets, statements approved and paid,
disputes raised): rendered from templates, a plain-text part and an HTML one,
sent once the change that caused it commits, by the worker when there is a broker and in-process
otherwise. A mail server that fails never fails the request: the worker retries, the embedded
default logs it."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def public_link(path: str) -> str:
    """An absolute link for a mail: `PUBLIC_URL` and the path."""
    return f"{settings.PUBLIC_URL}{path}"


def email_send_after_commit(*, to: str, template: str, context: dict) -> None:
    """Renders `emails/<template>_subject.txt`, the plain-text part `emails/<template>.txt` and the
    HTML part `emails/<template>.html` now and sends them after the current transaction commits
    (nothing is sent if it rolls back)."""
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    body = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)

    def send():
        from nymble.tasks import send_email

        try:
            send_email.delay(to=to, subject=subject, body=body, html=html)
        except Exception:  # eagerly (no broker) or a broker that is down: logged, the change stands
            logger.exception("Could not send the %s mail to %s", template, to)

    transaction.on_commit(send)
