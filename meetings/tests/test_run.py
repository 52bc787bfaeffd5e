"""The run of show: starting a meeting, its steps back and forth, ending it, and what the live pages read."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import consensus, live, round_robins, run, sending, services, steps
from meetings.models import AgendaItem, AgendaSegment, Attendance, Decision, Meeting, Proposal, StepTime
from meetings.services import MeetingError
from meetings.tests.factories import AgendaItemFactory, ApologyFactory, MeetingFactory
from meetings.tests.run_helpers import T0, go_to, round_table, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance):
    return round_table(alliance)


def _keys(table) -> list[str]:
    return [
        "bonding",
        "reflection",
        "agenda_review",
        f"item:{table.info.pk}",
        f"item:{table.decision.pk}",
        "decisions_review",
        "next_meeting",
        "evaluation",
    ]


def _defer(item: AgendaItem) -> None:
    AgendaItem.objects.filter(pk=item.pk).update(deferred_at=T0)


# --- Steps -----------------------------------------------------------------------------------------------


def test_the_steps_follow_the_process_with_the_items_in_agenda_order_and_their_time_boxes(table):
    AgendaSegment.objects.create(meeting=table.meeting, kind="bonding", minutes=15)
    AgendaItemFactory(meeting=table.meeting, title="Not accepted", status=AgendaItem.Status.PROPOSED, position=0)

    run_of_show = steps.for_meeting(table.meeting)

    assert [step.key for step in run_of_show] == _keys(table)
    assert run_of_show[0].minutes == 15  # the meeting's own segment minutes
    assert run_of_show[1].minutes == 5  # the default where the meeting has no segment row
    assert run_of_show[4].is_decision
    assert run_of_show[4].item == table.decision
    assert run_of_show[4].minutes == table.decision.minutes


# --- Start -----------------------------------------------------------------------------------------------


def test_starting_puts_everyone_on_the_bonding_step_with_the_roll_ready(table):
    ApologyFactory(meeting=table.meeting, member=table.others[0])
    gone = MemberFactory(alliance=table.alliance, is_active=False)
    before = table.meeting.revision

    meeting = run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    assert meeting.status == Meeting.Status.IN_PROGRESS
    assert (meeting.started_at, meeting.started_by, meeting.current_step) == (T0, table.facilitator, "bonding")
    assert meeting.step_started_at == T0
    assert meeting.revision == before + 1
    roll = dict(Attendance.objects.filter(meeting=meeting).values_list("member_id", "status"))
    assert roll == {
        **{member.pk: "absent" for member in table.everyone},
        table.others[0].pk: "excused",
    }
    assert gone.pk not in roll


def test_starting_twice_is_refused(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    with pytest.raises(MeetingError, match="already started"):
        run.start_meeting(meeting=table.meeting, by=table.steward, now=T0)


def test_a_cancelled_meeting_cannot_be_started(table):
    Meeting.objects.filter(pk=table.meeting.pk).update(status=Meeting.Status.CANCELLED)

    with pytest.raises(MeetingError, match="cancelled"):
        run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)


def test_a_steward_can_start_a_meeting_but_a_plain_member_or_the_note_taker_cannot(table):
    for member in (table.others[0], table.note_taker):
        with pytest.raises(PermissionDenied):
            run.start_meeting(meeting=table.meeting, by=member, now=T0)

    assert run.start_meeting(meeting=table.meeting, by=table.steward, now=T0).status == Meeting.Status.IN_PROGRESS


def test_a_member_of_another_alliance_cannot_start_it(table):
    stranger = MemberFactory(alliance=AllianceFactory(), is_steward=True)

    with pytest.raises(PermissionDenied):
        run.start_meeting(meeting=table.meeting, by=stranger, now=T0)


def test_a_facilitator_who_left_can_do_nothing_any_more(table):
    start(table)
    table.facilitator.is_active = False
    table.facilitator.save(update_fields=["is_active"])

    with pytest.raises(PermissionDenied):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)
    with pytest.raises(PermissionDenied):
        run.go_to_previous_step(meeting=table.meeting, by=table.facilitator, now=T0)
    with pytest.raises(PermissionDenied):
        run.end_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    assert Meeting.objects.get(pk=table.meeting.pk).current_step == "bonding"


def test_a_meeting_started_before_its_time_can_no_longer_be_cancelled_or_rescheduled(table):
    early = T0 - timedelta(minutes=10)
    start(table, now=early)

    with pytest.raises(MeetingError, match="already started"):
        services.meeting_cancel(meeting=table.meeting, by=table.steward, now=early)
    with pytest.raises(MeetingError, match="already started"):
        services.apology_send(meeting=table.meeting, member=table.others[0], now=early)
    assert Meeting.objects.get(pk=table.meeting.pk).status == Meeting.Status.IN_PROGRESS


# --- Moving between steps --------------------------------------------------------------------------------


def test_the_facilitator_moves_forward_through_every_step_and_back(table):
    start(table)
    _defer(table.decision)
    keys = _keys(table)

    visited = [table.meeting.current_step]
    for _step in keys[1:]:
        visited.append(run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0).current_step)
    assert visited == keys

    back = [run.go_to_previous_step(meeting=table.meeting, by=table.steward, now=T0).current_step for _k in keys[1:]]
    assert back == list(reversed(keys[:-1]))


def test_there_is_nothing_before_the_first_step_or_after_the_last(table):
    start(table)
    _defer(table.decision)

    with pytest.raises(MeetingError, match="first step"):
        run.go_to_previous_step(meeting=table.meeting, by=table.facilitator, now=T0)
    go_to(table, "evaluation")
    with pytest.raises(MeetingError, match="last step"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)


def test_a_plain_member_cannot_move_the_meeting(table):
    start(table)

    with pytest.raises(PermissionDenied):
        run.go_to_next_step(meeting=table.meeting, by=table.others[0], now=T0)
    with pytest.raises(PermissionDenied):
        run.go_to_next_step(meeting=table.meeting, by=table.note_taker, now=T0)
    assert Meeting.objects.get(pk=table.meeting.pk).current_step == "bonding"


def test_a_meeting_that_has_not_started_does_not_move(table):
    with pytest.raises(MeetingError, match="not started"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)


def test_a_second_click_from_a_page_that_has_not_caught_up_does_not_move_the_meeting_twice(table):
    start(table)
    run.go_to_next_step(meeting=table.meeting, by=table.facilitator, expected_step="bonding", now=T0)

    with pytest.raises(MeetingError, match="already moved on"):
        run.go_to_next_step(meeting=table.meeting, by=table.steward, expected_step="bonding", now=T0)
    assert Meeting.objects.get(pk=table.meeting.pk).current_step == "reflection"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_clicks_on_next_step_move_the_meeting_once(postgresql, table):
    """The facilitator and a steward click at the same moment: the meeting row's lock lets one through."""
    start(table)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click(by) -> None:
        try:
            barrier.wait()
            run.go_to_next_step(meeting=Meeting.objects.get(pk=table.meeting.pk), by=by, expected_step="bonding")
            outcomes.append("moved")
        except MeetingError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(by,)) for by in (table.facilitator, table.steward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["moved", "refused"]
    assert Meeting.objects.get(pk=table.meeting.pk).current_step == "reflection"


def test_the_time_spent_on_a_step_adds_up_across_visits(table):
    start(table)
    run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(seconds=300))
    run.go_to_previous_step(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(seconds=420))
    run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(seconds=450))

    spent = dict(StepTime.objects.filter(meeting=table.meeting).values_list("key", "spent_seconds"))
    assert spent == {"bonding": 330, "reflection": 120}


