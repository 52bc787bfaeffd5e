from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliances.models import Alliance, Member
from alliances.tests.factories import MemberFactory
from meetings import services
from meetings.models import Apology, Meeting, Role, RoleTurnChange
from meetings.scheduling import local_to_utc
from meetings.tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def _url(name: str, alliance: Alliance, **kwargs) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": alliance.slug, **kwargs})


@pytest.fixture
def people(alliance, steward_user, member_user) -> dict[str, Member]:
    return {
        "steward": Member.objects.get(alliance=alliance, user=steward_user),
        "mia": Member.objects.get(alliance=alliance, user=member_user),
        "fay": MemberFactory(alliance=alliance, user__display_name="Fay Facilitator"),
        "nat": MemberFactory(alliance=alliance, user__display_name="Nat Notes"),
    }


@pytest.fixture
def meeting(alliance, people) -> Meeting:
    return services.meeting_schedule(
        alliance=alliance,
        by=people["steward"],
        starts_at=(timezone.now() + timedelta(days=7)).replace(microsecond=0),
        duration_minutes=90,
        facilitator=people["fay"],
        note_taker=people["nat"],
        venue_address="Library, room 2",
    )


def _form(day: date, start: str, people: dict[str, Member], **changes) -> dict:
    return {
        "date": day.isoformat(),
        "start_time": start,
        "duration_minutes": "90",
        "venue_address": "Library",
        "video_link": "",
        "facilitator": str(people["fay"].pk),
        "note_taker": str(people["nat"].pk),
        "support_offered": "Childcare in room 3",
        **changes,
    }


# --- Scheduling ------------------------------------------------------------------------------------


def test_the_schedule_form_proposes_the_next_slot_the_charters_venue_and_the_fairest_members(
    client, alliance, steward_user, people
):
    alliance.cadence, alliance.meeting_weekday, alliance.meeting_time = Alliance.Cadence.WEEKLY, 1, time(18, 30)
    alliance.meeting_duration_minutes, alliance.venue_address = 120, "Community centre"
    alliance.time_zone = "America/New_York"
    alliance.save()
    client.force_login(steward_user)

    form = client.get(_url("meeting_create", alliance)).context["form"]

    assert form.initial["start_time"] == time(18, 30)
    assert form.initial["date"].weekday() == 1
    assert form.initial["duration_minutes"] == 120
    assert form.initial["venue_address"] == "Community centre"
    # Nobody has held a role yet: the two who joined first.
    assert (form.initial["facilitator"], form.initial["note_taker"]) == (people["steward"].pk, people["mia"].pk)


