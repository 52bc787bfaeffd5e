from datetime import date

import pytest
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from alliances.tests.factories import MemberFactory
from tasks.models import Todo
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 10)


def test_a_dropped_to_do_without_a_reason_is_refused_by_the_database(alliance):
    todo = TodoFactory(alliance=alliance)
    with pytest.raises(IntegrityError), transaction.atomic():
        Todo.objects.filter(pk=todo.pk).update(status=Todo.Status.DROPPED, drop_reason="")


def test_a_done_to_do_keeps_when_it_was_done_and_an_open_one_has_no_such_time(alliance):
    todo = TodoFactory(alliance=alliance)
    with pytest.raises(IntegrityError), transaction.atomic():
        Todo.objects.filter(pk=todo.pk).update(status=Todo.Status.DONE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Todo.objects.filter(pk=todo.pk).update(done_at=timezone.now())


@pytest.mark.parametrize("text", ["", "Book the room\nand the projector", "x" * 501])
def test_a_to_do_is_one_line_of_at_most_500_characters_in_the_database(alliance, text):
    # PostgreSQL's varchar(500) refuses the long one with a DataError; SQLite's length check, an IntegrityError.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        TodoFactory(alliance=alliance, text=text)


def test_overdue_lists_open_to_dos_due_before_today_only(alliance):
    late = TodoFactory(alliance=alliance, due_on=date(2027, 3, 9))
    TodoFactory(alliance=alliance, due_on=TODAY)
    TodoFactory(alliance=alliance, due_on=date(2027, 3, 1), status=Todo.Status.DONE, done_at=timezone.now())
    TodoFactory(alliance=alliance, due_on=date(2027, 3, 1), status=Todo.Status.DROPPED, drop_reason="No longer needed")

    assert list(Todo.objects.overdue(TODAY)) == [late]
    assert late.is_overdue(TODAY)
    assert not late.is_overdue(date(2027, 3, 9))


def test_owned_by_and_for_alliance_scope_the_to_dos(alliance):
    mine = TodoFactory(alliance=alliance)
    theirs = TodoFactory(alliance=alliance)
    elsewhere = TodoFactory()

    assert list(Todo.objects.owned_by(mine.owner)) == [mine]
    assert set(Todo.objects.for_alliance(alliance)) == {mine, theirs}
    assert elsewhere not in Todo.objects.for_alliance(alliance).open()


def test_visible_to_shows_only_the_alliances_the_person_is_still_a_member_of(alliance, member_user, outsider):
    todo = TodoFactory(alliance=alliance)
    TodoFactory()

    assert list(Todo.objects.visible_to(member_user)) == [todo]
    assert not Todo.objects.visible_to(outsider).exists()
    MemberFactory(alliance=todo.alliance, user=outsider, is_active=False)
    assert not Todo.objects.visible_to(outsider).exists()