def test_the_meeting_cannot_move_while_a_round_robin_is_going(table):
    start(table)
    go_to(table, f"item:{table.info.pk}")
    round_robins.start_round_robin(meeting=table.meeting, item=table.info, by=table.facilitator, now=T0)

    with pytest.raises(MeetingError, match="round robin is still going"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)
    with pytest.raises(MeetingError, match="round robin is still going"):
        run.go_to_previous_step(meeting=table.meeting, by=table.facilitator, now=T0)


def test_when_the_current_item_is_taken_off_the_agenda_next_leads_to_the_first_item_still_on_it(table):
    start(table)
    go_to(table, f"item:{table.info.pk}")
    AgendaItem.objects.filter(pk=table.info.pk).update(status=AgendaItem.Status.DECLINED)

    moved = run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)

    assert moved.current_step == f"item:{table.decision.pk}"


# --- The consensus gate ----------------------------------------------------------------------------------


def _at_the_decision(table) -> None:
    start(table, present=[table.facilitator, table.note_taker, table.others[0]])
    go_to(table, f"item:{table.decision.pk}")


def _check(table, proposal: Proposal, kinds: list[tuple[str, str]]) -> Proposal:
    for member, (kind, reason) in zip([table.facilitator, table.note_taker, table.others[0]], kinds, strict=True):
        consensus.record_stance(proposal=proposal, member=member, kind=kind, reason=reason, by=table.note_taker)
    return consensus.resolve_check(proposal=proposal, by=table.note_taker)