def test_a_steward_schedules_a_meeting_at_six_pm_new_york_time_across_the_clock_change(
    client, alliance, steward_user, people
):
    alliance.time_zone = "America/New_York"
    alliance.save()
    client.force_login(steward_user)
    # Far enough ahead to be in the future whenever the test runs; one winter and one summer date.
    winter, summer = date(timezone.now().year + 2, 3, 2), date(timezone.now().year + 2, 4, 6)

    for day in (winter, summer):
        response = client.post(_url("meeting_create", alliance), _form(day, "18:00", people))
        assert response.status_code == 302

    first, second = Meeting.objects.order_by("starts_at")
    assert first.starts_at == local_to_utc(winter, time(18), "America/New_York")
    assert (first.starts_at.hour, second.starts_at.hour) == (23, 22)
    page = client.get(second.get_absolute_url()).content.decode()
    assert "6 p.m. to 7:30 p.m." in page  # in the meeting's zone, whatever the reader's
    assert "Childcare in room 3" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"date": "2001-01-01"}, "A meeting can only be scheduled in the future."),
        ({"date": "next tuesday"}, "Enter a date such as 2027-03-16."),
        ({"note_taker": "fay"}, "One person cannot be both facilitator and note taker of a meeting."),
        ({"facilitator": "former"}, "Choose an active member of the alliance."),
        ({"facilitator": "stranger"}, "Choose an active member of the alliance."),
    ],
)
def test_bad_input_gets_a_clear_message_on_the_form_and_nothing_is_saved(
    client, alliance, steward_user, people, changes, message
):
    people["former"] = MemberFactory(alliance=alliance, is_active=False)
    people["stranger"] = MemberFactory()
    changes = {key: str(people[value].pk) if value in people else value for key, value in changes.items()}
    client.force_login(steward_user)

    response = client.post(
        _url("meeting_create", alliance), _form(date(timezone.now().year + 1, 6, 1), "18:00", people, **changes)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_time_the_clocks_skip_gets_a_clear_message(client, alliance, steward_user, people):
    alliance.time_zone = "America/New_York"
    alliance.save()
    client.force_login(steward_user)
    year = timezone.now().year + 2
    # The second Sunday of March: New York's clocks jump from 2:00 to 3:00.
    second_sunday = next(date(year, 3, d) for d in range(8, 15) if date(year, 3, d).weekday() == 6)

    response = client.post(_url("meeting_create", alliance), _form(second_sunday, "02:30", people))

    assert "this time does not exist that day" in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_plain_member_may_not_schedule_but_the_facilitator_of_the_latest_meeting_may(
    client, alliance, member_user, people, meeting
):
    client.force_login(member_user)
    assert client.get(_url("meeting_create", alliance)).status_code == 403

    client.force_login(people["fay"].user)
    assert client.get(_url("meeting_create", alliance)).status_code == 200


# --- The meeting page and its actions --------------------------------------------------------------


def test_the_facilitator_reschedules_and_a_plain_member_cannot(client, alliance, member_user, people, meeting):
    local = timezone.localtime(meeting.starts_at + timedelta(days=1), timezone.get_fixed_timezone(0))
    data = _form(local.date(), local.strftime("%H:%M"), people)

    client.force_login(member_user)
    assert client.post(_url("meeting_edit", alliance, pk=meeting.pk), data).status_code == 403
    client.force_login(people["fay"].user)
    response = client.post(_url("meeting_edit", alliance, pk=meeting.pk), data)

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.starts_at == local.replace(second=0, microsecond=0)
    assert meeting.sequence == 1


def test_a_member_sends_apologies_and_takes_them_back(client, alliance, member_user, people, meeting):
    client.force_login(member_user)

    client.post(_url("apology_send", alliance, pk=meeting.pk))
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert Apology.objects.filter(meeting=meeting, member=people["mia"]).exists()
    assert "I can come after all" in page

    client.post(_url("apology_withdraw", alliance, pk=meeting.pk))
    assert not Apology.objects.exists()


def test_the_note_taker_skips_their_turn_from_the_meeting_page(client, alliance, people, meeting):
    client.force_login(people["nat"].user)

    response = client.post(_url("role_turn_skip", alliance, pk=meeting.pk, role=Role.NOTE_TAKER), follow=True)

    meeting.refresh_from_db()
    assert meeting.note_taker not in (people["nat"], people["fay"])
    assert "stays theirs next time" in response.content.decode()
    assert RoleTurnChange.objects.filter(kind="skip").count() == 1


def test_a_plain_member_cannot_skip_someone_elses_turn_and_an_unknown_role_is_not_found(
    client, alliance, member_user, meeting
):
    client.force_login(member_user)

    assert client.post(_url("role_turn_skip", alliance, pk=meeting.pk, role=Role.FACILITATOR)).status_code == 403
    assert client.post(_url("role_turn_skip", alliance, pk=meeting.pk, role="chair")).status_code == 404


def test_the_facilitator_swaps_with_another_member(client, alliance, people, meeting):
    client.force_login(people["fay"].user)

    client.post(
        _url("role_turn_swap", alliance, pk=meeting.pk, role=Role.FACILITATOR), {"with_member": people["mia"].pk}
    )

    meeting.refresh_from_db()
    assert meeting.facilitator == people["mia"]


def test_a_meeting_held_before_its_scheduled_time_is_listed_with_the_past_ones(client, alliance, member_user, meeting):
    # Groups may begin early: this one started and ended an hour ago, though it was set for later.
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        status=Meeting.Status.ENDED, started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1)
    )
    client.force_login(member_user)

    page = client.get(_url("meeting_list", alliance)).content.decode()
    home = client.get(alliance.get_absolute_url()).content.decode()

    assert page.index('id="past-heading"') < page.index(meeting.get_absolute_url())
    assert page.count(meeting.get_absolute_url()) == 1
    # Not the alliance's next meeting any more (its notes are awaited instead).
    assert "No meeting is scheduled." in home
    assert f'href="{meeting.get_absolute_url()}notes/"' in home


