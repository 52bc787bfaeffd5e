"""The "next meeting's logistics" step: the group sets its next meeting while still together."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances.models import Member
from meetings import run, services
from meetings.models import Meeting
from meetings.services import MeetingError


@transaction.atomic
def next_meeting_schedule(
    *,
    meeting: Meeting,
    by: Member,
    starts_at: datetime,
    duration_minutes: int,
    facilitator: Member | None,
    note_taker: Member | None,
    venue_address: str = "",
    video_link: str = "",
    support_offered: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Schedule the alliance's next meeting from this one's logistics step and link it as its next meeting.

    The meeting row is locked first: two people sending the form at once schedule one meeting, and the
    second is told it is set. Who may is `meetings.services.meeting_schedule`'s rule (a steward, or the
    facilitator of the latest meeting: this one's, while it runs).
    """
    now = now or timezone.now()
    meeting = run.lock(meeting)
    run.require_started(meeting)
    if meeting.next_meeting_id is not None:
        raise MeetingError(_("The next meeting has been set already."))
    following = services.meeting_schedule(
        alliance=meeting.alliance,
        by=by,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        facilitator=facilitator,
        note_taker=note_taker,
        venue_address=venue_address,
        video_link=video_link,
        support_offered=support_offered,
        now=now,
    )
    run.bump(meeting, next_meeting=following)
    return following
