"""The page cache: a reader's copy of an alliance page is reused only while nothing it shows has changed.

Copies are kept per reader, per version of the alliance (alliances/versions.py), per language, time zone and
minute (roundtable/page_cache.py). What a user would notice if it went wrong: a change they just made not
showing, someone else's page, a form refused for its CSRF token, a message shown twice.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances import services, versions
from alliances.tests.factories import InvitationFactory, MemberFactory
from alliances.tests.helpers import alliance_url, membership_of
from meetings import agenda
from meetings.tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_a_page_read_again_is_the_same_page_for_the_cost_of_the_sign_in(client, alliance, member_user):
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)
    built, first = _queries(client, url)
    # The kept copy, with the membership still from the database: this process met the alliance's slug
    # only now, so the membership could not be read under a version read before it (alliances/access.py).
    reused, again = _queries(client, url)

    kept, third = _queries(client, url)

    assert _without_tokens(again) == _without_tokens(third) == _without_tokens(first)
    # The session and the user: what the ceiling pays. The membership, its alliance's version and the copy
    # come in one round trip to the cache.
    assert kept == 2 < reused == 3 < built


@pytest.mark.parametrize(
    ("page", "change", "shown"),
    [
        (
            "charter_detail",
            lambda alliance, steward: services.norm_add(
                alliance=alliance, text="We start on time", agreed_on=None, by=steward.user
            ),
            "We start on time",
        ),
        (
            "member_list",
            lambda alliance, steward: MemberFactory(alliance=alliance, user__display_name="Nadia Newcomer"),
            "Nadia Newcomer",
        ),
        (
            "alliance_detail",
            lambda alliance, steward: services.charter_set_purpose(
                alliance=alliance, purpose="Books for every barrio", agreed_on=None, by=steward.user
            ),
            "Books for every barrio",
        ),
        (
            "member_list",
            lambda alliance, steward: _rename(steward.user, "Stella Renamed"),
            "Stella Renamed",
        ),
    ],
)
def test_a_change_in_the_alliance_shows_at_once_on_a_page_read_before_it(
    client, alliance, steward_user, page, change, shown
):
    client.force_login(steward_user)
    url = alliance_url(page, alliance)
    assert shown not in client.get(url).content.decode()

    change(alliance, membership_of(alliance, steward_user))

    assert shown in client.get(url).content.decode()


def _without_tokens(page: str) -> str:
    # Each response masks the browser's CSRF secret afresh, so the token's text differs every time.
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1", page)


def _rename(user, name: str) -> None:
    user.display_name = name
    user.save()


def test_a_new_agenda_item_shows_at_once_on_the_meeting_page_and_the_printable_agenda(client, alliance, steward_user):
    steward = membership_of(alliance, steward_user)
    meeting = MeetingFactory(alliance=alliance, facilitator=steward)
    client.force_login(steward_user)
    pages = [
        reverse("meetings:meeting_detail", kwargs={"slug": alliance.slug, "pk": meeting.pk}),
        reverse("meetings:agenda_print", kwargs={"slug": alliance.slug, "pk": meeting.pk}),
    ]
    for url in pages:
        client.get(url)

    agenda.agenda_item_add(meeting=meeting, by=steward, title="Library hours", minutes=10)

    for url in pages:
        assert "Library hours" in client.get(url).content.decode()


def test_the_new_version_is_given_again_when_the_change_commits(
    alliance, steward_user, django_capture_on_commit_callbacks
):
    """A reader between the change and its commit may keep the old page under the new version: the
    commit retires that version too."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.norm_add(alliance=alliance, text="Phones away", agreed_on=None, by=steward_user)
    during = versions.version_of(alliance.pk)

    for callback in callbacks:
        callback()

    assert versions.version_of(alliance.pk) != during


