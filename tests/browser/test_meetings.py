"""Scheduling in a real browser: the facilitator of the last meeting opens the Meetings tab, schedules the
next meeting with the date, time and roles the form proposes, and a member sends apologies."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.models import Alliance
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings.models import Apology, Meeting
from meetings.tests.factories import MeetingFactory
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alliance(db) -> Alliance:
    alliance = AllianceFactory(
        name="Barrio Readers",
        slug="barrio-readers",
        cadence=Alliance.Cadence.WEEKLY,
        meeting_weekday=1,
        meeting_time=time(18),
        meeting_duration_minutes=90,
        time_zone="America/New_York",
        venue_address="Biblioteca Municipal",
    )
    now = timezone.now()
    ana = MemberFactory(alliance=alliance, is_steward=True, user__display_name="Ana", joined_at=now - timedelta(days=9))
    ben = MemberFactory(alliance=alliance, user__display_name="Ben", joined_at=now - timedelta(days=8))
    MemberFactory(alliance=alliance, user__display_name="Cai", joined_at=now - timedelta(days=7))
    # Last week Ben facilitated and Ana took notes: Cai has held neither role.
    MeetingFactory(alliance=alliance, starts_at=now - timedelta(days=6), facilitator=ben, note_taker=ana)
    return alliance


def test_the_last_facilitator_schedules_the_next_meeting_as_proposed_and_a_member_sends_apologies(
    browser, site, alliance
):
    ben = alliance.members.get(user__display_name="Ben")
    page = signed_in_page(browser, site, ben, viewport={"width": 390, "height": 844})
    page.goto(f"{site.url}{alliance.get_absolute_url()}")

    page.get_by_role("link", name="Meetings", exact=True).click()
    page.get_by_role("link", name="Schedule next meeting").click()

    # Cai never facilitated, Ben never took notes (Ana did, last time): they are proposed.
    expect(page.get_by_label("Facilitator")).to_have_value(str(alliance.members.get(user__display_name="Cai").pk))
    expect(page.get_by_label("Note taker")).to_have_value(str(ben.pk))
    expect(page.get_by_label("Start time")).to_have_value("18:00")
    expect(page.get_by_label("Venue address")).to_have_value("Biblioteca Municipal")
    page.get_by_label("Support offered").fill("Childcare in the children's room")
    page.get_by_role("button", name="Schedule the meeting").click()

    expect(page.get_by_text("The meeting has been scheduled.")).to_be_visible()
    meeting = Meeting.objects.order_by("-starts_at").first()
    local = meeting.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.hour) == (1, 18)
    assert meeting.facilitator.user.display_name == "Cai"

    page.get_by_role("button", name="Send my apologies (I cannot attend)").click()
    expect(page.get_by_text("Your apologies have been sent.")).to_be_visible()
    assert Apology.objects.filter(meeting=meeting, member=ben).exists()