def test_the_meeting_cannot_move_past_a_decision_item_whose_check_is_unresolved_but_can_go_back(table):
    _at_the_decision(table)
    with pytest.raises(MeetingError, match="no consensus yet"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)

    proposal = consensus.write_proposal(item=table.decision, text="Hold the fair in June.", by=table.note_taker)
    with pytest.raises(MeetingError, match="no consensus yet"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)
    blocked = _check(table, proposal, [("agree", ""), ("agree", ""), ("block", "June is exam month.")])
    assert blocked.outcome == Proposal.Outcome.BLOCKED
    with pytest.raises(MeetingError, match="no consensus yet"):
        run.go_to_next_step(meeting=table.meeting, by=table.steward, now=T0)

    back = run.go_to_previous_step(meeting=table.meeting, by=table.facilitator, now=T0)
    assert back.current_step == f"item:{table.info.pk}"


def test_an_amended_proposal_that_reaches_consensus_lets_the_meeting_move_on(table):
    _at_the_decision(table)
    first = consensus.write_proposal(item=table.decision, text="Hold the fair in June.", by=table.note_taker)
    _check(table, first, [("agree", ""), ("agree", ""), ("block", "June is exam month.")])
    amended = consensus.amend_proposal(proposal=first, text="Hold the fair in July.", by=table.note_taker)
    _check(table, amended, [("agree", ""), ("stand_aside", "I am away in July."), ("agree", "")])

    moved = run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0)

    assert moved.current_step == "decisions_review"
    assert Decision.objects.get(item=table.decision).text == "Hold the fair in July."


def test_a_deferred_decision_item_lets_the_meeting_move_on(table):
    _at_the_decision(table)
    consensus.defer_item(item=table.decision, by=table.facilitator)

    assert run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0).current_step == "decisions_review"


# --- End -------------------------------------------------------------------------------------------------


def test_the_meeting_ends_only_from_its_closing_evaluation(table):
    start(table)
    _defer(table.decision)

    with pytest.raises(MeetingError, match="closing evaluation"):
        run.end_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    go_to(table, "evaluation")
    ended = run.end_meeting(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(minutes=85))

    assert ended.status == Meeting.Status.ENDED
    assert (ended.ended_at, ended.ended_by, ended.current_step) == (T0 + timedelta(minutes=85), table.facilitator, "")
    assert StepTime.objects.get(meeting=ended, key="evaluation").spent_seconds == 85 * 60
    with pytest.raises(MeetingError, match="has ended"):
        run.go_to_previous_step(meeting=ended, by=table.facilitator, now=T0)
    with pytest.raises(MeetingError, match="already started"):
        run.start_meeting(meeting=ended, by=table.facilitator, now=T0)


def test_a_meeting_held_before_its_scheduled_time_is_no_longer_the_next_meeting(client, table):
    """Groups may begin early. Once started, and once ended, the meeting is not "upcoming" any more: the
    alliance's page shows the one after it, and its facilitator is not reminded to send its agenda."""
    following = MeetingFactory(
        alliance=table.alliance,
        starts_at=T0 + timedelta(weeks=4),
        facilitator=table.others[0],
        note_taker=table.others[1],
    )
    early = T0 - timedelta(days=2)
    upcoming = Meeting.objects.for_alliance(table.alliance).upcoming
    assert list(upcoming(early)) == [table.meeting, following]
    assert table.meeting.pk in sending.meetings_due_agenda_reminder(now=early)

    start(table, now=early)
    assert list(upcoming(early)) == [following]
    _defer(table.decision)
    go_to(table, steps.LAST, now=early)
    run.end_meeting(meeting=table.meeting, by=table.facilitator, now=early + timedelta(minutes=80))

    assert list(upcoming(early + timedelta(minutes=80))) == [following]
    assert table.meeting.pk not in sending.meetings_due_agenda_reminder(now=early + timedelta(minutes=80))
    client.force_login(table.others[2].user)
    page = client.get(reverse("alliances:alliance_detail", kwargs={"slug": table.alliance.slug})).content.decode()
    assert "Facilitator: Ann · Note taker: Ben" in page


