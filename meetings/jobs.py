"""Background jobs of the meetings app. Each finds due rows or loads one by id, and calls one service."""

from django.db import OperationalError
from django.utils import timezone

from meetings import notes, sending
from roundtable.celery import app


@app.task
def remind_unsent_agendas() -> int:
    """Daily (beat): fan out one reminder job per meeting whose agenda is due and not sent.

    Finding a meeting twice is harmless: each reminder is claimed by its own conditional update.
    """
    meeting_ids = sending.meetings_due_agenda_reminder(now=timezone.now())
    for meeting_id in meeting_ids:
        remind_agenda.delay(meeting_id)
    return len(meeting_ids)


# A database error rolls back the claim with the email, so trying again is safe.
@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def remind_agenda(meeting_id: int) -> bool:
    """Remind a meeting's facilitator that its agenda is not sent yet.

    At most once per meeting: claimed by a conditional update on `agenda_reminder_sent_at`, in the same
    transaction that records the email in the outbox, so a job that runs twice (or two workers) sends one
    reminder, and a job that fails leaves the meeting unclaimed for its retry or the next day's run.
    A meeting that is gone, cancelled, past, sent or already reminded gets nothing.
    """
    return sending.meeting_remind_agenda(meeting_id=meeting_id, now=timezone.now())


@app.task
def remind_unsent_notes() -> int:
    """Hourly (beat): fan out one reminder job per ended meeting whose notes are unsent and whose next
    reminder (24 hours, 3 days, then the facilitator at 7 days) is due.

    Finding a meeting twice is harmless: each reminder is claimed by its own conditional update.
    """
    meeting_ids = notes.meetings_due_notes_reminder(now=timezone.now())
    for meeting_id in meeting_ids:
        remind_notes.delay(meeting_id)
    return len(meeting_ids)


# A database error rolls back the claim with the email, so trying again is safe.
@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def remind_notes(meeting_id: int) -> bool:
    """Send a meeting's next reminder that its notes are not sent yet.

    At most once per stage: claimed by a conditional update of `notes_reminder_count` from the stage read,
    in the same transaction that records the email, so a job that runs twice (or two workers) sends one
    reminder. A meeting that is gone, sent, or whose next reminder is not due gets nothing.
    """
    return notes.meeting_remind_notes(meeting_id=meeting_id, now=timezone.now())
