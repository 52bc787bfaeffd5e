"""The one-click "Mark done" link from email: a GET changes nothing, the POST marks it done, and a link that
cannot be used (expired, changed, meant for someone else, already used) says so and leads to sign in."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from alliances import services as alliance_services
from alliances.tests.factories import MemberFactory
from alliances.tests.helpers import membership_of
from tasks import services
from tasks.links import done_link, done_token
from tasks.models import Todo
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

SIGN_IN = f"{reverse('accounts:login')}?next=/todos/"


@pytest.fixture
def todo(alliance, member_user) -> Todo:
    return TodoFactory(alliance=alliance, owner=membership_of(alliance, member_user), text="Book the school hall")


def _path(todo: Todo) -> str:
    return reverse("tasks:todo_link", kwargs={"token": done_token(todo)})


def test_the_link_is_absolute_and_opens_the_to_do_with_one_button_without_signing_in(client, todo):
    link = done_link(todo)

    response = client.get(link.removeprefix(settings.SITE_URL))
    html = response.content.decode()
    todo.refresh_from_db()

    assert link.startswith("http://testserver/todos/done/")
    assert response.status_code == 200
    assert "Book the school hall" in html
    assert html.count('<button class="btn btn-success btn-lg" type="submit">Mark done</button>') == 1
    assert '<form method="post">' in html
    # A mail scanner opening the link changes nothing.
    assert todo.status == Todo.Status.OPEN
    client.get(link.removeprefix(settings.SITE_URL))
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN


def test_pressing_the_button_marks_it_done_and_says_so(client, todo):
    response = client.post(_path(todo))
    todo.refresh_from_db()

    assert response.status_code == 200
    assert todo.status == Todo.Status.DONE
    assert todo.done_at is not None
    html = response.content.decode()
    assert "Done. Thank you!" in html
    # Not signed in: the way to undo it is to sign in.
    assert f'href="{SIGN_IN}"' in html
    assert "Undo</button>" not in html


def test_the_owner_signed_in_gets_an_undo_that_reopens_it(client, todo, member_user):
    client.force_login(member_user)

    html = client.post(_path(todo)).content.decode()
    undo = client.post(f"/todos/{todo.pk}/reopen/", {"back": "/todos/"})
    todo.refresh_from_db()

    assert f'action="/todos/{todo.pk}/reopen/"' in html
    assert "Undo</button>" in html
    assert undo["Location"] == "/todos/"
    assert todo.status == Todo.Status.OPEN


def test_a_used_link_says_the_to_do_is_already_done(client, todo):
    path = _path(todo)
    client.post(path)

    again = client.get(path)
    posted_again = client.post(path)

    assert again.status_code == 410
    assert "This to-do is already done" in again.content.decode()
    assert posted_again.status_code == 410
    assert SIGN_IN in again.content.decode()


def test_an_expired_link_says_so_and_changes_nothing(client, todo):
    path = _path(todo)

    with time_machine.travel(timezone.now() + timedelta(days=settings.TODO_LINK_MAX_AGE_DAYS, minutes=1)):
        seen = client.get(path)
        pressed = client.post(path)
    todo.refresh_from_db()

    assert seen.status_code == 410
    assert pressed.status_code == 410
    assert "This link has expired" in seen.content.decode()
    assert "work for 30 days" in seen.content.decode()
    assert todo.status == Todo.Status.OPEN


def test_a_link_still_works_on_its_last_day(client, todo):
    path = _path(todo)

    with time_machine.travel(timezone.now() + timedelta(days=settings.TODO_LINK_MAX_AGE_DAYS - 1)):
        assert client.get(path).status_code == 200


def test_a_tampered_link_is_refused_and_changes_nothing(client, todo, alliance):
    other = TodoFactory(alliance=alliance, owner=todo.owner)
    token = done_token(todo)
    # The signed part names the to-do: pointing it at another one breaks the signature.
    forged = token.replace(token.split(":")[0], done_token(other).split(":")[0], 1)

    for bad in (forged, token[:-2], "not-a-token"):
        path = reverse("tasks:todo_link", kwargs={"token": bad})
        assert client.get(path).status_code == 400, bad
        response = client.post(path)
        assert response.status_code == 400, bad
        assert "This link does not work" in response.content.decode()
    todo.refresh_from_db()
    other.refresh_from_db()
    assert {todo.status, other.status} == {Todo.Status.OPEN}


def test_a_link_for_a_to_do_that_changed_hands_no_longer_works(client, todo, alliance, steward_user):
    path = _path(todo)
    services.update_todo(
        todo=todo,
        by=membership_of(alliance, steward_user),
        expected_version=todo.version,
        owner=MemberFactory(alliance=alliance),
    )

    response = client.post(path)
    todo.refresh_from_db()

    assert response.status_code == 410
    assert "This link is no longer yours" in response.content.decode()
    assert todo.status == Todo.Status.OPEN


def test_a_link_of_someone_who_left_the_alliance_no_longer_works(client, todo):
    path = _path(todo)
    alliance_services.member_leave(member=todo.owner)

    response = client.get(path)

    assert response.status_code == 410
    assert "This link is no longer yours" in response.content.decode()


def test_a_link_to_a_dropped_or_deleted_to_do_says_so(client, todo, alliance):
    path = _path(todo)
    services.drop(todo=todo, reason="No hall this year", by=todo.owner)

    assert client.get(path).status_code == 410
    assert "This to-do was dropped" in client.get(path).content.decode()

    todo.delete()
    assert client.get(path).status_code == 404
    assert "This to-do no longer exists" in client.get(path).content.decode()


def test_the_page_speaks_the_owners_language_to_someone_not_signed_in(client, todo):
    todo.owner.user.language = "es"
    todo.owner.user.save()

    html = client.get(_path(todo)).content.decode()

    assert '<html lang="es">' in html


def test_a_signed_in_reader_of_a_bad_link_is_sent_to_their_to_dos(client, member_user):
    client.force_login(member_user)

    html = client.get(reverse("tasks:todo_link", kwargs={"token": "x"})).content.decode()

    assert 'href="/todos/">Go to my to-dos</a>' in html
