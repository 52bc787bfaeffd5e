"""The run of show: starting a meeting, moving through its steps, ending it.

Every write here (and in attendance.py, round_robins.py and texts.py, which build on the helpers below)
is a keyword-only service that owns its transaction, locks the meeting row first, so that two clicks on
"next step" from two screens take turns instead of both moving the meeting, checks who may act on the
locked row (a role handed on a minute ago counts), and raises `meeting.revision` by one with an F()
update: the live pages poll that number.

Who may do what:
- drive (start, move between steps, end, run the round robins): the meeting's facilitator and stewards;
- record (thoughts, discussion, proposals): the facilitator and the note taker;
- mark attendance: the note taker, the facilitator and stewards.
A former member may do none of it: each check asks whether the membership is still active.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances import versions
from alliances.models import Member
from meetings import steps
from meetings.models import Apology, Attendance, Meeting, RoundRobin, StepTime
from meetings.services import MeetingError

# --- Helpers shared by the run-of-show modules ---------------------------------------------------------


def lock(meeting: Meeting | int) -> Meeting:
    """The meeting row, locked until the end of the transaction."""
    pk = meeting if isinstance(meeting, int) else meeting.pk
    return Meeting.objects.select_for_update().get(pk=pk)


def bump(meeting: Meeting, **changes: object) -> None:
    """Write `changes` to the meeting and raise its revision by one, in one UPDATE."""
    Meeting.objects.filter(pk=meeting.pk).update(revision=F("revision") + 1, **changes)
    # update() sends no signal: the alliance's kept pages (the meeting page shows its status) learn of it here.
    versions.bump(meeting.alliance_id)
    meeting.refresh_from_db(fields=["revision", *changes])


def _in_alliance(meeting: Meeting, member: Member) -> bool:
    return member.is_active and member.alliance_id == meeting.alliance_id


def may_drive(meeting: Meeting, member: Member) -> bool:
    """The facilitator and the stewards move the meeting and run its round robins."""
    return _in_alliance(meeting, member) and meeting.can_edit(member)


def may_record(meeting: Meeting, member: Member) -> bool:
    """The facilitator and the note taker record what is said."""
    return _in_alliance(meeting, member) and member.pk in (meeting.facilitator_id, meeting.note_taker_id)


def may_mark_attendance(meeting: Meeting, member: Member) -> bool:
    return may_record(meeting, member) or may_drive(meeting, member)


def require_driver(meeting: Meeting, by: Member) -> None:
    if not may_drive(meeting, by):
        raise PermissionDenied(_("Only the meeting's facilitator and the stewards can run the meeting."))


def require_in_progress(meeting: Meeting) -> None:
    if meeting.status == Meeting.Status.IN_PROGRESS:
        return
    if meeting.status == Meeting.Status.ENDED:
        raise MeetingError(_("This meeting has ended."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("This meeting was cancelled."))
    raise MeetingError(_("This meeting has not started yet."))


def require_started(meeting: Meeting) -> None:
    """In progress or ended: what was said can still be corrected once the meeting is over, until the
    notes are sent; after that the notes are final and a correction is an amendment (meetings/notes.py)."""
    if meeting.status not in (Meeting.Status.IN_PROGRESS, Meeting.Status.ENDED):
        require_in_progress(meeting)
    if meeting.notes_sent_at is not None:
        raise MeetingError(_("The notes were sent: record an amendment to them instead."))


def _require_no_open_round_robin(meeting: Meeting) -> None:
    if RoundRobin.objects.filter(meeting=meeting, ended_at__isnull=True).exists():
        raise MeetingError(_("A round robin is still going: finish or end it first."))


def _require_on(meeting: Meeting, expected_step: str | None) -> None:
    # The page sends the step it showed: a second click (or a second facilitator) on a page that has
    # not caught up yet must not move the meeting one step further than the person meant.
    if expected_step is not None and expected_step != meeting.current_step:
        raise MeetingError(_("The meeting has already moved on: look at the current step and try again."))


def _leave_step(meeting: Meeting, now: datetime) -> None:
    """Add the time since the meeting arrived at its current step to that step's total."""
    if not meeting.current_step or meeting.step_started_at is None:
        return
    seconds = max(0, int((now - meeting.step_started_at).total_seconds()))
    # The meeting row is locked: nobody else adds to this step at the same time.
    added = StepTime.objects.filter(meeting=meeting, key=meeting.current_step).update(
        spent_seconds=F("spent_seconds") + seconds
    )
    if not added:
        StepTime.objects.create(meeting=meeting, key=meeting.current_step, spent_seconds=seconds)