def test_cancelling_shows_on_the_list_and_the_meeting_page(client, alliance, steward_user, meeting):
    client.force_login(steward_user)

    response = client.post(_url("meeting_cancel", alliance, pk=meeting.pk), follow=True)

    assert "The meeting has been cancelled" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.is_cancelled
    listing = client.get(_url("meeting_list", alliance)).content.decode()
    upcoming = listing[listing.index('id="upcoming-heading"') : listing.index('id="past-heading"')]
    assert meeting.get_absolute_url() in upcoming
    assert "Cancelled" in upcoming
    # A cancelled meeting no longer changes: its form sends the reader back to it.
    edit = client.get(_url("meeting_edit", alliance, pk=meeting.pk), follow=True)
    assert "Only an upcoming meeting can be changed." in edit.content.decode()


def test_the_list_shows_upcoming_meetings_before_past_ones_and_the_alliance_home_the_next_one(
    client, alliance, member_user, people, meeting
):
    MeetingFactory(alliance=alliance, starts_at=timezone.now() - timedelta(days=30), facilitator=people["mia"])
    client.force_login(member_user)

    page = client.get(_url("meeting_list", alliance)).content.decode()
    home = client.get(alliance.get_absolute_url()).content.decode()

    upcoming, past = page.index('id="upcoming-heading"'), page.index('id="past-heading"')
    assert upcoming < page.index("Fay Facilitator", upcoming) < past < page.index("Mia Member", past)
    assert 'aria-current="page"' in page
    assert "Next meeting" in home
    assert meeting.get_absolute_url() in home
    assert _url("meeting_create", alliance) not in home  # a plain member does not schedule


def test_a_steward_finds_schedule_next_meeting_on_the_alliance_home(client, alliance, steward_user):
    client.force_login(steward_user)

    home = client.get(alliance.get_absolute_url()).content.decode()

    assert "No meeting is scheduled." in home
    assert _url("meeting_create", alliance) in home


def test_the_roles_page_shows_each_members_count_and_last_date(client, alliance, member_user, people):
    held = MeetingFactory(
        alliance=alliance,
        starts_at=timezone.now() - timedelta(days=14),
        facilitator=people["fay"],
        note_taker=people["mia"],
    )
    client.force_login(member_user)

    response = client.get(_url("roles", alliance))

    rows = {row.name: row for row in response.context["rows"]}
    assert rows["Fay Facilitator"].facilitator_count == "1"
    assert rows["Mia Member"].note_taker_count == "1"
    assert rows["Nat Notes"].facilitator_last == "never"
    assert rows["Fay Facilitator"].facilitator_last != "never"
    assert held.pk


# --- Query counts ----------------------------------------------------------------------------------


def _grow(alliance: Alliance, people: dict[str, Member], members: int, meetings: int) -> None:
    extra = [MemberFactory(alliance=alliance) for _ in range(members)]
    everyone = [*people.values(), *extra]
    for i in range(meetings):
        MeetingFactory(
            alliance=alliance,
            starts_at=timezone.now() + timedelta(days=(-1 if i % 2 else 1) * (i + 2)),
            facilitator=everyone[i % len(everyone)],
            note_taker=everyone[(i + 1) % len(everyone)],
        )


@pytest.mark.parametrize("page", ["meeting_list", "roles", "meeting_detail"])
def test_pages_do_not_grow_in_queries_with_members_and_meetings(
    client, alliance, steward_user, people, meeting, django_assert_max_num_queries, page
):
    kwargs = {"pk": meeting.pk} if page == "meeting_detail" else {}
    client.force_login(steward_user)
    Apology.objects.create(meeting=meeting, member=people["mia"])

    with django_assert_max_num_queries(30) as small:
        client.get(_url(page, alliance, **kwargs))
    _grow(alliance, people, members=15, meetings=20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(_url(page, alliance, **kwargs)).status_code == 200


def test_the_meeting_page_gives_a_reader_in_another_zone_their_own_time_too(client, alliance, people):
    alliance.time_zone = "America/New_York"
    alliance.save()
    starts_at = local_to_utc(date(timezone.now().year + 1, 7, 7), time(18), "America/New_York")
    meeting = MeetingFactory(alliance=alliance, starts_at=starts_at, facilitator=people["fay"])
    madrid, new_york = people["mia"].user, people["nat"].user
    madrid.time_zone, new_york.time_zone = "Europe/Madrid", "America/New_York"
    madrid.save()
    new_york.save()

    client.force_login(madrid)
    far = client.get(meeting.get_absolute_url()).content.decode()
    client.force_login(new_york)
    near = client.get(meeting.get_absolute_url()).content.decode()

    assert "6 p.m. to 7:30 p.m." in far
    assert "Your time:" in far
    assert "midnight" in far  # 18:00 in New York in July is 00:00 in Madrid
    assert "Your time:" not in near
