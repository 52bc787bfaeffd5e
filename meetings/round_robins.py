"""Round robins: every present participant takes a turn to speak, or passes, in order.

The facilitator (or a steward) starts one on the agenda item the meeting is on, or as the closing
evaluation on the last step. The speaking order is the alliance's stable order (who joined first),
rotated so that the first speaker moves on from one round robin to the next across the alliance's
meetings: the next present member after the previous round robin's first speaker. Only the members
present at its start take part; a late arrival speaks in the next one.

Each turn keeps when it started and ended (its speaking time); "next speaker" and "pass" end the current
turn and start the next, and the round robin ends itself after the last turn. Thoughts and takeaways are
saved through meetings/texts.py.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances.models import Member
from meetings import run, steps
from meetings.attendance import present_member_ids
from meetings.models import AgendaItem, Meeting, RoundRobin, Turn
from meetings.services import MeetingError

MAX_TURN_SECONDS = 60 * 60


def speaking_order(*, meeting: Meeting, present: list[int]) -> list[int]:
    """`present` (member pks) in the alliance's stable order, starting after the last first speaker."""
    if not present:
        return []
    everyone = list(
        Member.objects.filter(alliance_id=meeting.alliance_id).order_by("joined_at", "pk").values_list("pk", flat=True)
    )
    previous = (
        RoundRobin.objects.filter(meeting__alliance_id=meeting.alliance_id, first_speaker__isnull=False)
        .order_by("-started_at", "-pk")
        .values_list("first_speaker_id", flat=True)
        .first()
    )
    here = set(present)
    in_order = [pk for pk in everyone if pk in here]
    start = everyone.index(previous) + 1 if previous in everyone else 0
    # The first present member at or after `start`, going round the whole alliance.
    first = next(pk for pk in everyone[start:] + everyone[:start] if pk in here)
    at = in_order.index(first)
    return in_order[at:] + in_order[:at]


@transaction.atomic
def start_round_robin(
    *,
    meeting: Meeting,
    by: Member,
    item: AgendaItem | None = None,
    evaluation: bool = False,
    turn_seconds: int | None = None,
    now: datetime | None = None,
) -> RoundRobin:
    """Start a round robin on `item` (the step the meeting is on), or the closing evaluation round."""
    now = now or timezone.now()
    meeting = run.lock(meeting)
    run.require_driver(meeting, by)
    run.require_in_progress(meeting)
    if (item is None) == (not evaluation):
        raise MeetingError(_("A round robin is held on an agenda item or as the closing evaluation."))
    if evaluation and meeting.current_step != steps.LAST:
        raise MeetingError(_("The evaluation round is held at the closing evaluation step."))
    if item is not None and meeting.current_step != steps.item_key(item):
        raise MeetingError(_("A round robin is held on the agenda item the meeting is on."))
    if turn_seconds is not None and not 1 <= turn_seconds <= MAX_TURN_SECONDS:
        raise MeetingError(_("A turn's time box is between 1 second and 1 hour."))
    if RoundRobin.objects.filter(meeting=meeting, ended_at__isnull=True).exists():
        raise MeetingError(_("A round robin is still going: finish or end it first."))
    order = speaking_order(meeting=meeting, present=present_member_ids(meeting))
    if not order:
        raise MeetingError(_("Nobody is marked present yet: take attendance first."))
    round_robin = RoundRobin.objects.create(
        meeting=meeting,
        item=item,
        is_evaluation=evaluation,
        order=order,
        first_speaker_id=order[0],
        turn_seconds=turn_seconds,
        started_by=by,
        started_at=now,
    )
    Turn.objects.bulk_create(
        Turn(round_robin=round_robin, member_id=pk, position=position, started_at=now if position == 0 else None)
        for position, pk in enumerate(order)
    )
    run.bump(meeting)
    return round_robin


def _lock_open(
    round_robin: RoundRobin, *, by: Member, expected_position: int | None, speaker_may: bool = False
) -> tuple[Meeting, RoundRobin]:
    meeting = run.lock(round_robin.meeting_id)
    round_robin = RoundRobin.objects.get(pk=round_robin.pk)
    speaking = round_robin.is_open and round_robin.order[round_robin.current_position] == by.pk
    if not (run.may_drive(meeting, by) or (speaker_may and speaking and by.is_active)):
        if speaker_may:
            raise PermissionDenied(_("Only the speaker, the facilitator and the stewards can pass a turn."))
        run.require_driver(meeting, by)
    run.require_in_progress(meeting)
    if not round_robin.is_open:
        raise MeetingError(_("This round robin is over."))
    # The page sends the position it showed: a double click must not skip the next speaker.
    if expected_position is not None and expected_position != round_robin.current_position:
        raise MeetingError(_("The round robin has already moved on to the next speaker."))
    return meeting, round_robin


def _advance(meeting: Meeting, round_robin: RoundRobin, *, passed: bool, now: datetime) -> RoundRobin:
    position = round_robin.current_position
    Turn.objects.filter(round_robin=round_robin, position=position).update(ended_at=now, passed=passed)
    round_robin.current_position = position + 1
    if round_robin.current_position < len(round_robin.order):
        Turn.objects.filter(round_robin=round_robin, position=round_robin.current_position).update(started_at=now)
    else:
        round_robin.ended_at = now
    round_robin.save(update_fields=["current_position", "ended_at"])
    run.bump(meeting)
    return round_robin


@transaction.atomic
def next_speaker(
    *, round_robin: RoundRobin, by: Member, expected_position: int | None = None, now: datetime | None = None
) -> RoundRobin:
    """End the current turn (its speaking time is kept) and give the floor to the next member."""
    meeting, round_robin = _lock_open(round_robin, by=by, expected_position=expected_position)
    return _advance(meeting, round_robin, passed=False, now=now or timezone.now())


@transaction.atomic
def pass_turn(
    *, round_robin: RoundRobin, by: Member, expected_position: int | None = None, now: datetime | None = None
) -> RoundRobin:
    """The member whose turn it is passes: the facilitator clicks for them, or they do from their device."""
    meeting, round_robin = _lock_open(round_robin, by=by, expected_position=expected_position, speaker_may=True)
    return _advance(meeting, round_robin, passed=True, now=now or timezone.now())


@transaction.atomic
def end_round_robin(*, round_robin: RoundRobin, by: Member, now: datetime | None = None) -> RoundRobin:
    """End a round robin early: the current turn ends; the members who had not spoken keep no turn time."""
    now = now or timezone.now()
    meeting, round_robin = _lock_open(round_robin, by=by, expected_position=None)
    Turn.objects.filter(round_robin=round_robin, position=round_robin.current_position).update(ended_at=now)
    round_robin.ended_at = now
    round_robin.save(update_fields=["ended_at"])
    run.bump(meeting)
    return round_robin
