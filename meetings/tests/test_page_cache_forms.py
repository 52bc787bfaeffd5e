"""The meeting's forms, its review and its calendar file are kept like its other pages.

An unbound GET form is a page like any other: kept for each reader until the alliance changes
(alliances/pages.py, `cached_alliance_page`); a POST is always built. What a user would notice if that went
wrong: a form missing a change made since, a page kept for someone who is a member no more, another
reader's form, a refused form without its errors, or the calendar file losing its name.
"""

import pytest
from django.test import Client
from django.urls import reverse

from alliances import services as alliance_services
from alliances.tests.factories import MemberFactory
from alliances.tests.helpers import membership_of, read_until_kept
from meetings import agenda, notes
from meetings.models import AgendaItem
from meetings.tests.factories import AgendaItemFactory, MeetingFactory
from meetings.tests.test_notes import _hold, _send
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "meeting_edit",
    "agenda_item_edit",
    "agenda_segments_edit",
    "agenda_proposal_create",
    "meeting_review",
    "agenda_ics",
]


@pytest.fixture
def meeting(alliance, steward_user):
    return MeetingFactory(alliance=alliance, facilitator=membership_of(alliance, steward_user))


@pytest.fixture
def item(meeting):
    return AgendaItemFactory(meeting=meeting, title="Library hours")


def _url(name: str, meeting, item) -> str:
    kwargs = {"slug": meeting.alliance.slug, "pk": meeting.pk}
    if name == "agenda_item_edit":
        kwargs["item"] = item.pk
    return reverse(f"meetings:{name}", kwargs=kwargs)


@pytest.mark.parametrize("name", PAGES)
def test_a_page_read_again_costs_only_the_sign_in(client, steward_user, meeting, item, name):
    client.force_login(steward_user)

    read_until_kept(client, _url(name, meeting, item))


@pytest.mark.parametrize("name", ["meeting_edit", "agenda_item_edit"])
def test_a_member_who_joined_is_offered_at_once_on_a_kept_form(client, alliance, steward_user, meeting, item, name):
    client.force_login(steward_user)
    url = _url(name, meeting, item)
    read_until_kept(client, url)

    MemberFactory(alliance=alliance, user__display_name="Nadia Newcomer")

    assert "Nadia Newcomer" in client.get(url).content.decode()


def test_the_item_form_shows_at_once_the_item_as_edited_meanwhile(client, alliance, steward_user, meeting, item):
    client.force_login(steward_user)
    url = _url("agenda_item_edit", meeting, item)
    read_until_kept(client, url)

    agenda.agenda_item_edit(
        item=item,
        by=membership_of(alliance, steward_user),
        title="Library opening hours",
        minutes=20,
        description="",
        kind=AgendaItem.Kind.DISCUSSION,
        presenter=None,
    )

    assert "Library opening hours" in client.get(url).content.decode()


def test_the_review_shows_at_once_a_to_do_captured_after_it_was_kept(client, alliance, steward_user, meeting, item):
    client.force_login(steward_user)
    url = _url("meeting_review", meeting, item)
    read_until_kept(client, url)

    # Captured during the meeting; after it, the review is where it is corrected.
    TodoFactory(alliance=alliance, meeting=meeting, item=item, text="Ask the library for the keys")

    assert "Ask the library for the keys" in client.get(url).content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_a_member_who_left_gets_404_at_once_on_a_kept_page(client, alliance, steward_user, meeting, item, name):
    MemberFactory(alliance=alliance, is_steward=True)  # the alliance keeps a steward
    url = _url(name, meeting, item)
    client.force_login(steward_user)
    read_until_kept(client, url)

    alliance_services.member_leave(member=membership_of(alliance, steward_user))

    assert client.get(url).status_code == 404


def test_the_facilitators_kept_form_is_never_another_members(
    client, alliance, steward_user, member_user, meeting, item
):
    steward_browser = Client()
    steward_browser.force_login(steward_user)
    for name in ("meeting_edit", "agenda_item_edit", "agenda_segments_edit"):
        read_until_kept(steward_browser, _url(name, meeting, item))

    client.force_login(member_user)

    for name in ("meeting_edit", "agenda_item_edit", "agenda_segments_edit"):
        assert client.get(_url(name, meeting, item)).status_code == 403


def test_a_refused_item_shows_its_errors_after_the_empty_form_was_kept(client, steward_user, meeting, item):
    client.force_login(steward_user)
    url = _url("agenda_item_edit", meeting, item)
    read_until_kept(client, url)

    refused = client.post(url, {"title": "", "minutes": 10, "kind": AgendaItem.Kind.DISCUSSION})

    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    item.refresh_from_db()
    assert item.title == "Library hours"


def test_the_kept_calendar_file_keeps_its_name_and_type(client, steward_user, meeting, item):
    client.force_login(steward_user)
    url = _url("agenda_ics", meeting, item)
    read_until_kept(client, url)

    kept = client.get(url)

    assert kept["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
    assert kept["Content-Type"] == "text/calendar; charset=utf-8"
    assert kept.content.decode().startswith("BEGIN:VCALENDAR")


# --- The notes as Markdown: kept like the notes' page, with its file name --------------------------------


@pytest.fixture
def held_and_sent(alliance, django_capture_on_commit_callbacks):
    held = _hold(alliance)
    _send(held, django_capture_on_commit_callbacks)
    return held


def test_the_kept_markdown_keeps_its_file_name_and_shows_an_amendment_at_once(
    client, held_and_sent, django_capture_on_commit_callbacks
):
    held = held_and_sent
    client.force_login(held.cy.user)
    url = reverse("meetings:notes_markdown", args=[held.table.alliance.slug, held.meeting.pk])
    read_until_kept(client, url)

    kept = client.get(url)
    assert kept["Content-Type"] == "text/markdown; charset=utf-8"
    assert kept["Content-Disposition"] == f'inline; filename="{held.table.alliance.slug}-notes-2027-03-10.md"'
    with django_capture_on_commit_callbacks(execute=True):
        notes.notes_amend(meeting=held.meeting, by=held.table.note_taker, text="The fair is on 19 June.")

    assert "The fair is on 19 June." in client.get(url).content.decode()


def test_a_member_who_left_gets_404_at_once_on_the_kept_markdown(client, held_and_sent):
    held = held_and_sent
    client.force_login(held.cy.user)
    url = reverse("meetings:notes_markdown", args=[held.table.alliance.slug, held.meeting.pk])
    read_until_kept(client, url)

    alliance_services.member_leave(member=held.cy)

    assert client.get(url).status_code == 404
