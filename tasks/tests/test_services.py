import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connections

from alliances.tests.factories import MemberFactory
from meetings.models import Meeting
from meetings.services import MeetingError
from meetings.tests.factories import AgendaItemFactory, MeetingFactory
from meetings.tests.run_helpers import T0, Table, round_table, start
from tasks import services
from tasks.models import Todo
from tasks.services import TodoConflict, TodoError

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"


@pytest.fixture
def table(alliance) -> Table:
    return round_table(alliance)


def _capture(table: Table, **changes) -> Todo:
    ann = table.others[0]
    fields = {"alliance": table.alliance, "text": "Book the school hall", "owner": ann, "by": ann}
    return services.capture_todo(**{**fields, **changes})


# --- The default due date ------------------------------------------------------------------------------


def test_with_no_meeting_scheduled_a_to_do_is_due_a_week_from_today_where_the_alliance_is(table):
    table.alliance.time_zone = NEW_YORK
    table.alliance.save()
    table.meeting.delete()
    # Saturday 13 March, 23:30 in New York: already Sunday the 14th in UTC.
    with time_machine.travel(datetime(2027, 3, 14, 4, 30, tzinfo=UTC), tick=False):
        todo = _capture(table)

    assert todo.due_on == date(2027, 3, 20)


def test_a_to_do_is_due_the_day_before_the_next_meeting_across_the_clock_change(table):
    table.alliance.time_zone = NEW_YORK
    table.alliance.save()
    # Clocks go forward in New York on Sunday 14 March 2027. The next meeting is Monday 15 March at
    # 21:00 New York time (EDT), which is already Tuesday 16 March 01:00 in UTC.
    table.meeting.delete()
    MeetingFactory(alliance=table.alliance, starts_at=datetime(2027, 3, 16, 1, 0, tzinfo=UTC), time_zone=NEW_YORK)
    with time_machine.travel(datetime(2027, 3, 12, 15, 0, tzinfo=UTC), tick=False):
        todo = _capture(table)

    assert todo.due_on == date(2027, 3, 14)


def test_the_next_meetings_own_zone_sets_its_day_even_when_the_alliance_has_moved_zone(table):
    # The alliance reckons in UTC now; the meeting was scheduled in New York: 21:00 on Monday 15 March
    # there (EDT, after the clock change) is already Tuesday 01:00 in UTC.
    table.meeting.delete()
    MeetingFactory(alliance=table.alliance, starts_at=datetime(2027, 3, 16, 1, 0, tzinfo=UTC), time_zone=NEW_YORK)
    with time_machine.travel(datetime(2027, 3, 12, 15, 0, tzinfo=UTC), tick=False):
        todo = _capture(table)

    assert todo.due_on == date(2027, 3, 14)


def test_during_a_meeting_the_default_is_the_day_before_the_meeting_after_it(table):
    start(table)
    following = MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=14))
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=28))
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(days=7), status=Meeting.Status.CANCELLED)

    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        todo = _capture(table, meeting=table.meeting, item=table.decision, by=table.note_taker)

    assert todo.due_on == following.starts_at.date() - timedelta(days=1)
    assert (todo.meeting, todo.item, todo.created_by) == (table.meeting, table.decision, table.note_taker)


def test_a_next_meeting_today_gives_today_never_a_day_already_past(table):
    table.meeting.delete()
    MeetingFactory(alliance=table.alliance, starts_at=T0 + timedelta(hours=3))
    with time_machine.travel(T0, tick=False):
        todo = _capture(table)

    assert todo.due_on == T0.date()


def test_a_due_date_in_the_past_is_refused_and_today_where_the_alliance_is_accepted(table):
    table.alliance.time_zone = NEW_YORK
    table.alliance.save()
    late_evening = datetime(2027, 3, 14, 4, 30, tzinfo=UTC)  # 13 March, 23:30 in New York
    with time_machine.travel(late_evening, tick=False):
        with pytest.raises(TodoError, match="has already passed"):
            _capture(table, due_on=date(2027, 3, 12))
        todo = _capture(table, due_on=date(2027, 3, 13))

    assert todo.due_on == date(2027, 3, 13)
    assert Todo.objects.count() == 1


# --- Capturing -----------------------------------------------------------------------------------------


def test_capturing_in_a_meeting_raises_its_revision_for_the_live_pages(table):
    meeting = start(table)
    before = meeting.revision

    _capture(table, meeting=meeting, item=table.decision, by=table.note_taker)

    meeting.refresh_from_db()
    assert meeting.revision == before + 1


