"""Attendance: who is present, absent or excused at a meeting.

The note taker (or the facilitator, or a steward) takes the roll as people arrive: before the meeting is
started, or during its opening bonding moment. Someone marked present after that is a late arrival, and
`arrived_at` keeps when. Starting the meeting gives every active member a row (see run.start_meeting);
a row is also created here for whoever is marked before the start, and the start keeps that mark.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances.models import Member
from meetings import run, steps
from meetings.models import Attendance, Meeting
from meetings.services import MeetingError


def _is_late(meeting: Meeting) -> bool:
    return meeting.status == Meeting.Status.IN_PROGRESS and meeting.current_step != steps.FIRST


@transaction.atomic
def mark_attendance(
    *, meeting: Meeting, member: Member, status: str, by: Member, now: datetime | None = None
) -> Attendance:
    """Mark `member` present, absent or excused; present after the opening records a late arrival."""
    now = now or timezone.now()
    meeting = run.lock(meeting)
    if not run.may_mark_attendance(meeting, by):
        raise PermissionDenied(_("Only the note taker, the facilitator and the stewards can take attendance."))
    if meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.ENDED):
        run.require_in_progress(meeting)
    if status not in Attendance.Status.values:
        raise MeetingError(_("Choose present, absent or excused."))
    if member.alliance_id != meeting.alliance_id or not member.is_active:
        raise MeetingError(_("Only active members of the alliance can be marked at its meetings."))
    attendance = Attendance.objects.filter(meeting=meeting, member=member).first()
    if attendance is None:
        attendance = Attendance(meeting=meeting, member=member)
    elif attendance.status == status:
        return attendance
    if status == Attendance.Status.PRESENT:
        attendance.arrived_at = now if _is_late(meeting) else None
    else:
        attendance.arrived_at = None
    attendance.status, attendance.marked_by, attendance.marked_at = status, by, now
    attendance.save()
    run.bump(meeting)
    return attendance


def present_member_ids(meeting: Meeting) -> list[int]:
    """The active members marked present, in the alliance's stable order (who joined first)."""
    return list(
        Attendance.objects.filter(meeting=meeting, status=Attendance.Status.PRESENT, member__is_active=True)
        .order_by("member__joined_at", "member_id")
        .values_list("member_id", flat=True)
    )