def test_each_reader_gets_their_own_copy(client, alliance, steward_user, member_user):
    InvitationFactory(alliance=alliance, email="pending@example.org")
    steward_browser = Client()
    steward_browser.force_login(steward_user)
    url = alliance_url("member_list", alliance)
    assert "pending@example.org" in steward_browser.get(url).content.decode()

    client.force_login(member_user)
    page = client.get(url).content.decode()

    assert "pending@example.org" not in page


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_copy_made_for_one_browser_carries_the_csrf_token_of_the_browser_that_reads_it(alliance, member_user):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    url = alliance_url("alliance_detail", alliance)
    for browser in (first, second):
        browser.force_login(member_user)
    first_page = first.get(url).content.decode()

    with CaptureQueriesContext(connection) as queries:
        second_page = second.get(url).content.decode()
    assert len(queries) == 3  # the copy the first browser's visit left

    assert "csrf-token-of-the-reader" not in first_page + second_page
    response = second.post(
        reverse("accounts:language_set"),
        {"language": "es", "next": url, "csrfmiddlewaretoken": _csrf_token(second_page)},
    )
    assert response.status_code == 302


def test_a_message_after_an_action_shows_once_and_is_never_kept(client, alliance, steward_user):
    client.force_login(steward_user)
    url = alliance_url("charter_detail", alliance)
    client.get(url)

    response = client.post(
        alliance_url("norm_create", alliance), {"text": "Listen first", "agreed_on": ""}, follow=True
    )
    assert "The norm has been added." in response.content.decode()

    again = client.get(url).content.decode()
    assert "Listen first" in again
    assert "The norm has been added." not in again


def _read_until_kept(client: Client, url: str) -> None:
    """Read a page until its copy and the reader's membership both come from the cache (2 queries)."""
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert _queries(client, url)[0] == 2


def _leave(alliance, steward_user, member_user) -> None:
    services.member_leave(member=membership_of(alliance, member_user))


def _deactivate(alliance, steward_user, member_user) -> None:
    services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)


def _delete(alliance, steward_user, member_user) -> None:
    membership_of(alliance, member_user).delete()


@pytest.mark.parametrize("end", [_leave, _deactivate, _delete])
def test_a_member_removed_gets_404_at_once_although_their_membership_and_page_were_kept(
    client, alliance, steward_user, member_user, end
):
    client.force_login(member_user)
    url = alliance_url("charter_detail", alliance)
    _read_until_kept(client, url)

    end(alliance, steward_user, member_user)

    assert client.get(url).status_code == 404
    assert client.get(alliance_url("member_list", alliance)).status_code == 404


def test_a_steward_who_is_one_no_more_is_refused_the_stewards_pages_at_once(client, alliance, steward_user):
    MemberFactory(alliance=alliance, is_steward=True)  # the alliance keeps a steward
    client.force_login(steward_user)
    members, purpose = alliance_url("member_list", alliance), alliance_url("charter_purpose_edit", alliance)
    invite = alliance_url("invitation_create", alliance)
    _read_until_kept(client, members)
    assert invite in client.get(members).content.decode()
    assert client.get(purpose).status_code == 200

    services.member_set_steward(member=membership_of(alliance, steward_user), is_steward=False, by=steward_user)

    assert client.get(purpose).status_code == 403
    assert invite not in client.get(members).content.decode()


def test_a_membership_ended_while_it_is_being_read_is_not_kept(
    client, alliance, steward_user, member_user, monkeypatch
):
    """The removal commits between the reader's query and the membership's going into the cache: the
    version the membership is kept under was read before the query, so the next read asks again."""
    from alliances import access

    client.force_login(member_user)
    url = alliance_url("charter_detail", alliance)
    client.get(url)  # this process meets the alliance's slug
    read = access._read

    def read_then_removed(request, slug):
        member = read(request, slug)
        services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)
        return member

    monkeypatch.setattr(access, "_read", read_then_removed)
    assert client.get(url).status_code == 200  # what the database said when it was asked
    monkeypatch.setattr(access, "_read", read)

    assert client.get(url).status_code == 404


def test_a_kept_membership_is_never_another_readers(client, alliance, member_user, outsider):
    client.force_login(member_user)
    url = alliance_url("charter_detail", alliance)
    _read_until_kept(client, url)

    client.force_login(outsider)

    assert client.get(url).status_code == 404


