"""The benchmark's notes part: its data set (meetings/bench_notes.py) and the checks it makes of the copies
its SMTP server accepted (bench/notes_send.py)."""

import random

import pytest
from notes_send import Received, check_copies

from accounts.tests.factories import UserFactory
from alliances.management.commands.seed_bench import STEWARD_EMAIL
from meetings import bench_notes, notes
from meetings.models import Meeting
from outbox.models import Delivery
from tasks.models import Todo

pytestmark = pytest.mark.django_db


def test_the_alliance_is_made_once_and_each_run_gets_a_fresh_meeting_whose_notes_can_be_sent(
    django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(email=STEWARD_EMAIL)
    alliance, members = bench_notes.notes_alliance(members=40)
    again, same = bench_notes.notes_alliance(members=40)
    assert (again, [m.pk for m in same]) == (alliance, [m.pk for m in members])
    assert {m.user.language for m in members} == {"en", "es"}

    first = bench_notes.notes_meeting(alliance=alliance, members=members, rng=random.Random(1))
    second = bench_notes.notes_meeting(alliance=alliance, members=members, rng=random.Random(2))

    assert first.pk != second.pk
    for meeting in (first, second):
        assert (meeting.status, meeting.notes_sent_at) == (Meeting.Status.ENDED, None)
        assert meeting.next_meeting.status == Meeting.Status.SCHEDULED
        assert Todo.objects.filter(meeting=meeting, status=Todo.Status.OPEN).exists()
    with django_capture_on_commit_callbacks(execute=True):
        notes.notes_send(meeting=first, by=first.note_taker)
    assert len(mailoutbox) == 40
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def _copy(address: str, message_id: str, invitation: bool = True) -> Received:
    return Received(at=0.0, recipients=(address,), message_id=message_id.encode(), has_invitation=invitation)


def test_every_member_with_one_copy_is_no_problem():
    assert check_copies({"a@x.org", "b@x.org"}, [_copy("a@x.org", "<1@x>"), _copy("b@x.org", "<2@x>")]) == []


def test_a_copy_sent_twice_a_missing_one_a_stranger_and_one_without_invitation_are_problems():
    received = [
        _copy("a@x.org", "<1@x>"),
        _copy("a@x.org", "<1@x>"),  # sent again after a lost answer
        _copy("c@x.org", "<3@x>", invitation=False),
    ]

    problems = check_copies({"a@x.org", "b@x.org"}, received)

    assert len(problems) == 5
    assert any("1 members got no copy" in p for p in problems)
    assert any("more than one copy" in p for p in problems)
    assert any("no member" in p for p in problems)
    assert any("sent twice" in p for p in problems)
    assert any("without the next meeting's calendar invitation" in p for p in problems)
