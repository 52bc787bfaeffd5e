"""The alliance's forms are kept like its other pages: an unbound GET form is a page like any other.

The steward's charter forms (purpose, logistics, a norm to add or edit) and a member's own details are kept
for each reader until the alliance changes (alliances/pages.py, `cached_alliance_page`). What a user would
notice if that went wrong: a form showing what was there before a change, a form kept for someone who is a
member no more, someone else's details, or a refused form that does not show its errors.
"""

import pytest
from django.test import Client
from django.urls import reverse

from alliances import services
from alliances.models import Norm
from alliances.tests.factories import MemberFactory
from alliances.tests.helpers import alliance_url, membership_of, read_until_kept

pytestmark = pytest.mark.django_db


def _norm(alliance, steward_user) -> Norm:
    return services.norm_add(alliance=alliance, text="We start on time", agreed_on=None, by=steward_user)


def _form_url(name: str, alliance, steward_user) -> str:
    if name == "norm_edit":
        return alliance_url(name, alliance, pk=_norm(alliance, steward_user).pk)
    return alliance_url(name, alliance)


STEWARDS_FORMS = ["charter_purpose_edit", "charter_logistics_edit", "norm_create", "norm_edit"]


@pytest.mark.parametrize("name", [*STEWARDS_FORMS, "member_edit"])
def test_a_form_read_again_costs_only_the_sign_in(client, alliance, steward_user, name):
    client.force_login(steward_user)

    read_until_kept(client, _form_url(name, alliance, steward_user))


def test_the_purpose_form_shows_at_once_a_purpose_saved_after_it_was_kept(client, alliance, steward_user):
    client.force_login(steward_user)
    url = alliance_url("charter_purpose_edit", alliance)
    read_until_kept(client, url)

    services.charter_set_purpose(alliance=alliance, purpose="Every tenant housed well", agreed_on=None, by=steward_user)

    assert "Every tenant housed well" in client.get(url).content.decode()


def test_the_norm_form_shows_at_once_the_norm_as_edited_meanwhile(client, alliance, steward_user):
    norm = _norm(alliance, steward_user)
    client.force_login(steward_user)
    url = alliance_url("norm_edit", alliance, pk=norm.pk)
    read_until_kept(client, url)

    services.norm_edit(norm=norm, text="We start and end on time", agreed_on=None, by=steward_user)

    assert "We start and end on time" in client.get(url).content.decode()


@pytest.mark.parametrize("name", STEWARDS_FORMS)
def test_a_steward_who_left_gets_404_at_once_on_a_kept_form(client, alliance, steward_user, name):
    MemberFactory(alliance=alliance, is_steward=True)  # the alliance keeps a steward
    url = _form_url(name, alliance, steward_user)
    client.force_login(steward_user)
    read_until_kept(client, url)

    services.member_leave(member=membership_of(alliance, steward_user))

    assert client.get(url).status_code == 404


def test_a_former_member_gets_404_at_once_on_their_kept_details(client, alliance, member_user):
    url = alliance_url("member_edit", alliance)
    client.force_login(member_user)
    read_until_kept(client, url)

    services.member_leave(member=membership_of(alliance, member_user))

    assert client.get(url).status_code == 404


def test_each_reader_gets_their_own_details_and_a_change_shows_at_once(client, alliance, steward_user, member_user):
    services.member_set_organisation(member=membership_of(alliance, steward_user), organisation="Eastside Union")
    url = alliance_url("member_edit", alliance)
    steward_browser = Client()
    steward_browser.force_login(steward_user)
    read_until_kept(steward_browser, url)
    client.force_login(member_user)
    read_until_kept(client, url)

    assert "Eastside Union" not in client.get(url).content.decode()
    services.member_set_organisation(member=membership_of(alliance, member_user), organisation="Westside Tenants")
    assert "Westside Tenants" in client.get(url).content.decode()
    assert "Westside Tenants" not in steward_browser.get(url).content.decode()


def test_a_refused_norm_shows_its_errors_after_the_empty_form_was_kept(client, alliance, steward_user):
    client.force_login(steward_user)
    url = alliance_url("norm_create", alliance)
    read_until_kept(client, url)

    refused = client.post(url, {"text": ""})

    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    assert not Norm.objects.filter(alliance=alliance).exists()


# --- The new alliance form: outside any alliance, kept on what the header shows of the reader ---------------


def _rename(user, name: str) -> None:
    user.display_name = name
    user.save()


def test_the_new_alliance_form_is_each_readers_own_and_shows_a_new_name_at_once(client, steward_user, member_user):
    url = reverse("alliances:alliance_create")
    steward_browser = Client()
    steward_browser.force_login(steward_user)
    assert "Stella Steward" in steward_browser.get(url).content.decode()
    client.force_login(member_user)

    assert "Stella Steward" not in client.get(url).content.decode()
    _rename(member_user, "Mia Organiser")
    assert "Mia Organiser" in client.get(url).content.decode()


def test_a_refused_new_alliance_shows_its_errors_after_the_empty_form_was_kept(client, member_user):
    client.force_login(member_user)
    url = reverse("alliances:alliance_create")
    client.get(url)

    refused = client.post(url, {"name": "", "slug": ""})

    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
