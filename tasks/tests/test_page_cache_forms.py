"""The to-do forms are kept like the alliance's other pages: an unbound GET form is a page like any other.

Kept for each reader until the alliance changes (alliances/pages.py, `cached_alliance_page`); a POST is
always built. What a user would notice if that went wrong: a form missing a change made since (and then
refusing the save as made on a stale copy), a form kept for someone who is a member no more, another
reader's form, or a refused form without its errors.
"""

import pytest
from django.test import Client
from django.urls import reverse

from alliances import services as alliance_services
from alliances.tests.factories import MemberFactory
from alliances.tests.helpers import membership_of, read_until_kept
from tasks import services
from tasks.models import Todo
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def todo(alliance, steward_user):
    return TodoFactory(alliance=alliance, owner=membership_of(alliance, steward_user), text="Book the hall")


def _url(name: str, todo: Todo) -> str:
    kwargs = {"slug": todo.alliance.slug} | ({"pk": todo.pk} if name == "todo_edit" else {})
    return reverse(f"tasks:{name}", kwargs=kwargs)


@pytest.mark.parametrize("name", ["todo_create", "todo_edit"])
def test_a_form_read_again_costs_only_the_sign_in(client, steward_user, todo, name):
    client.force_login(steward_user)

    read_until_kept(client, _url(name, todo))


@pytest.mark.parametrize("name", ["todo_create", "todo_edit"])
def test_a_member_who_joined_is_offered_as_owner_at_once(client, alliance, steward_user, todo, name):
    client.force_login(steward_user)
    url = _url(name, todo)
    read_until_kept(client, url)

    MemberFactory(alliance=alliance, user__display_name="Nadia Newcomer")

    assert "Nadia Newcomer" in client.get(url).content.decode()


def test_the_edit_form_read_after_a_change_saves_without_a_conflict(client, alliance, steward_user, todo):
    client.force_login(steward_user)
    url = _url("todo_edit", todo)
    read_until_kept(client, url)
    steward = membership_of(alliance, steward_user)
    services.update_todo(todo=todo, by=steward, expected_version=todo.version, text="Book the big hall")

    page = client.get(url).content.decode()
    assert "Book the big hall" in page
    version = Todo.objects.get(pk=todo.pk).version
    assert f'name="version" value="{version}"' in page
    saved = client.post(
        url, {"text": "Book the big hall by May", "owner": steward.pk, "due_on": todo.due_on, "version": version}
    )

    assert saved.status_code == 302
    assert Todo.objects.get(pk=todo.pk).text == "Book the big hall by May"


@pytest.mark.parametrize("name", ["todo_create", "todo_edit"])
def test_a_member_who_left_gets_404_at_once_on_a_kept_form(client, alliance, steward_user, todo, name):
    MemberFactory(alliance=alliance, is_steward=True)  # the alliance keeps a steward
    url = _url(name, todo)
    client.force_login(steward_user)
    read_until_kept(client, url)

    alliance_services.member_leave(member=membership_of(alliance, steward_user))

    assert client.get(url).status_code == 404


def test_the_owners_kept_edit_form_is_never_another_members(client, steward_user, member_user, todo):
    owner_browser = Client()
    owner_browser.force_login(steward_user)
    read_until_kept(owner_browser, _url("todo_edit", todo))

    client.force_login(member_user)

    assert client.get(_url("todo_edit", todo)).status_code == 403


def test_a_refused_to_do_shows_its_errors_after_the_empty_form_was_kept(client, alliance, steward_user, todo):
    client.force_login(steward_user)
    url = _url("todo_create", todo)
    read_until_kept(client, url)

    refused = client.post(url, {"text": "", "owner": membership_of(alliance, steward_user).pk, "due_on": todo.due_on})

    assert refused.status_code == 400
    assert "Say what is to be done." in refused.content.decode()
    assert Todo.objects.count() == 1
