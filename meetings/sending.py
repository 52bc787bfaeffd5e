"""Sending a meeting's draft agenda by email, with its calendar invitation, and the updates that follow."""

from meetings.models import Meeting


def sending_context(*, meeting: Meeting, member) -> dict:
    """What the meeting page's "Send agenda" box needs."""
    return {}


def meeting_notify_rescheduled(*, meeting: Meeting) -> None:
    """Send everyone who got the agenda an updated calendar invitation (call inside the reschedule's transaction)."""


def meeting_notify_cancelled(*, meeting: Meeting) -> None:
    """Send everyone who got the agenda a cancellation (call inside the cancel's transaction)."""
