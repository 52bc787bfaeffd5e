"""Each person's calendar feed (/calendar/<token>.ics) and its link on the profile: the feed that a
calendar app subscribes to holds the meetings of the reader's alliances and the reader's own open to-dos,
needs no sign-in, and stops working once its link is replaced."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import User
from accounts.tests.factories import UserFactory
from alliances import services as alliance_services
from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings.calendar import event_uid
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory
from tasks.models import Todo
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("accounts:profile")
REPLACE_URL = reverse("accounts:calendar_link_replace")


def _feed_url(user: User) -> str:
    return reverse("calendar_feed", args=[user.calendar_token])


def _feed(client, user: User) -> Calendar:
    response = client.get(_feed_url(user))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _summaries(calendar: Calendar) -> list[str]:
    return [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]


@pytest.fixture
def reader(alliance) -> Member:
    return MemberFactory(alliance=alliance, user__display_name="Ana Ortiz")


def _meeting(alliance: Alliance, *, days: int, **kwargs) -> Meeting:
    starts_at = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    return MeetingFactory(alliance=alliance, starts_at=starts_at, **kwargs)


# --- What the feed holds ------------------------------------------------------------------------------


def test_the_feed_holds_the_meetings_of_every_alliance_of_the_reader_and_nobody_elses(client, alliance, reader):
    other = AllianceFactory(name="Park Friends")
    MemberFactory(alliance=other, user=reader.user)
    ours = _meeting(alliance, days=7)
    theirs = _meeting(other, days=14)
    _meeting(AllianceFactory(name="Strangers"), days=3)

    calendar = _feed(client, reader.user)

    assert _summaries(calendar) == ["Barrio Readers: meeting", "Park Friends: meeting"]
    first = calendar.walk("VEVENT")[0]
    assert str(first["UID"]).startswith(f"meeting-{ours.uid}@")
    assert first.decoded("DTSTART") == ours.starts_at
    assert first.decoded("DTEND") == ours.ends_at
    assert str(calendar.walk("VEVENT")[1]["UID"]).startswith(f"meeting-{theirs.uid}@")
    assert str(calendar["X-WR-CALNAME"]) == "Round Table: Ana Ortiz"
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_a_meetings_uid_is_the_one_its_invitations_carry(client, alliance, reader):
    meeting = _meeting(alliance, days=7)

    assert str(_feed(client, reader.user).walk("VEVENT")[0]["UID"]) == event_uid(meeting)


def test_cancelled_meetings_and_meetings_older_than_six_months_are_left_out(client, alliance, reader):
    _meeting(alliance, days=7, status=Meeting.Status.CANCELLED)
    _meeting(alliance, days=-200)
    kept = _meeting(alliance, days=-30)

    events = _feed(client, reader.user).walk("VEVENT")

    assert [event.decoded("DTSTART") for event in events] == [kept.starts_at]


def test_the_feed_holds_the_readers_own_open_to_dos_as_all_day_events(client, alliance, reader):
    due = date(2026, 12, 4)
    mine = TodoFactory(alliance=alliance, owner=reader, text="Book the library room", due_on=due)
    TodoFactory(alliance=alliance, owner=reader, text="Already done", status=Todo.Status.DONE, done_at=timezone.now())
    TodoFactory(alliance=alliance, owner=reader, text="Dropped", status=Todo.Status.DROPPED, drop_reason="No need.")
    TodoFactory(alliance=alliance, text="Somebody else's")

    calendar = _feed(client, reader.user)

    assert _summaries(calendar) == ["To-do: Book the library room"]
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]).startswith(f"todo-{mine.pk}@")
    assert event.decoded("DTSTART") == due
    assert event.decoded("DTEND") == due + timedelta(days=1)
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert reverse("tasks:todo_detail", kwargs={"slug": alliance.slug, "pk": mine.pk}) in str(event["URL"])


def test_a_former_members_feed_no_longer_holds_that_alliances_meetings_or_to_dos(
    client, alliance, reader, steward_user
):
    _meeting(alliance, days=7)
    TodoFactory(alliance=alliance, owner=reader, text="Book the library room")
    other = AllianceFactory(name="Park Friends")
    MemberFactory(alliance=other, user=reader.user)
    _meeting(other, days=14)
    assert len(_feed(client, reader.user).walk("VEVENT")) == 3

    alliance_services.member_deactivate(member=reader, by=steward_user)

    assert _summaries(_feed(client, reader.user)) == ["Park Friends: meeting"]


def test_the_feed_needs_no_sign_in_and_is_kept_by_no_shared_cache(client, alliance, reader):
    response = client.get(_feed_url(reader.user))

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_the_feed_costs_the_same_three_queries_for_one_alliance_and_for_many(client, page_cache_off):
    def queries(user: User) -> int:
        client.get(_feed_url(user))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_feed_url(user)).status_code == 200
        return len(captured)

    few = MemberFactory()
    _meeting(few.alliance, days=7)
    TodoFactory(alliance=few.alliance, owner=few)
    many = UserFactory()
    for _ in range(4):
        member = MemberFactory(user=many)
        note_taker = MemberFactory(alliance=member.alliance, is_steward=True)
        for days in (-20, 7, 14):
            _meeting(member.alliance, days=days, facilitator=member, note_taker=note_taker)
        TodoFactory.create_batch(3, alliance=member.alliance, owner=member)

    assert len(_feed(client, many).walk("VEVENT")) == 24
    assert queries(few.user) == queries(many) == 3  # the person, the meetings, the to-dos


# --- The token ----------------------------------------------------------------------------------------


def test_each_person_has_their_own_long_random_token(db):
    one, two = UserFactory(), UserFactory()

    assert len(one.calendar_token) >= 32
    assert one.calendar_token != two.calendar_token
    assert set(one.calendar_token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "wrong",
    [
        lambda token: "x" * len(token),  # nobody's
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the right key, a wrong secret
        lambda token: token[:12],  # the key alone
        lambda token: token + "x",  # too long
        lambda token: token[:-1] + "é",  # not ASCII
    ],
)
def test_a_token_that_is_not_exactly_someones_gets_404(client, reader, wrong):
    token = reader.user.calendar_token

    assert client.get(reverse("calendar_feed", args=[wrong(token)])).status_code == 404


def test_the_feed_of_a_deactivated_account_gets_404(client, reader):
    User.objects.filter(pk=reader.user.pk).update(is_active=False)

    assert client.get(_feed_url(reader.user)).status_code == 404


def test_the_feed_only_answers_reads(client, reader):
    assert client.post(_feed_url(reader.user)).status_code == 405


# --- The link on the profile --------------------------------------------------------------------------


def test_the_profile_shows_the_feed_address_in_a_read_only_field(client, reader):
    client.force_login(reader.user)

    html = client.get(PROFILE_URL).content.decode()

    assert re.search(rf'id="calendar-url" value="https?://[^"/]+{_feed_url(reader.user)}" readonly', html)
    assert '<label class="form-label" for="calendar-url">Your calendar address</label>' in html
    assert f'action="{REPLACE_URL}"' in html
    assert "Replace the link</button>" in html


def test_replacing_the_link_gives_a_new_address_and_the_old_one_answers_404(client, alliance, reader):
    _meeting(alliance, days=7)
    old_url = _feed_url(reader.user)
    client.force_login(reader.user)
    assert old_url in client.get(PROFILE_URL).content.decode()  # the profile page is now kept

    response = client.post(REPLACE_URL, follow=True)

    reader.user.refresh_from_db()
    new_url = _feed_url(reader.user)
    assert new_url != old_url
    html = response.content.decode()
    assert "Your calendar link has been replaced" in html
    assert new_url in html
    assert old_url not in html
    assert new_url in client.get(PROFILE_URL).content.decode()  # the kept copy is not shown again
    client.logout()
    assert client.get(old_url).status_code == 404
    assert _summaries(_feed(client, reader.user)) == ["Barrio Readers: meeting"]


def test_the_link_is_replaced_only_by_a_post_of_the_signed_in_person(client, reader):
    token = reader.user.calendar_token

    anonymous = client.post(REPLACE_URL)
    client.force_login(reader.user)
    read = client.get(REPLACE_URL)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert read.status_code == 405
    reader.user.refresh_from_db()
    assert reader.user.calendar_token == token
