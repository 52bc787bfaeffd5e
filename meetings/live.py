"""What everyone following a meeting sees, read in a fixed number of queries.

The live pages poll `revision_of` (one small query: the 304 path) and, when the revision moved, render
`live_state`: the current step with its time box and time spent, the meeting's time against its
duration, the round robin under way with its speaker and the turn's countdown, and the latest decision.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from alliances.models import Member
from meetings import steps
from meetings.models import AgendaItem, AgendaSegment, Attendance, Decision, Meeting, RoundRobin, StepTime, Turn
from meetings.steps import Step


@dataclass(frozen=True)
class LiveState:
    meeting: Meeting
    now: datetime
    steps: list[Step]
    # None before the start and after the end.
    step: Step | None
    step_index: int | None
    step_seconds: int
    elapsed_seconds: int
    duration_seconds: int
    round_robin: RoundRobin | None
    speaker: Member | None
    next_speaker: Member | None
    # Negative once the speaker runs over; None without a time box per turn.
    turn_remaining_seconds: int | None
    latest_decision: Decision | None

    @property
    def revision(self) -> int:
        return self.meeting.revision

    @property
    def step_box_seconds(self) -> int | None:
        return self.step.minutes * 60 if self.step is not None else None


def _seconds(later: datetime, earlier: datetime | None) -> int:
    return max(0, int((later - earlier).total_seconds())) if earlier is not None else 0


def live_state(meeting: Meeting, *, now: datetime | None = None) -> LiveState:
    """The live state of `meeting` (as fetched for this request), in at most five queries."""
    now = now or timezone.now()
    run = steps.build(
        AgendaSegment.objects.filter(meeting=meeting), AgendaItem.objects.filter(meeting=meeting).on_agenda()
    )
    step, index, step_seconds = None, None, 0
    if meeting.status == Meeting.Status.IN_PROGRESS and meeting.current_step:
        index = steps.index_of(run, meeting.current_step)
        step = run[index]
        spent = (
            StepTime.objects.filter(meeting=meeting, key=meeting.current_step)
            .values_list("spent_seconds", flat=True)
            .first()
        )
        step_seconds = (spent or 0) + _seconds(now, meeting.step_started_at)

    # The current turn and the next one of the round robin under way, with the round robin itself.
    turns = list(
        Turn.objects.filter(
            round_robin__meeting=meeting,
            round_robin__ended_at__isnull=True,
            position__gte=F("round_robin__current_position"),
            position__lte=F("round_robin__current_position") + 1,
        )
        .select_related("round_robin", "member__user")
        .order_by("position")
    )
    round_robin = turns[0].round_robin if turns else None
    speaker = turns[0].member if turns else None
    next_speaker = turns[1].member if len(turns) > 1 else None
    remaining = None
    if round_robin is not None and round_robin.turn_seconds is not None:
        remaining = round_robin.turn_seconds - _seconds(now, turns[0].started_at)

    latest = Decision.objects.filter(meeting=meeting).select_related("item").order_by("-decided_at", "-pk").first()

    end = meeting.ended_at or now
    return LiveState(
        meeting=meeting,
        now=now,
        steps=run,
        step=step,
        step_index=index,
        step_seconds=step_seconds,
        elapsed_seconds=_seconds(end, meeting.started_at),
        duration_seconds=meeting.duration_minutes * 60,
        round_robin=round_robin,
        speaker=speaker,
        next_speaker=next_speaker,
        turn_remaining_seconds=remaining,
        latest_decision=latest,
    )


# The poll every viewer's page makes each second: written as SQL because Django would spend longer compiling
# this three-table join in Python (about 0.5 ms) than the database spends answering it, and this query is
# all the unchanged path does beyond the session (the benchmark holds it to 70 % of a bare page). It reads
# the reader's roles too, so that a changed state can be handed out per kind of reader with no more queries.
_POLL_SQL = (
    "SELECT m.revision, m.alliance_id, mb.id, mb.is_steward, m.facilitator_id, m.note_taker_id"
    " FROM meetings_meeting m"
    " JOIN alliances_alliance a ON a.id = m.alliance_id"
    " JOIN alliances_member mb ON mb.alliance_id = m.alliance_id"
    " WHERE m.id = %s AND a.slug = %s AND mb.user_id = %s AND mb.is_active"
)


@dataclass(frozen=True)
class Poll:
    """What the poll's one query says of the meeting and of the reader (an active member of its alliance)."""

    revision: int
    alliance_id: int
    member_pk: int
    # run.may_drive and run.may_mark_attendance for this reader, from the same row (tested to agree).
    may_drive: bool
    may_mark_attendance: bool


