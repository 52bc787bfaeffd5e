import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from alliances.tests.factories import MemberFactory
from meetings import consensus, run, services, steps
from meetings.consensus import Outcome, StanceLine
from meetings.models import AgendaItem, Decision, Meeting, Proposal, Stance
from meetings.services import MeetingError
from meetings.tests.factories import AgendaItemFactory, MeetingFactory
from meetings.tests.run_helpers import T0, Table, go_to, round_table, start
from tasks import services as todo_services

pytestmark = pytest.mark.django_db

AGREE, ASIDE, BLOCK = Stance.Kind.AGREE, Stance.Kind.STAND_ASIDE, Stance.Kind.BLOCK


@pytest.fixture
def table(alliance) -> Table:
    table = round_table(alliance)
    start(table)
    return table


def _propose(table: Table, text: str = "Hold the reading fair on 12 June in the school yard.") -> Proposal:
    return consensus.write_proposal(item=table.decision, text=text, by=table.note_taker)


def _stances(table: Table, proposal: Proposal, kinds: dict[str, tuple[str, str]] | None = None) -> None:
    """Everyone present agrees, except those named in `kinds` (display name → (kind, reason))."""
    kinds = kinds or {}
    for member in table.everyone:
        kind, reason = kinds.get(member.user.display_name, (AGREE, ""))
        consensus.record_stance(proposal=proposal, member=member, kind=kind, reason=reason, by=member)


def _revision(table: Table) -> int:
    table.meeting.refresh_from_db()
    return table.meeting.revision


# --- Outcomes -----------------------------------------------------------------------------------------


def test_a_block_gives_no_decision_and_the_meeting_cannot_move_past_the_item(table):
    proposal = _propose(table)
    _stances(table, proposal, {"Ben": (BLOCK, "The yard has no shade in June.")})

    resolved = consensus.resolve_check(proposal=proposal, by=table.facilitator)

    assert resolved.outcome == Proposal.Outcome.BLOCKED
    assert resolved.resolved_at is not None
    assert not Decision.objects.exists()
    assert not consensus.item_is_resolved(table.decision)
    go_to(table, steps.item_key(table.decision))
    with pytest.raises(MeetingError, match="no consensus yet"):
        run.go_to_next_step(meeting=table.meeting, by=table.facilitator)


def test_consensus_with_a_stand_aside_records_the_decision_listing_it(table):
    proposal = _propose(table)
    _stances(table, proposal, {"Cy": (ASIDE, "I cannot help that weekend, but I will not stop it.")})

    resolved = consensus.resolve_check(proposal=proposal, by=table.note_taker, now=T0 + timedelta(minutes=50))

    decision = Decision.objects.get()
    assert resolved.outcome == Proposal.Outcome.CONSENSUS
    assert (decision.alliance, decision.meeting, decision.item, decision.proposal) == (
        table.alliance,
        table.meeting,
        table.decision,
        proposal,
    )
    assert decision.text == "Hold the reading fair on 12 June in the school yard."
    assert decision.decided_at == T0 + timedelta(minutes=50)
    [row] = consensus.review(table.meeting).decisions
    assert row.outcome == Outcome.DECIDED
    assert row.stand_asides == [StanceLine("Cy", "I cannot help that weekend, but I will not stop it.")]
    assert row.blocks == []
    assert consensus.item_is_resolved(table.decision)


def test_standing_aside_or_blocking_without_a_reason_is_refused_and_nothing_is_saved(table):
    proposal = _propose(table)
    ben = table.others[1]

    with pytest.raises(MeetingError, match="Standing aside needs a reason"):
        consensus.record_stance(proposal=proposal, member=ben, kind=ASIDE, reason="   ", by=ben)
    with pytest.raises(MeetingError, match="A block needs a reason"):
        consensus.record_stance(proposal=proposal, member=ben, kind=BLOCK, by=table.note_taker)

    assert not Stance.objects.exists()


def test_an_amendment_is_a_new_version_and_every_version_keeps_its_stances(table):
    first = _propose(table)
    _stances(table, first, {"Ben": (BLOCK, "The yard has no shade in June.")})
    consensus.resolve_check(proposal=first, by=table.facilitator)

    second = consensus.amend_proposal(
        proposal=first, text="Hold the reading fair on 12 June in the library hall.", by=table.note_taker
    )
    _stances(table, second, {"Ben": (ASIDE, "I still prefer outdoors.")})
    consensus.resolve_check(proposal=second, by=table.facilitator)

    assert list(Proposal.objects.filter(item=table.decision).values_list("number", "outcome")) == [
        (1, Proposal.Outcome.BLOCKED),
        (2, Proposal.Outcome.CONSENSUS),
    ]
    assert first.stances.get(member=table.others[1]).kind == BLOCK
    assert first.stances.count() == second.stances.count() == len(table.everyone)
    assert Decision.objects.get().text == "Hold the reading fair on 12 June in the library hall."
    [row] = consensus.review(table.meeting).items
    assert (row.proposal, row.versions) == (second, 2)