def test_in_a_meeting_only_the_facilitator_the_note_taker_and_stewards_write_down_to_dos(table):
    start(table)
    ann = table.others[0]
    for by in (table.note_taker, table.facilitator, table.steward):
        _capture(table, meeting=table.meeting, by=by)

    with pytest.raises(PermissionDenied):
        _capture(table, meeting=table.meeting, by=ann)
    assert Todo.objects.count() == 3


def test_any_member_adds_a_to_do_between_meetings_but_not_a_former_member_or_an_outsider(table):
    ann, ben = table.others[0], table.others[1]
    todo = _capture(table, owner=ben, by=ann)
    assert (todo.owner, todo.created_by, todo.meeting) == (ben, ann, None)

    ann.is_active = False
    ann.save()
    with pytest.raises(PermissionDenied):
        _capture(table, by=ann)
    with pytest.raises(PermissionDenied):
        _capture(table, by=MemberFactory())


def test_the_owner_must_be_an_active_member_of_the_alliance(table):
    former = MemberFactory(alliance=table.alliance, is_active=False)
    for owner in (former, MemberFactory()):
        with pytest.raises(TodoError, match="active member of the alliance"):
            _capture(table, owner=owner)
    assert not Todo.objects.exists()


def test_a_to_do_cannot_be_captured_in_a_meeting_that_has_not_started(table):
    with pytest.raises(MeetingError, match="not started"):
        _capture(table, meeting=table.meeting, by=table.note_taker)


def test_an_item_of_another_meeting_is_refused(table):
    start(table)
    elsewhere = AgendaItemFactory()
    with pytest.raises(TodoError, match="another meeting"):
        _capture(table, meeting=table.meeting, item=elsewhere, by=table.note_taker)


def test_a_to_do_captured_at_an_item_comes_from_that_items_meeting(table):
    start(table)
    todo = _capture(table, item=table.decision, by=table.note_taker)
    assert todo.meeting == table.meeting


def test_a_pasted_line_break_becomes_a_space_and_an_empty_or_overlong_text_is_refused(table):
    todo = _capture(table, text="  Book the hall\nand the  projector ")
    assert todo.text == "Book the hall and the projector"

    with pytest.raises(TodoError, match="Say what"):
        _capture(table, text=" \n ")
    with pytest.raises(TodoError, match="at most 500 characters"):
        _capture(table, text="x" * 501)


# --- Editing ------------------------------------------------------------------------------------------


def test_the_owner_the_meetings_note_taker_and_stewards_edit_a_to_do_and_nobody_else(table):
    start(table)
    ann, ben = table.others[0], table.others[1]
    todo = _capture(table, meeting=table.meeting, owner=ann, by=table.facilitator)

    for by in (ann, table.note_taker, table.steward):
        todo = services.update_todo(todo=todo, by=by, expected_version=todo.version, text=f"Edited by {by.pk}")
    assert todo.version == 3

    for by in (ben, table.facilitator, MemberFactory()):
        with pytest.raises(PermissionDenied):
            services.update_todo(todo=todo, by=by, expected_version=todo.version, text="Not mine to change")
    todo.refresh_from_db()
    assert todo.text == f"Edited by {table.steward.pk}"


def test_a_second_edit_from_the_same_version_is_refused_with_both_texts(table):
    todo = _capture(table)
    services.update_todo(todo=todo, by=table.steward, expected_version=0, text="Book the hall for June")

    with pytest.raises(TodoConflict) as conflict:
        services.update_todo(todo=todo, by=todo.owner, expected_version=0, text="Book the hall and chairs")

    assert conflict.value.theirs.text == "Book the hall for June"
    assert conflict.value.yours == "Book the hall and chairs"
    assert conflict.value.version == 1
    todo.refresh_from_db()
    assert (todo.text, todo.version) == ("Book the hall for June", 1)
    # Merged and sent with the version it was shown: saved.
    merged = services.update_todo(
        todo=todo, by=todo.owner, expected_version=conflict.value.version, text="Book the hall for June, and chairs"
    )
    assert (merged.text, merged.version) == ("Book the hall for June, and chairs", 2)


