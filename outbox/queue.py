"""How the services hand work to the outbox's jobs, without importing `outbox.jobs` (which imports them).

The dependency runs one way, jobs → services → queue: the services enqueue the send job by its name.
`OutboxConfig.ready()` imports `outbox.jobs` in every process (web, worker, tests), so the name resolves
to the registered task with its own options, eager mode in tests included.

An enqueue never fails the action that caused it: the deliveries are rows in the database, committed
before the job is enqueued, and `outbox.jobs.sweep_deliveries` finds those whose job never came.
"""

import logging
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from roundtable.celery import app

logger = logging.getLogger(__name__)

SEND_MESSAGE = "outbox.jobs.send_message"


def send_message_on_commit(message_id: int) -> None:
    """Enqueue the send job for a message once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(partial(send_message_now, message_id))


def send_message_now(message_id: int) -> bool:
    """Enqueue the send job for a message; false if the broker could not take it.

    After commit the action has happened: a broker that is down (Celery raises kombu's OperationalError
    once its publish retries are spent) must not turn it into an error page. The message's deliveries
    wait as pending rows, and the sweeper enqueues them when the broker is back.
    """
    try:
        app.tasks[SEND_MESSAGE].delay(message_id)
    except BrokerError:
        logger.exception("Could not enqueue the send job of message %s; the sweeper will send it later.", message_id)
        return False
    return True