def test_a_proposal_under_check_is_not_amended_and_only_the_latest_version_is(table):
    first = _propose(table)
    with pytest.raises(MeetingError, match="already under check"):
        consensus.amend_proposal(proposal=first, text="Another idea", by=table.note_taker)
    with pytest.raises(MeetingError, match="already under check"):
        _propose(table, "A second proposal at once")

    _stances(table, first, {"Ann": (BLOCK, "Too soon.")})
    consensus.resolve_check(proposal=first, by=table.facilitator)
    # Writing again after a block amends (the page's one proposal form does this).
    second = _propose(table, "In September instead.")
    assert second.number == 2
    _stances(table, second, {"Ann": (BLOCK, "Still too soon.")})
    consensus.resolve_check(proposal=second, by=table.facilitator)
    with pytest.raises(MeetingError, match="amend the latest version"):
        consensus.amend_proposal(proposal=first, text="Back to June", by=table.note_taker)


def test_resolving_with_missing_stances_says_who_is_missing(table):
    proposal = _propose(table)
    for member in table.everyone[:4]:
        consensus.record_stance(proposal=proposal, member=member, kind=AGREE, by=member)

    with pytest.raises(MeetingError, match=r"Still to come: Ben, Cy\."):
        consensus.resolve_check(proposal=proposal, by=table.facilitator)
    proposal.refresh_from_db()
    assert proposal.outcome == Proposal.Outcome.OPEN


def test_only_members_marked_present_count_and_take_a_stance(alliance):
    table = round_table(alliance)
    ann, ben, cy = table.others
    start(table, present=[table.facilitator, table.note_taker, ann, ben])
    proposal = _propose(table)

    with pytest.raises(MeetingError, match="You are not marked present"):
        consensus.record_stance(proposal=proposal, member=cy, kind=AGREE, by=cy)
    with pytest.raises(MeetingError, match="Cy is not marked present"):
        consensus.record_stance(proposal=proposal, member=cy, kind=AGREE, by=table.note_taker)
    for member in (table.facilitator, table.note_taker, ann, ben):
        consensus.record_stance(proposal=proposal, member=member, kind=AGREE, by=member)

    assert consensus.resolve_check(proposal=proposal, by=table.facilitator).outcome == Proposal.Outcome.CONSENSUS


def test_changing_ones_stance_before_the_check_is_resolved_replaces_it(table):
    proposal = _propose(table)
    ben = table.others[1]
    consensus.record_stance(proposal=proposal, member=ben, kind=BLOCK, reason="Not in June.", by=ben)
    consensus.record_stance(proposal=proposal, member=ben, kind=AGREE, by=ben)

    stance = Stance.objects.get(proposal=proposal, member=ben)
    assert (stance.kind, stance.reason) == (AGREE, "")


def test_the_note_taker_records_anyones_stance_and_a_plain_member_only_their_own(table):
    proposal = _propose(table)
    ann, ben, _cy = table.others

    consensus.record_stance(proposal=proposal, member=ben, kind=AGREE, by=table.note_taker)
    consensus.record_stance(proposal=proposal, member=ann, kind=AGREE, by=ann)
    with pytest.raises(PermissionDenied):
        consensus.record_stance(proposal=proposal, member=ben, kind=BLOCK, reason="Ann says no", by=ann)

    stance = Stance.objects.get(proposal=proposal, member=ben)
    assert (stance.kind, stance.recorded_by) == (AGREE, table.note_taker)


def test_a_former_member_can_neither_record_a_stance_nor_have_one_recorded(table):
    proposal = _propose(table)
    ann = table.others[0]
    ann.is_active = False
    ann.save()

    with pytest.raises(PermissionDenied):
        consensus.record_stance(proposal=proposal, member=ann, kind=AGREE, by=ann)
    with pytest.raises(MeetingError, match="Only members of the alliance"):
        consensus.record_stance(proposal=proposal, member=ann, kind=AGREE, by=table.note_taker)
    with pytest.raises(PermissionDenied):
        consensus.record_stance(proposal=proposal, member=table.others[1], kind=AGREE, by=MemberFactory())
    assert not Stance.objects.exists()


