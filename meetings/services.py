"""Writes of the meetings app: scheduling, rescheduling and cancelling meetings, apologies, turns.

Every service is keyword-only, owns its transaction and raises `MeetingError` with a message written for
the person who tried.
"""

from roundtable.errors import DomainError


class MeetingError(DomainError):
    """A rule of meetings was broken; the message is safe to show to the user."""
