"""Round robins: who speaks first and in what order, turns and passes, speaking time, thoughts and takeaways."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.utils import timezone

from meetings import round_robins, run, texts
from meetings.models import AgendaItem, Meeting, RoundRobin, Turn
from meetings.services import MeetingError
from meetings.tests.factories import AgendaItemFactory, MeetingFactory
from meetings.tests.run_helpers import T0, go_to, round_table, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance):
    table = round_table(alliance)
    start(table)
    go_to(table, f"item:{table.info.pk}")
    return table


def _start(table, item=None, **kwargs) -> RoundRobin:
    return round_robins.start_round_robin(
        meeting=table.meeting, item=item or table.info, by=table.facilitator, now=T0, **kwargs
    )


def _next(table, round_robin: RoundRobin, **kwargs) -> RoundRobin:
    return round_robins.next_speaker(round_robin=round_robin, by=table.facilitator, **{"now": T0, **kwargs})


def _names(round_robin: RoundRobin) -> list[str]:
    return [turn.member.user.display_name for turn in round_robin.turns.select_related("member__user")]


# --- Who speaks when -------------------------------------------------------------------------------------


def test_everyone_present_takes_part_in_the_alliance_order(table):
    round_robin = _start(table)

    assert _names(round_robin) == ["Stella Steward", "Fay Facilitator", "Nat Notes", "Ann", "Ben", "Cy"]
    assert round_robin.first_speaker == table.steward
    assert round_robin.order == [member.pk for member in table.everyone]


def test_the_first_speaker_rotates_from_one_round_robin_to_the_next(table):
    first = _start(table)
    round_robins.end_round_robin(round_robin=first, by=table.facilitator, now=T0)
    second = _start(table, turn_seconds=60)

    assert _names(second) == ["Fay Facilitator", "Nat Notes", "Ann", "Ben", "Cy", "Stella Steward"]


def test_the_rotation_goes_on_at_the_next_meeting_and_skips_whoever_is_absent(table):
    first = _start(table)
    round_robins.end_round_robin(round_robin=first, by=table.facilitator, now=T0)
    # The next meeting: Fay (next in turn) and Cy are not there.
    table.meeting = MeetingFactory(
        alliance=table.alliance,
        starts_at=T0 + timedelta(days=7),
        facilitator=table.note_taker,
        note_taker=table.others[0],
    )
    item = AgendaItemFactory(meeting=table.meeting, kind=AgendaItem.Kind.DISCUSSION, position=1)
    table.facilitator, table.note_taker = table.note_taker, table.others[0]
    later = T0 + timedelta(days=7)
    present = [table.steward, table.note_taker, table.facilitator, table.others[1]]
    start(table, present=present, now=later)
    go_to(table, f"item:{item.pk}", now=later)

    second = round_robins.start_round_robin(meeting=table.meeting, item=item, by=table.facilitator, now=later)

    assert _names(second) == ["Nat Notes", "Ann", "Ben", "Stella Steward"]


def test_a_round_robin_is_held_on_the_item_the_meeting_is_on(table):
    with pytest.raises(MeetingError, match="the meeting is on"):
        _start(table, item=table.decision)
    with pytest.raises(MeetingError, match="closing evaluation step"):
        round_robins.start_round_robin(meeting=table.meeting, evaluation=True, by=table.facilitator, now=T0)
    with pytest.raises(MeetingError, match="agenda item or as the closing evaluation"):
        round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, now=T0)


def test_only_one_round_robin_goes_at_a_time(table):
    _start(table)

    with pytest.raises(MeetingError, match="still going"):
        _start(table)


def test_a_round_robin_needs_someone_present(alliance):
    table = round_table(alliance)
    start(table, present=[])
    go_to(table, f"item:{table.info.pk}")

    with pytest.raises(MeetingError, match="take attendance first"):
        _start(table)


def test_a_turn_time_box_must_be_reasonable(table):
    with pytest.raises(MeetingError, match="time box"):
        _start(table, turn_seconds=0)
    with pytest.raises(MeetingError, match="time box"):
        _start(table, turn_seconds=4000)


def test_only_the_facilitator_or_a_steward_starts_and_moves_a_round_robin(table):
    for member in (table.note_taker, table.others[0]):
        with pytest.raises(PermissionDenied):
            round_robins.start_round_robin(meeting=table.meeting, item=table.info, by=member, now=T0)
    round_robin = round_robins.start_round_robin(meeting=table.meeting, item=table.info, by=table.steward, now=T0)

    with pytest.raises(PermissionDenied):
        round_robins.next_speaker(round_robin=round_robin, by=table.note_taker, now=T0)
    with pytest.raises(PermissionDenied):
        round_robins.end_round_robin(round_robin=round_robin, by=table.others[2], now=T0)


def test_a_former_member_cannot_run_a_round_robin(table):
    round_robin = _start(table)
    table.steward.is_steward, table.steward.is_active = False, False
    table.steward.save(update_fields=["is_steward", "is_active"])

    with pytest.raises(PermissionDenied):
        round_robins.next_speaker(round_robin=round_robin, by=table.steward, now=T0)
    with pytest.raises(PermissionDenied):
        round_robins.pass_turn(round_robin=round_robin, by=table.steward, now=T0)


# --- Turns -----------------------------------------------------------------------------------------------


def test_each_turn_keeps_its_speaking_time(table):
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False) as traveller:
        round_robin = round_robins.start_round_robin(meeting=table.meeting, item=table.info, by=table.facilitator)
        traveller.shift(timedelta(seconds=75))
        round_robins.next_speaker(round_robin=round_robin, by=table.facilitator)
        traveller.shift(timedelta(seconds=40))
        round_robins.next_speaker(round_robin=round_robin, by=table.facilitator)

    first, second, third = Turn.objects.filter(round_robin=round_robin).order_by("position")[:3]
    assert (first.speaking_seconds, second.speaking_seconds, third.speaking_seconds) == (75, 40, None)
    assert third.started_at == T0 + timedelta(minutes=30, seconds=115)


def test_a_speaker_who_passes_is_marked_and_the_next_one_has_the_floor(table):
    round_robin = _start(table)

    round_robin = round_robins.pass_turn(round_robin=round_robin, by=table.facilitator, now=T0)

    turns = list(round_robin.turns.order_by("position")[:2])
    assert (turns[0].passed, turns[0].ended_at) == (True, T0)
    assert (turns[1].passed, turns[1].started_at) == (False, T0)
    assert round_robin.current_position == 1


def test_the_speaker_may_pass_their_own_turn_but_not_someone_elses(table):
    round_robin = _start(table)

    with pytest.raises(PermissionDenied):
        round_robins.pass_turn(round_robin=round_robin, by=table.others[0], now=T0)
    round_robin = round_robins.pass_turn(round_robin=round_robin, by=table.steward, now=T0)  # her turn
    assert round_robin.turns.get(member=table.steward).passed


def test_the_round_robin_ends_when_everyone_had_a_turn(table):
    round_robin = _start(table)
    for position in range(6):
        round_robin = _next(table, round_robin, expected_position=position)

    assert round_robin.ended_at == T0
    assert all(turn.ended_at == T0 for turn in round_robin.turns.all())
    with pytest.raises(MeetingError, match="over"):
        _next(table, round_robin)
    # The meeting can move on again.
    assert run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0).current_step == (
        f"item:{table.decision.pk}"
    )


def test_a_double_click_on_next_speaker_does_not_skip_anyone(table):
    round_robin = _start(table)
    _next(table, round_robin, expected_position=0)

    with pytest.raises(MeetingError, match="already moved on"):
        _next(table, round_robin, expected_position=0)
    assert RoundRobin.objects.get(pk=round_robin.pk).current_position == 1


def test_ending_a_round_robin_early_leaves_the_others_without_a_turn(table):
    round_robin = _start(table)
    _next(table, round_robin)

    round_robin = round_robins.end_round_robin(
        round_robin=round_robin, by=table.steward, now=T0 + timedelta(seconds=30)
    )

    assert round_robin.ended_at is not None
    assert [turn.ended_at is not None for turn in round_robin.turns.order_by("position")] == [True, True] + [False] * 4


def test_each_round_robin_move_raises_the_meeting_revision_by_one(table):
    def revision() -> int:
        return Meeting.objects.get(pk=table.meeting.pk).revision

    before = revision()
    round_robin = _start(table)
    assert revision() == before + 1
    _next(table, round_robin)
    assert revision() == before + 2
    round_robins.pass_turn(round_robin=round_robin, by=table.facilitator, now=T0)
    assert revision() == before + 3
    round_robins.end_round_robin(round_robin=round_robin, by=table.facilitator, now=T0)
    assert revision() == before + 4


# --- Thoughts and takeaways ------------------------------------------------------------------------------


def test_the_note_taker_records_a_speakers_thought(table):
    round_robin = _start(table)
    turn = round_robin.turns.get(position=0)

    turn = texts.record_thought(turn=turn, text="The fair should be free.", expected_version=0, by=table.note_taker)

    assert (turn.thought, turn.version) == ("The fair should be free.", 1)


def test_a_plain_member_cannot_record_a_thought_not_even_their_own(table):
    turn = _start(table).turns.get(member=table.others[0])

    with pytest.raises(PermissionDenied):
        texts.record_thought(turn=turn, text="Mine.", expected_version=0, by=table.others[0])


def _evaluation(table) -> RoundRobin:
    _next_to_evaluation(table)
    return round_robins.start_round_robin(meeting=table.meeting, evaluation=True, by=table.facilitator, now=T0)


def _next_to_evaluation(table) -> None:
    AgendaItem.objects.filter(pk=table.decision.pk).update(deferred_at=timezone.now())
    go_to(table, "evaluation")


def test_a_member_records_their_own_takeaway_and_rating(table):
    round_robin = _evaluation(table)
    turn = round_robin.turns.get(member=table.others[1])

    turn = texts.record_takeaway(
        turn=turn, text="We listened to each other.", rating=5, expected_version=0, by=table.others[1]
    )

    assert (turn.thought, turn.rating, turn.version) == ("We listened to each other.", 5, 1)
    # The autosave of the text alone keeps the rating; the member can take it back.
    turn = texts.record_takeaway(turn=turn, text="We listened.", expected_version=1, by=table.others[1])
    assert (turn.thought, turn.rating) == ("We listened.", 5)
    turn = texts.record_takeaway(turn=turn, text="We listened.", rating=None, expected_version=2, by=table.others[1])
    assert (turn.rating, turn.version) == (None, 3)
    assert round_robin.is_evaluation
    assert round_robin.item is None


def test_a_member_cannot_record_someone_elses_takeaway_but_the_note_taker_can(table):
    turn = _evaluation(table).turns.get(member=table.others[1])

    with pytest.raises(PermissionDenied):
        texts.record_takeaway(turn=turn, text="Not mine.", expected_version=0, by=table.others[2])
    turn = texts.record_takeaway(turn=turn, text="Ben: good pace.", expected_version=0, by=table.note_taker)
    assert turn.rating is None


def test_a_rating_is_from_one_to_five(table):
    turn = _evaluation(table).turns.get(member=table.others[1])

    with pytest.raises(MeetingError, match="1 to 5"):
        texts.record_takeaway(turn=turn, text="Great", rating=6, expected_version=0, by=table.others[1])
    with pytest.raises(IntegrityError):
        Turn.objects.filter(pk=turn.pk).update(rating=0)


def test_a_takeaway_belongs_to_the_closing_evaluation(table):
    turn = _start(table).turns.get(member=table.others[1])

    with pytest.raises(MeetingError, match="closing evaluation"):
        texts.record_takeaway(turn=turn, text="Good", rating=4, expected_version=0, by=table.others[1])
