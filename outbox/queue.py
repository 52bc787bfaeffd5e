"""How the services hand work to the outbox's jobs, without importing `outbox.jobs` (which imports them).

The dependency runs one way, jobs → services → queue: the services enqueue the send job by its name.
`OutboxConfig.ready()` imports `outbox.jobs` in every process (web, worker, tests), so the name resolves
to the registered task with its own options, eager mode in tests included.
"""

from roundtable.celery import app

SEND_MESSAGE = "outbox.jobs.send_message"


def send_message_on_commit(message_id: int) -> None:
    """Enqueue the send job for a message once the caller's transaction commits (at once outside one)."""
    app.tasks[SEND_MESSAGE].delay_on_commit(message_id)