def poll(*, meeting_pk: int, slug: str, user_id: int) -> Poll | None:
    """The meeting's revision and what the reader may do at it, in one query.

    None when the meeting is not in that alliance or the reader is not (or no longer) an active member of
    it: a member removed during the meeting gets 404 at their next poll.
    """
    with connection.cursor() as cursor:
        cursor.execute(_POLL_SQL, [meeting_pk, slug, user_id])
        row = cursor.fetchone()
    return _poll_of(row) if row is not None else None


def _poll_of(row: tuple) -> Poll:
    revision, alliance_id, member_pk, is_steward, facilitator_id, note_taker_id = row
    # The rules of meetings/run.py for an active member of the meeting's alliance: the facilitator and the
    # stewards drive (Meeting.can_edit); they and the note taker mark attendance.
    may_drive = bool(is_steward) or member_pk == facilitator_id
    return Poll(
        revision=revision,
        alliance_id=alliance_id,
        member_pk=member_pk,
        may_drive=may_drive,
        may_mark_attendance=may_drive or member_pk == note_taker_id,
    )


# The recording part's first look (meetings/views/record.py): the poll's row (the same joins), where the
# meeting is, and whether the reader takes part in it: marked present, or a stance or a turn of theirs in it.
_PART_SQL = (
    "SELECT m.revision, m.alliance_id, mb.id, mb.is_steward, m.facilitator_id, m.note_taker_id,"
    " m.status, m.current_step,"
    " EXISTS (SELECT 1 FROM meetings_attendance t WHERE t.meeting_id = m.id AND t.member_id = mb.id"
    "  AND t.status = %s)"
    " OR EXISTS (SELECT 1 FROM meetings_stance s JOIN meetings_proposal p ON p.id = s.proposal_id"
    "  JOIN meetings_agendaitem i ON i.id = p.item_id WHERE i.meeting_id = m.id AND s.member_id = mb.id)"
    " OR EXISTS (SELECT 1 FROM meetings_turn t JOIN meetings_roundrobin r ON r.id = t.round_robin_id"
    "  WHERE r.meeting_id = m.id AND t.member_id = mb.id)"
    " FROM meetings_meeting m"
    " JOIN alliances_alliance a ON a.id = m.alliance_id"
    " JOIN alliances_member mb ON mb.alliance_id = m.alliance_id"
    " WHERE m.id = %s AND a.slug = %s AND mb.user_id = %s AND mb.is_active"
)


@dataclass(frozen=True)
class PartReader:
    """The poll's row, with where the meeting is and whether the reader takes part in it."""

    poll: Poll
    status: str
    current_step: str
    takes_part: bool


def part_reader(*, meeting_pk: int, slug: str, user_id: int) -> PartReader | None:
    """As `poll`, for the recording part: one query; None for a reader who is not an active member."""
    with connection.cursor() as cursor:
        cursor.execute(_PART_SQL, [Attendance.Status.PRESENT, meeting_pk, slug, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return PartReader(poll=_poll_of(row[:6]), status=row[6], current_step=row[7], takes_part=bool(row[8]))


def revision_of(meeting_pk: int, *, alliance_id: int | None = None) -> int | None:
    """The meeting's revision in one small query (None when there is no such meeting in the alliance)."""
    meetings = Meeting.objects.filter(pk=meeting_pk)
    if alliance_id is not None:
        meetings = meetings.filter(alliance_id=alliance_id)
    return meetings.values_list("revision", flat=True).first()
