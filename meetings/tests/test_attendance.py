"""Attendance: the roll, late arrivals, and who may take it."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import attendance, run
from meetings.models import Attendance, Meeting
from meetings.services import MeetingError
from meetings.tests.factories import ApologyFactory
from meetings.tests.run_helpers import T0, round_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance):
    return round_table(alliance)


def _mark(table, member, status, *, by=None, minutes=0) -> Attendance:
    return attendance.mark_attendance(
        meeting=table.meeting,
        member=member,
        status=status,
        by=by or table.note_taker,
        now=T0 + timedelta(minutes=minutes),
    )


def test_whoever_is_marked_present_during_the_bonding_moment_is_on_time(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    row = _mark(table, table.others[0], "present", minutes=4)

    assert (row.status, row.arrived_at, row.marked_by) == ("present", None, table.note_taker)


def test_a_late_arrival_is_marked_present_with_the_time_they_arrived(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(minutes=10))
    run.go_to_next_step(meeting=table.meeting, by=table.facilitator, now=T0 + timedelta(minutes=15))

    row = _mark(table, table.others[1], "present", minutes=23)

    assert (row.status, row.arrived_at) == ("present", T0 + timedelta(minutes=23))
    # Marking them present again (a second click) keeps the time they arrived.
    assert _mark(table, table.others[1], "present", minutes=30).arrived_at == T0 + timedelta(minutes=23)
    # A mistake corrected: absent after all.
    assert _mark(table, table.others[1], "absent", minutes=31).arrived_at is None


def test_someone_who_sent_apologies_but_came_after_all_is_marked_present(table):
    ApologyFactory(meeting=table.meeting, member=table.others[2])
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    assert Attendance.objects.get(meeting=table.meeting, member=table.others[2]).status == "excused"

    assert _mark(table, table.others[2], "present").status == "present"


def test_the_roll_taken_before_the_start_stands_when_the_meeting_starts(table):
    _mark(table, table.others[0], "present", minutes=-5)

    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    roll = dict(Attendance.objects.filter(meeting=table.meeting).values_list("member_id", "status"))
    assert roll[table.others[0].pk] == "present"
    assert roll[table.others[1].pk] == "absent"
    assert len(roll) == len(table.everyone)


def test_the_facilitator_and_a_steward_may_take_attendance_but_not_a_plain_member(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    assert _mark(table, table.others[0], "present", by=table.facilitator).status == "present"
    assert _mark(table, table.others[1], "excused", by=table.steward).status == "excused"
    with pytest.raises(PermissionDenied):
        _mark(table, table.others[2], "present", by=table.others[0])
    with pytest.raises(PermissionDenied):
        _mark(table, table.others[0], "present", by=table.others[0])  # not even themselves


def test_a_note_taker_who_left_cannot_take_attendance(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    table.note_taker.is_active = False
    table.note_taker.save(update_fields=["is_active"])

    with pytest.raises(PermissionDenied):
        _mark(table, table.others[0], "present")


def test_only_active_members_of_the_alliance_are_marked(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)

    with pytest.raises(MeetingError, match="active members"):
        _mark(table, MemberFactory(alliance=AllianceFactory()), "present")
    with pytest.raises(MeetingError, match="active members"):
        _mark(table, MemberFactory(alliance=table.alliance, is_active=False), "present")
    with pytest.raises(MeetingError, match="present, absent or excused"):
        _mark(table, table.others[0], "asleep")


def test_a_cancelled_meeting_takes_no_attendance(table):
    Meeting.objects.filter(pk=table.meeting.pk).update(status=Meeting.Status.CANCELLED)

    with pytest.raises(MeetingError, match="cancelled"):
        _mark(table, table.others[0], "present")


def test_marking_attendance_raises_the_meeting_revision_by_one(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    before = Meeting.objects.get(pk=table.meeting.pk).revision

    _mark(table, table.others[0], "present")

    assert Meeting.objects.get(pk=table.meeting.pk).revision == before + 1


def test_the_present_members_come_in_the_alliance_order_without_former_members(table):
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=T0)
    for member in (table.others[2], table.steward, table.others[0]):
        _mark(table, member, "present")
    table.others[0].is_active = False
    table.others[0].save(update_fields=["is_active"])

    assert attendance.present_member_ids(table.meeting) == [table.steward.pk, table.others[2].pk]