def test_a_plain_member_cannot_end_the_meeting(table):
    start(table)
    _defer(table.decision)
    go_to(table, "evaluation")

    with pytest.raises(PermissionDenied):
        run.end_meeting(meeting=table.meeting, by=table.others[1], now=T0)


def test_every_write_of_the_run_of_show_raises_the_revision_by_one(table):
    _defer(table.decision)
    by = table.facilitator

    def raises_by_one(write) -> None:
        before = Meeting.objects.get(pk=table.meeting.pk).revision
        write()
        assert Meeting.objects.get(pk=table.meeting.pk).revision == before + 1

    raises_by_one(lambda: run.start_meeting(meeting=table.meeting, by=by, now=T0))
    raises_by_one(lambda: run.go_to_next_step(meeting=table.meeting, by=by, now=T0))
    raises_by_one(lambda: run.go_to_previous_step(meeting=table.meeting, by=by, now=T0))
    for _step in range(7):
        raises_by_one(lambda: run.go_to_next_step(meeting=table.meeting, by=by, now=T0))
    raises_by_one(lambda: run.end_meeting(meeting=table.meeting, by=by, now=T0))


# --- The live state --------------------------------------------------------------------------------------


def test_the_live_state_shows_the_step_its_time_the_meeting_time_the_speaker_and_the_latest_decision(table):
    start(table)
    go_to(table, f"item:{table.decision.pk}", now=T0 + timedelta(minutes=20))
    round_robins.start_round_robin(
        meeting=table.meeting,
        item=table.decision,
        by=table.facilitator,
        turn_seconds=90,
        now=T0 + timedelta(minutes=21),
    )
    proposal = Proposal.objects.create(item=table.info, number=1, text="Share the news.", outcome="consensus")
    Decision.objects.create(
        alliance=table.alliance, meeting=table.meeting, item=table.info, proposal=proposal, text="Share the news."
    )
    meeting = Meeting.objects.get(pk=table.meeting.pk)

    state = live.live_state(meeting, now=T0 + timedelta(minutes=22))

    assert state.step.key == f"item:{table.decision.pk}"
    assert state.step_index == 4
    assert state.step_box_seconds == table.decision.minutes * 60
    assert state.step_seconds == 120
    assert (state.elapsed_seconds, state.duration_seconds) == (22 * 60, 90 * 60)
    assert state.speaker == table.steward  # the first to have joined speaks first the first time
    assert state.next_speaker == table.facilitator
    assert state.turn_remaining_seconds == 30
    assert state.latest_decision.text == "Share the news."
    assert state.revision == meeting.revision


def test_the_live_state_reads_in_the_same_few_queries_however_big_the_meeting(table, django_assert_max_num_queries):
    start(table)
    for n in range(30):
        AgendaItemFactory(meeting=table.meeting, title=f"Item {n}", position=10 + n)
    for _n in range(30):
        MemberFactory(alliance=table.alliance)
    go_to(table, f"item:{table.info.pk}")
    round_robins.start_round_robin(meeting=table.meeting, item=table.info, by=table.facilitator, now=T0)
    meeting = Meeting.objects.get(pk=table.meeting.pk)

    with django_assert_max_num_queries(5):
        state = live.live_state(meeting)
        assert [state.speaker.user.display_name, state.next_speaker.user.display_name, len(state.steps)] == [
            "Stella Steward",
            "Fay Facilitator",
            38,
        ]


def test_the_live_state_of_a_meeting_not_yet_started_has_no_step(table):
    state = live.live_state(table.meeting, now=timezone.now())

    assert (state.step, state.step_seconds, state.elapsed_seconds, state.speaker) == (None, 0, 0, None)


def test_the_revision_is_read_in_one_query_and_only_within_the_alliance(table, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert live.revision_of(table.meeting.pk, alliance_id=table.alliance.pk) == table.meeting.revision
    assert live.revision_of(table.meeting.pk, alliance_id=AllianceFactory().pk) is None


def test_the_step_time_of_the_current_step_counts_live(table):
    with time_machine.travel(T0, tick=False) as traveller:
        start(table, now=timezone.now())
        traveller.shift(timedelta(seconds=40))
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator)
        traveller.shift(timedelta(seconds=25))
        run.go_to_previous_step(meeting=table.meeting, by=table.facilitator)
        traveller.shift(timedelta(seconds=5))

        state = live.live_state(Meeting.objects.get(pk=table.meeting.pk))

    assert (state.step.key, state.step_seconds, state.elapsed_seconds) == ("bonding", 45, 70)
