"""The calendar feed is kept per person until one of their alliances changes (as *My to-dos* is).

What a calendar app would notice if that went wrong: a meeting scheduled or a to-do taken on not showing,
an alliance left still showing, someone else's feed, a replaced link still answering, or the feed losing
its headers (a shared cache keeping it).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts import services as account_services
from accounts.models import User
from alliances import services as alliance_services
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings.tests.factories import MeetingFactory
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db


def _url(user: User) -> str:
    return reverse("calendar_feed", args=[user.calendar_token])


def _summaries(client, user: User) -> list[str]:
    response = client.get(_url(user))
    assert response.status_code == 200
    return sorted(str(event["SUMMARY"]) for event in Calendar.from_ical(response.content).walk("VEVENT"))


def _meeting(alliance, days: int):
    return MeetingFactory(alliance=alliance, starts_at=(timezone.now() + timedelta(days=days)).replace(microsecond=0))


@pytest.fixture
def reader(alliance):
    return MemberFactory(alliance=alliance, user__display_name="Ana Ortiz")


def test_a_kept_feed_costs_only_the_look_up_of_its_person(client, alliance, reader):
    _meeting(alliance, days=7)
    client.get(_url(reader.user))

    with CaptureQueriesContext(connection) as queries:
        kept = client.get(_url(reader.user))

    assert len(queries) == 1
    assert kept["Content-Disposition"] == 'inline; filename="roundtable.ics"'
    assert "private" in kept["Cache-Control"]
    assert "noindex" in kept["X-Robots-Tag"]


def test_neither_a_built_nor_a_kept_feed_sets_a_csrf_cookie(client, alliance, reader):
    # A calendar app has no form to send: the feed carries no token, so it must not hand out a cookie.
    _meeting(alliance, days=7)

    built = client.get(_url(reader.user))
    kept = client.get(_url(reader.user))

    assert "csrftoken" not in built.cookies
    assert "csrftoken" not in kept.cookies


def test_a_meeting_scheduled_and_a_to_do_taken_on_show_at_once_in_a_kept_feed(client, alliance, reader):
    assert _summaries(client, reader.user) == []

    _meeting(alliance, days=7)
    TodoFactory(alliance=alliance, owner=reader, text="Book the library room")

    assert len(_summaries(client, reader.user)) == 2


def test_an_alliance_joined_or_left_shows_at_once_in_a_kept_feed(client, alliance, reader, steward_user):
    other = AllianceFactory(name="Park Friends")
    _meeting(other, days=14)
    _meeting(alliance, days=7)
    assert len(_summaries(client, reader.user)) == 1

    MemberFactory(alliance=other, user=reader.user)
    assert "Park Friends: meeting" in _summaries(client, reader.user)

    alliance_services.member_deactivate(member=reader, by=steward_user)
    assert _summaries(client, reader.user) == ["Park Friends: meeting"]


def test_each_person_gets_their_own_feed(client, alliance, reader, member_user):
    TodoFactory(alliance=alliance, owner=reader, text="Book the library room")
    assert len(_summaries(client, reader.user)) == 1

    others = client.get(_url(member_user)).content.decode()

    assert "Ana Ortiz" not in others
    assert "Book the library room" not in others


def test_a_replaced_link_answers_404_although_its_feed_was_kept(client, alliance, reader):
    old = _url(reader.user)
    client.get(old)

    account_services.calendar_link_replace(user=reader.user)

    assert client.get(old).status_code == 404