def test_a_former_member_no_longer_counts_in_the_check(table):
    proposal = _propose(table)
    cy = table.others[2]
    for member in table.everyone:
        if member != cy:
            consensus.record_stance(proposal=proposal, member=member, kind=AGREE, by=member)
    cy.is_active = False
    cy.save()

    assert consensus.resolve_check(proposal=proposal, by=table.facilitator).outcome == Proposal.Outcome.CONSENSUS


def test_a_plain_member_cannot_write_a_proposal_resolve_the_check_or_defer(table):
    ann = table.others[0]
    with pytest.raises(PermissionDenied):
        consensus.write_proposal(item=table.decision, text="My idea", by=ann)
    proposal = _propose(table)
    _stances(table, proposal)
    with pytest.raises(PermissionDenied):
        consensus.resolve_check(proposal=proposal, by=ann)
    with pytest.raises(PermissionDenied):
        consensus.defer_item(item=table.decision, by=ann)
    # The stewards can.
    assert consensus.resolve_check(proposal=proposal, by=table.steward).outcome == Proposal.Outcome.CONSENSUS


def test_proposals_are_written_in_a_meeting_in_progress_only(alliance):
    table = round_table(alliance)
    with pytest.raises(MeetingError, match="not started"):
        _propose(table)
    start(table)
    consensus.defer_item(item=table.decision, by=table.facilitator)
    go_to(table, steps.LAST)
    run.end_meeting(meeting=table.meeting, by=table.facilitator)
    with pytest.raises(MeetingError, match="has ended"):
        _propose(table)


def test_every_write_raises_the_meetings_revision(table):
    before = _revision(table)
    proposal = _propose(table)
    assert _revision(table) == before + 1
    consensus.record_stance(proposal=proposal, member=table.others[0], kind=AGREE, by=table.others[0])
    assert _revision(table) == before + 2
    _stances(table, proposal)
    after_stances = _revision(table)
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    assert _revision(table) == after_stances + 1


def test_a_decided_item_takes_no_new_proposal_and_cannot_be_deferred(table):
    proposal = _propose(table)
    _stances(table, proposal)
    consensus.resolve_check(proposal=proposal, by=table.facilitator)

    with pytest.raises(MeetingError, match="decided already"):
        _propose(table, "Second thoughts")
    with pytest.raises(MeetingError, match="decided already"):
        consensus.defer_item(item=table.decision, by=table.facilitator)


# --- Deferral -----------------------------------------------------------------------------------------


def test_deferring_carries_the_item_to_the_end_of_the_next_scheduled_meetings_agenda(table):
    table.decision.description = "Where and when to hold the fair."
    table.decision.presenter = table.others[0]
    table.decision.save()
    following = MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=14))
    AgendaItemFactory(meeting=following, position=1)
    AgendaItemFactory(meeting=following, position=2)
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=28))
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=7), status=Meeting.Status.CANCELLED)
    before = _revision(table)

    deferred = consensus.defer_item(item=table.decision, by=table.facilitator, now=T0 + timedelta(minutes=55))

    carried = AgendaItem.objects.get(carried_from=table.decision)
    assert deferred.deferred_at == T0 + timedelta(minutes=55)
    assert carried.meeting == following
    assert (carried.title, carried.description, carried.kind, carried.presenter, carried.minutes) == (
        "Summer reading fair",
        "Where and when to hold the fair.",
        AgendaItem.Kind.DECISION,
        table.others[0],
        table.decision.minutes,
    )
    assert list(following.items.on_agenda()).index(carried) == 2
    assert _revision(table) == before + 1
    assert consensus.item_is_resolved(deferred)
    with pytest.raises(MeetingError, match="deferred"):
        consensus.defer_item(item=table.decision, by=table.facilitator)
    assert AgendaItem.objects.filter(carried_from=table.decision).count() == 1


