"""The demo's meetings (`seed_demo`): the latest one held through the whole run of show, the next one ready."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alliances.models import Alliance
from meetings import live, run
from meetings.models import (
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    Proposal,
    RoundRobin,
    Stance,
    StepTime,
    Turn,
)
from outbox.models import Message
from tasks.models import Todo, TodoUpdate
from tasks.services import today_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Alliance:
    call_command("seed_demo", stdout=StringIO())
    return Alliance.objects.get(slug="barrio-readers")


def _held(alliance: Alliance) -> Meeting:
    return Meeting.objects.for_alliance(alliance).past(timezone.now()).first()


def test_the_latest_meeting_held_ran_through_the_whole_run_of_show_in_order(demo):
    held = _held(demo)

    assert held.status == Meeting.Status.ENDED
    assert held.started_at == held.starts_at
    assert held.starts_at < held.ended_at <= held.ends_at
    assert held.current_step == ""
    # Every step of its run of show had time spent on it, and they add up to the meeting's length.
    spent = dict(StepTime.objects.filter(meeting=held).values_list("key", "spent_seconds"))
    assert set(spent) == {step.key for step in live.live_state(held).steps}
    assert all(seconds > 0 for seconds in spent.values())
    assert sum(spent.values()) == (held.ended_at - held.started_at).total_seconds()


def test_the_meeting_held_has_its_roll_with_an_apology_and_a_late_arrival(demo):
    held = _held(demo)
    roll = {row.member_id: row for row in held.attendance.all()}

    assert set(roll) == set(demo.members.filter(is_active=True).values_list("pk", flat=True))
    statuses = sorted(row.status for row in roll.values())
    assert statuses == ["excused"] + ["present"] * 5
    excused = next(row for row in roll.values() if row.status == Attendance.Status.EXCUSED)
    assert held.apologies.get().member_id == excused.member_id
    late = [row for row in roll.values() if row.arrived_at is not None]
    assert len(late) == 1
    assert held.starts_at < late[0].arrived_at < held.ended_at


def test_the_decision_item_had_a_round_robin_with_a_pass_and_thoughts(demo):
    held = _held(demo)
    item = held.items.get(kind=AgendaItem.Kind.DECISION)
    round_robin = RoundRobin.objects.get(meeting=held, item=item)
    turns = list(round_robin.turns.order_by("position"))

    assert round_robin.ended_at is not None
    assert len(turns) == 5
    assert [turn.passed for turn in turns].count(True) == 1
    assert all(turn.thought and turn.version == 1 for turn in turns if not turn.passed)
    assert all(turn.speaking_seconds is not None for turn in turns)
    # The floor passed on in order, each turn starting when the one before ended.
    assert all(turns[n].ended_at == turns[n + 1].started_at for n in range(len(turns) - 1))
    assert item.discussion
    assert item.discussion_version == 1


def test_a_blocked_proposal_was_amended_to_consensus_with_one_stand_aside(demo):
    held = _held(demo)
    item = held.items.get(kind=AgendaItem.Kind.DECISION)
    first, amended = item.proposals.order_by("number")
    decision = Decision.objects.get(meeting=held)

    assert first.outcome == Proposal.Outcome.BLOCKED
    blocks = first.stances.filter(kind=Stance.Kind.BLOCK)
    assert blocks.count() == 1
    assert blocks.get().reason
    assert amended.outcome == Proposal.Outcome.CONSENSUS
    assert amended.number == 2
    assert amended.created_at > first.resolved_at
    asides = amended.stances.filter(kind=Stance.Kind.STAND_ASIDE)
    assert asides.count() == 1
    assert asides.get().reason
    assert amended.stances.filter(kind=Stance.Kind.AGREE).count() == 4
    assert decision.item == item
    assert decision.proposal == amended
    assert decision.text == amended.text
    assert Decision.objects.for_alliance(demo).first() == decision


def test_two_to_dos_came_from_the_decision_with_owners_and_due_dates_one_since_done(demo):
    held = _held(demo)
    todos = list(Todo.objects.filter(meeting=held).order_by("created_at"))

    assert len(todos) == 2
    assert {todo.item.kind for todo in todos} == {AgendaItem.Kind.DECISION}
    assert all(todo.owner.alliance_id == demo.pk and todo.due_on > held.starts_at.date() for todo in todos)
    assert [todo.status for todo in todos] == [Todo.Status.DONE, Todo.Status.OPEN]
    assert held.ended_at < todos[0].done_at < timezone.now()


def test_the_closing_evaluation_holds_five_takeaways_with_ratings(demo):
    held = _held(demo)
    evaluation = RoundRobin.objects.get(meeting=held, is_evaluation=True)
    takeaways = list(Turn.objects.filter(round_robin=evaluation))

    assert len(takeaways) == 5
    assert all(turn.thought and 1 <= turn.rating <= 5 for turn in takeaways)
    assert evaluation.ended_at <= held.ended_at


def test_the_next_meeting_was_set_at_the_meeting_held_and_is_ready_to_start(demo):
    held = _held(demo)
    upcoming = Meeting.objects.for_alliance(demo).upcoming(timezone.now()).get()

    assert held.next_meeting == upcoming
    assert upcoming.status == Meeting.Status.SCHEDULED
    assert upcoming.items.filter(kind=AgendaItem.Kind.DECISION).exists()
    assert upcoming.facilitator is not None
    assert upcoming.note_taker is not None
    # The roles rotated: neither holder of the meeting held holds the same role again.
    assert upcoming.facilitator_id != held.facilitator_id
    assert upcoming.note_taker_id != held.note_taker_id
    assert upcoming.reflection.source

    started = run.start_meeting(meeting=upcoming, by=upcoming.facilitator)

    assert started.status == Meeting.Status.IN_PROGRESS
    assert started.attendance.count() == demo.members.filter(is_active=True).count()


def test_running_the_demo_again_adds_nothing(demo):
    models = [Meeting, AgendaItem, Attendance, RoundRobin, Turn, Proposal, Stance, Decision, StepTime, Todo, TodoUpdate]
    before = {model: model.objects.count() for model in models}
    revisions = dict(Meeting.objects.values_list("pk", "revision"))

    call_command("seed_demo", stdout=StringIO())

    assert {model: model.objects.count() for model in models} == before
    assert dict(Meeting.objects.values_list("pk", "revision")) == revisions


def test_the_notes_of_the_meeting_held_were_sent_to_every_member_once(demo):
    held = _held(demo)

    assert held.notes_sent_at is not None
    assert held.notes_sent_by_id == held.note_taker_id
    assert not Meeting.objects.for_alliance(demo).awaiting_notes().exists()
    notes_message = Message.objects.get(key=f"meetings.notes:{held.pk}")
    assert notes_message.deliveries.count() == demo.members.filter(is_active=True).count()
    call_command("seed_demo", stdout=StringIO())
    assert Message.objects.filter(template="notes").count() == 1


def test_the_decision_log_holds_a_decision_of_every_meeting_held_in_english_and_in_spanish(demo, client):
    held = Meeting.objects.for_alliance(demo).filter(status=Meeting.Status.ENDED)
    decisions = list(Decision.objects.for_alliance(demo))

    assert len(decisions) == held.count() == 6
    assert {d.meeting_id for d in decisions} == set(held.values_list("pk", flat=True))
    # Newest first: the latest meeting's decision, then the earlier ones, each decided at its meeting.
    assert decisions[0].meeting_id == _held(demo).pk
    assert all(d.meeting.starts_at < d.decided_at < d.meeting.ends_at for d in decisions)
    assert all(d.proposal.outcome == Proposal.Outcome.CONSENSUS and d.text == d.proposal.text for d in decisions)
    assert Stance.objects.filter(proposal__decision__in=decisions[1:], kind=Stance.Kind.STAND_ASIDE).count() == 1

    client.force_login(demo.members.get(user__email="ben@example.org").user)
    url = f"/alliances/{demo.slug}/decisions/"
    found = client.get(url, {"q": "library"}).content.decode()
    assert "each pair meets once a week at the school library" in found
    assert "Book drive at the clinic" not in found
    client.force_login(demo.members.get(user__email="ana@example.org").user)
    found = client.get(url, {"q": "biblioteca"}).content.decode()
    assert "Compramos cuarenta libros ilustrados" in found
    assert "La hora del cuento será los sábados" in found


def test_the_demo_has_to_dos_in_every_state(demo):
    todos = Todo.objects.for_alliance(demo)
    today = today_for(demo)
    dropped, done = todos.get(status=Todo.Status.DROPPED), todos.filter(status=Todo.Status.DONE)

    assert dropped.drop_reason
    assert done.count() == 2
    assert all(t.done_at < timezone.now() for t in done)
    assert todos.overdue(today).exists()
    # Open and not yet due, with two progress updates by its owner since the meeting.
    going = todos.open().get(due_on__gte=today)
    updates = list(going.updates.order_by("created_at"))
    assert len(updates) == 2
    assert all(going.meeting.ends_at < u.created_at < timezone.now() for u in updates)
    assert {u.author_id for u in updates} == {going.owner_id}
    # Every to-do came from a meeting held, owned by a member of the alliance.
    assert all(t.meeting.status == Meeting.Status.ENDED and t.owner.alliance_id == demo.pk for t in todos)