@pytest.mark.integration
def test_on_redis_a_kept_membership_serves_its_reader_and_a_removal_shows_at_once(
    redis_cache, client, alliance, steward_user, member_user, outsider
):
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)
    _read_until_kept(client, url)
    assert "Mia Member" in client.get(url).content.decode()

    services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_time_alone_retires_a_copy_at_the_next_minute(client, alliance, member_user, settings):
    """A meeting that has started moves from upcoming to past, though nothing was written."""
    settings.PAGE_CACHE_SECONDS = 3600  # the copy is still in the cache: the minute in its key retires it
    with time_machine.travel(timezone.now(), tick=False) as clock:
        meeting = MeetingFactory(alliance=alliance, starts_at=timezone.now() + timedelta(seconds=30))
        client.force_login(member_user)
        url = reverse("meetings:meeting_list", kwargs={"slug": alliance.slug})
        link = f'href="{meeting.get_absolute_url()}"'
        before = client.get(url).content.decode()
        assert before.index(link) < before.index('id="past-heading"')

        clock.shift(timedelta(seconds=61))
        after = client.get(url).content.decode()

    assert after.index(link) > after.index('id="past-heading"')


def test_with_the_page_cache_off_every_read_builds_the_page(client, alliance, member_user, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)
    built, _ = _queries(client, url)

    assert _queries(client, url)[0] == built > 3


# Models whose rows no cached page shows; every other model of these apps must be watched.
NOT_SHOWN: set[str] = {
    "tasks.NudgeDigest",  # the claims of nudge emails (tasks/nudges.py): no page shows them
}


def test_every_model_whose_rows_a_page_shows_gives_its_alliance_a_new_version_when_it_changes():
    ours = [
        model
        for label in ("alliances", "meetings", "tasks")
        if apps.is_installed(label)
        for model in apps.get_app_config(label).get_models()
    ]
    unwatched = [m._meta.label for m in ours if m not in versions.WATCHED and m._meta.label not in NOT_SHOWN]

    assert unwatched == [], "watch them in their app's AppConfig.ready() (alliances/versions.py)"


def test_my_alliances_shows_at_once_an_alliance_joined_renamed_or_grown(client, alliance, member_user):
    client.force_login(member_user)
    url = reverse("alliances:alliance_list")
    client.get(url)

    other = MemberFactory(user=member_user, alliance__name="Tenants Together").alliance
    assert "Tenants Together" in client.get(url).content.decode()

    other.name = "Tenants United"
    other.save()
    assert "Tenants United" in client.get(url).content.decode()

    MemberFactory(alliance=other)
    assert "2 members" in client.get(url).content.decode()


def test_my_alliances_read_again_costs_no_query_beyond_the_sign_in(client, alliance, member_user):
    client.force_login(member_user)
    url = reverse("alliances:alliance_list")
    client.get(url)

    assert _queries(client, url)[0] == 2  # the session and the user


def test_the_profile_shows_a_change_at_once(client, member_user):
    client.force_login(member_user)
    url = reverse("accounts:profile")
    client.get(url)

    member_user.display_name = "Mia Renamed"
    member_user.save()

    assert 'value="Mia Renamed"' in client.get(url).content.decode()


def test_the_run_of_show_and_the_to_dos_renew_the_alliances_pages(alliance, steward_user):
    """Their writes are update()s, which send no signal: the services renew the version themselves."""
    from meetings import run
    from meetings.tests.run_helpers import round_table
    from tasks import services as todos

    table = round_table(alliance)
    before = versions.version_of(alliance.pk)
    run.start_meeting(meeting=table.meeting, by=table.facilitator, now=table.meeting.starts_at)
    started = versions.version_of(alliance.pk)
    todo = todos.capture_todo(
        alliance=alliance,
        text="Call the library",
        owner=table.note_taker,
        by=table.facilitator,
        meeting=table.meeting,
        now=table.meeting.starts_at,
    )
    captured = versions.version_of(alliance.pk)
    todos.mark_done(todo=todo, by=table.note_taker, now=table.meeting.starts_at)

    assert len({before, started, captured, versions.version_of(alliance.pk)}) == 4