# --- Start, steps, end ---------------------------------------------------------------------------------


@transaction.atomic
def start_meeting(*, meeting: Meeting, by: Member, now: datetime | None = None) -> Meeting:
    """Start a scheduled meeting at its first step (bonding), with attendance ready to take.

    Every active member gets an attendance row at once: "excused" for those who sent apologies, "absent"
    for everyone else until the note taker marks them present. The roll is then complete from the first
    second (nobody is left out of a list because nobody clicked on them), and the notes can say who was
    absent. Whoever was already marked before the start keeps that mark. A meeting can be started before
    its scheduled time: groups often begin a few minutes early.
    """
    now = now or timezone.now()
    meeting = lock(meeting)
    require_driver(meeting, by)
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("This meeting was cancelled."))
    if meeting.status != Meeting.Status.SCHEDULED:
        raise MeetingError(_("This meeting has already started."))
    excused = set(Apology.objects.filter(meeting=meeting).values_list("member_id", flat=True))
    members = (
        Member.objects.active()
        .filter(alliance_id=meeting.alliance_id)
        # A roll taken before the start (meetings/attendance.py) stands.
        .exclude(attendance__meeting=meeting)
        .values_list("pk", flat=True)
    )
    Attendance.objects.bulk_create(
        Attendance(
            meeting=meeting,
            member_id=pk,
            status=Attendance.Status.EXCUSED if pk in excused else Attendance.Status.ABSENT,
            marked_at=now,
        )
        for pk in members
    )
    bump(
        meeting,
        status=Meeting.Status.IN_PROGRESS,
        started_at=now,
        started_by=by,
        current_step=steps.FIRST,
        step_started_at=now,
    )
    return meeting


def _unresolved_decision(step: steps.Step) -> bool:
    if not step.is_decision or step.item is None or step.item.deferred_at is not None:
        return False
    # Imported here: the consensus module builds on this one's helpers.
    from meetings.consensus import item_is_resolved

    return not item_is_resolved(step.item)


def _move(*, meeting: Meeting, by: Member, forward: bool, expected_step: str | None, now: datetime) -> Meeting:
    meeting = lock(meeting)
    require_driver(meeting, by)
    require_in_progress(meeting)
    _require_on(meeting, expected_step)
    _require_no_open_round_robin(meeting)
    run = steps.for_meeting(meeting)
    here = steps.index_of(run, meeting.current_step)
    if forward:
        if here + 1 >= len(run):
            raise MeetingError(_("This is the last step: end the meeting when the evaluation round is over."))
        if _unresolved_decision(run[here]):
            raise MeetingError(
                _("This decision has no consensus yet: reach consensus or defer the item before moving on.")
            )
        to = run[here + 1]
    else:
        if here == 0:
            raise MeetingError(_("This is the first step."))
        to = run[here - 1]
    _leave_step(meeting, now)
    bump(meeting, current_step=to.key, step_started_at=now)
    return meeting


@transaction.atomic
def go_to_next_step(
    *, meeting: Meeting, by: Member, expected_step: str | None = None, now: datetime | None = None
) -> Meeting:
    """Move everyone to the next step; not past a decision item without consensus, unless it was deferred."""
    return _move(meeting=meeting, by=by, forward=True, expected_step=expected_step, now=now or timezone.now())


@transaction.atomic
def go_to_previous_step(
    *, meeting: Meeting, by: Member, expected_step: str | None = None, now: datetime | None = None
) -> Meeting:
    """Move everyone back one step (always allowed, but the first); the time spent is kept for both."""
    return _move(meeting=meeting, by=by, forward=False, expected_step=expected_step, now=now or timezone.now())


@transaction.atomic
def end_meeting(
    *, meeting: Meeting, by: Member, expected_step: str | None = None, now: datetime | None = None
) -> Meeting:
    """End the meeting after its closing evaluation round (the last step)."""
    now = now or timezone.now()
    meeting = lock(meeting)
    require_driver(meeting, by)
    require_in_progress(meeting)
    _require_on(meeting, expected_step)
    if meeting.current_step != steps.LAST:
        raise MeetingError(_("A meeting ends after its closing evaluation round: go to that step first."))
    _require_no_open_round_robin(meeting)
    _leave_step(meeting, now)
    bump(meeting, status=Meeting.Status.ENDED, ended_at=now, ended_by=by, current_step="", step_started_at=None)
    return meeting