def test_an_item_deferred_before_the_next_meeting_exists_is_carried_when_it_is_scheduled(table):
    proposal = _propose(table)
    _stances(table, proposal, {"Ben": (BLOCK, "The yard has no shade in June.")})
    consensus.resolve_check(proposal=proposal, by=table.facilitator)

    consensus.defer_item(item=table.decision, by=table.note_taker)
    assert not AgendaItem.objects.filter(carried_from=table.decision).exists()
    go_to(table, steps.LAST)  # the gate lets a deferred item pass

    following = services.meeting_schedule(
        alliance=table.alliance,
        by=table.steward,
        starts_at=T0 + timedelta(days=14),
        duration_minutes=90,
        facilitator=table.note_taker,
        note_taker=table.others[0],
        now=T0 + timedelta(minutes=80),
    )
    [carried] = following.items.on_agenda()
    assert (carried.carried_from, carried.title) == (table.decision, "Summer reading fair")
    # Carried once: the meeting after that does not get it again.
    later = services.meeting_schedule(
        alliance=table.alliance,
        by=table.steward,
        starts_at=T0 + timedelta(days=28),
        duration_minutes=90,
        facilitator=table.others[0],
        note_taker=table.others[1],
        now=T0 + timedelta(minutes=81),
    )
    assert not later.items.exists()
    [row] = consensus.review(table.meeting).items
    assert (row.outcome, row.carried_to, row.blocks) == (
        Outcome.DEFERRED,
        following,
        [StanceLine("Ben", "The yard has no shade in June.")],
    )


def test_item_is_resolved_for_other_items_decided_and_deferred_ones_only(table):
    assert consensus.item_is_resolved(table.info)
    assert not consensus.item_is_resolved(table.decision)
    proposal = _propose(table)
    assert not consensus.item_is_resolved(table.decision)
    _stances(table, proposal)
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    assert consensus.item_is_resolved(table.decision)


# --- Concurrent writers (PostgreSQL) -------------------------------------------------------------------


def _at_once(*calls: Callable[[], object]) -> list[BaseException]:
    """Run the calls in threads released together; return what they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run_one(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except Exception as exc:  # collected for the test to assert on
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_one, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_six_stances_sent_at_once_from_six_phones_are_all_kept(postgresql, table):
    proposal = _propose(table)
    before = _revision(table)

    errors = _at_once(
        *(
            (lambda m=member: consensus.record_stance(proposal=proposal, member=m, kind=AGREE, by=m))
            for member in table.everyone
        )
    )

    assert errors == []
    assert proposal.stances.count() == len(table.everyone)
    assert _revision(table) == before + len(table.everyone)


@pytest.mark.django_db(transaction=True)
def test_an_item_deferred_while_the_next_meeting_is_being_scheduled_is_carried_exactly_once(postgresql, table):
    def defer() -> None:
        consensus.defer_item(item=table.decision, by=table.facilitator, now=T0 + timedelta(minutes=50))

    def schedule() -> None:
        services.meeting_schedule(
            alliance=table.alliance,
            by=table.steward,
            starts_at=T0 + timedelta(days=14),
            duration_minutes=90,
            facilitator=table.others[0],
            note_taker=table.others[1],
            now=T0 + timedelta(minutes=50),
        )

    assert _at_once(defer, schedule) == []
    following = Meeting.objects.get(starts_at=T0 + timedelta(days=14))
    assert list(following.items.values_list("carried_from", flat=True)) == [table.decision.pk]


# --- The review ---------------------------------------------------------------------------------------


def _decide(table: Table, item: AgendaItem, n: int) -> None:
    proposal = consensus.write_proposal(item=item, text=f"Proposal {n}", by=table.note_taker)
    _stances(table, proposal, {"Cy": (ASIDE, f"Reason {n}")})
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    todo_services.capture_todo(
        alliance=table.alliance, item=item, text=f"To-do {n}", owner=table.others[n % 3], by=table.note_taker
    )


def test_the_review_reads_a_constant_number_of_queries_whatever_it_holds(table, django_assert_num_queries):
    _decide(table, table.decision, 0)
    with django_assert_num_queries(5):
        small = consensus.review(table.meeting)

    for n in range(1, 6):
        item = AgendaItemFactory(meeting=table.meeting, kind=AgendaItem.Kind.DECISION, position=10 + n)
        _decide(table, item, n)
    deferred = AgendaItemFactory(meeting=table.meeting, kind=AgendaItem.Kind.DECISION, position=20)
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=14))
    consensus.defer_item(item=deferred, by=table.facilitator)
    with django_assert_num_queries(5):
        big = consensus.review(table.meeting)
        rows = [(r.item.title, r.outcome, r.stand_asides, r.carried_to) for r in big.items]
        todos = [(t.text, t.owner.user.display_name, t.due_on, t.item.title) for t in big.todos]

    assert len(small.decisions) == 1
    assert len(big.decisions) == 6
    assert len(rows) == 7
    assert len(todos) == 6
    assert big.decisions[1].stand_asides == [StanceLine("Cy", "Reason 1")]
