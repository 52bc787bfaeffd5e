"""Background jobs of the to-dos app: the follow-up nudges (tasks/nudges.py). Each only finds or loads, and
calls one service."""

from django.db import OperationalError
from django.utils import timezone

from roundtable.celery import app
from tasks import nudges


@app.task
def send_todo_digests() -> int:
    """Hourly (beat): fan out one job per chunk of the people in their morning who may be due a digest.

    Finding someone twice (a job that runs twice, a chunk job that is slow) is harmless: each digest is
    claimed by its own unique row. Returns how many chunk jobs were enqueued.
    """
    user_ids = nudges.digest_candidates(now=timezone.now())
    chunks = list(nudges.chunks(user_ids))
    for chunk in chunks:
        send_todo_digest_chunk.delay(chunk)
    return len(chunks)


# A database error rolls back the claims with the emails, so trying again is safe.
@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def send_todo_digest_chunk(user_ids: list[int]) -> int:
    """Record the to-dos digest of each of these people who is due one now.

    At most once per person and day (their own day): claimed by a unique NudgeDigest row inserted in the
    transaction that records the email, so a job that runs twice, or two workers at once, send one.
    Someone whose morning has passed by the time the job runs gets nothing now (the window is hours long).
    """
    return nudges.todo_digests_send(user_ids=user_ids, now=timezone.now())


@app.task
def send_followup_digests() -> int:
    """Weekly (beat): fan out one job per chunk of the note takers of meetings with open to-dos."""
    user_ids = nudges.followup_candidates(now=timezone.now())
    chunks = list(nudges.chunks(user_ids))
    for chunk in chunks:
        send_followup_digest_chunk.delay(chunk)
    return len(chunks)


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def send_followup_digest_chunk(user_ids: list[int]) -> int:
    """Record this week's follow-up digest of each of these note takers.

    At most once per note taker and week: claimed by a unique NudgeDigest row, as the to-dos digest is.
    """
    return nudges.followup_digests_send(user_ids=user_ids, now=timezone.now())