@pytest.mark.django_db(transaction=True)
def test_two_edits_saved_at_the_same_moment_keep_one_text_and_refuse_the_other(postgresql, table):
    todo = _capture(table)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(by, text: str) -> None:
        try:
            barrier.wait()
            services.update_todo(todo=Todo.objects.get(pk=todo.pk), by=by, expected_version=0, text=text)
            outcomes.append(text)
        except TodoConflict as conflict:
            outcomes.append(f"refused, theirs: {conflict.theirs.text}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=edit, args=(todo.owner, "Book the hall")),
        threading.Thread(target=edit, args=(table.steward, "Book the gym")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    todo.refresh_from_db()
    assert todo.version == 1
    assert sorted(outcomes) == sorted([todo.text, f"refused, theirs: {todo.text}"])


def test_an_overdue_to_do_keeps_its_date_when_its_text_changes_but_a_new_past_date_is_refused(table):
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        todo = _capture(table, due_on=T0.date() - timedelta(days=3))

    with time_machine.travel(T0, tick=False):
        todo = services.update_todo(todo=todo, by=todo.owner, expected_version=0, text="Book the gym instead")
        assert todo.due_on == T0.date() - timedelta(days=3)
        with pytest.raises(TodoError, match="has already passed"):
            services.update_todo(todo=todo, by=todo.owner, expected_version=1, due_on=T0.date() - timedelta(days=1))
        todo = services.update_todo(
            todo=todo, by=todo.owner, expected_version=1, due_on=T0.date() + timedelta(days=2), owner=table.others[1]
        )

    assert (todo.due_on, todo.owner, todo.version) == (T0.date() + timedelta(days=2), table.others[1], 2)


def test_a_to_do_cannot_be_handed_to_a_former_member(table):
    todo = _capture(table)
    former = MemberFactory(alliance=table.alliance, is_active=False)
    with pytest.raises(TodoError, match="active member"):
        services.update_todo(todo=todo, by=table.steward, expected_version=0, owner=former)


def test_an_edit_of_a_to_do_of_a_meeting_in_progress_shows_on_the_live_pages(table):
    meeting = start(table)
    todo = _capture(table, meeting=meeting, by=table.note_taker)
    meeting.refresh_from_db()
    before = meeting.revision

    services.update_todo(todo=todo, by=table.note_taker, expected_version=0, text="Book the hall for July")
    services.mark_done(todo=todo, by=todo.owner)

    meeting.refresh_from_db()
    assert meeting.revision == before + 2


# --- Done, dropped, reopened ---------------------------------------------------------------------------


def test_marking_done_twice_keeps_the_first_time_and_reopening_undoes_it(table):
    todo = _capture(table)
    first = services.mark_done(todo=todo, by=todo.owner, now=T0)
    again = services.mark_done(todo=todo, by=todo.owner, now=T0 + timedelta(hours=1))
    assert (again.status, again.done_at) == (Todo.Status.DONE, first.done_at)

    reopened = services.reopen(todo=todo, by=todo.owner)
    assert (reopened.status, reopened.done_at) == (Todo.Status.OPEN, None)


def test_dropping_needs_a_reason_and_a_done_to_do_is_reopened_before_it_is_dropped(table):
    todo = _capture(table)
    with pytest.raises(TodoError, match="Say why"):
        services.drop(todo=todo, reason="  ", by=todo.owner)
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN

    dropped = services.drop(todo=todo, reason="The fair was cancelled.", by=table.steward)
    assert (dropped.status, dropped.drop_reason) == (Todo.Status.DROPPED, "The fair was cancelled.")
    with pytest.raises(TodoError, match="dropped"):
        services.mark_done(todo=todo, by=todo.owner)

    services.reopen(todo=todo, by=todo.owner)
    services.mark_done(todo=todo, by=todo.owner)
    with pytest.raises(TodoError, match="is done"):
        services.drop(todo=todo, reason="Changed my mind", by=todo.owner)


def test_another_member_cannot_close_someone_elses_to_do(table):
    todo = _capture(table)
    with pytest.raises(PermissionDenied):
        services.mark_done(todo=todo, by=table.others[1])
    with pytest.raises(PermissionDenied):
        services.drop(todo=todo, reason="Not needed", by=table.others[1])
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN


def test_a_progress_update_is_kept_with_its_author_and_needs_words(table):
    todo = _capture(table)
    update = services.add_update(todo=todo, text=" Called the school; they say yes. ", by=todo.owner, now=T0)
    assert (update.text, update.author, update.created_at) == ("Called the school; they say yes.", todo.owner, T0)

    with pytest.raises(TodoError):
        services.add_update(todo=todo, text="   ", by=todo.owner)
    with pytest.raises(PermissionDenied):
        services.add_update(todo=todo, text="Me too", by=table.others[2])
    assert list(todo.updates.all()) == [update]
