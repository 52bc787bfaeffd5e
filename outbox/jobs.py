"""Background jobs of the email delivery path. Each loads by id and calls one service."""

from django.db import OperationalError
from django.utils import timezone

from outbox import services
from roundtable.celery import app


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def send_message(message_id: int) -> int:
    """Send a message's due deliveries.

    At least once per enqueue; each delivery is sent once, deduplicated by its claim in the database,
    so running this twice for the same message (a redelivered broker message, two workers) is harmless.
    Gone messages have no due deliveries, so the job then does nothing. It works within
    OUTBOX_JOB_BUDGET_SECONDS and enqueues a fresh job for what is left. A database error retries the job,
    which claims only deliveries still pending: one whose outcome could not be recorded keeps its claim,
    so a retry never sends it again.
    """
    return services.deliveries_send(message_id=message_id)


@app.task
def sweep_deliveries() -> int:
    """Periodic (beat): re-queue due retries, lost first attempts and deliveries of dead workers.

    Idempotent: enqueueing a message that is already being sent costs a claim that finds nothing.
    """
    message_ids = services.deliveries_sweep(now=timezone.now())
    for message_id in message_ids:
        send_message.delay(message_id)
    return len(message_ids)
