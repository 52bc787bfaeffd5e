"""Sending the agenda in a real browser: the facilitator sends it, changes it and sends the update; a
member downloads the event for their calendar."""

from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import agenda
from meetings.services import meeting_schedule
from outbox.models import Delivery
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prepared(db):
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers", time_zone="Europe/Madrid")
    steward = MemberFactory(alliance=alliance, is_steward=True, user__display_name="Stella Steward")
    facilitator = MemberFactory(alliance=alliance, user__display_name="Fran Facilitator")
    reader = MemberFactory(
        alliance=alliance, user__display_name="Mia Member", user__language="es", user__time_zone="Europe/Madrid"
    )
    meeting = meeting_schedule(
        alliance=alliance,
        by=steward,
        starts_at=(timezone.now() + timedelta(days=7)).replace(microsecond=0),
        duration_minutes=90,
        facilitator=facilitator,
        note_taker=reader,
    )
    agenda.agenda_item_add(meeting=meeting, by=facilitator, title="Summer reading club", minutes=20)
    return {"meeting": meeting, "facilitator": facilitator, "reader": reader}


def _signed_in_page(browser, site, member_user):
    return signed_in_page(browser, site, member_user, viewport={"width": 390, "height": 844}, accept_downloads=True)


def test_the_facilitator_sends_the_agenda_then_its_update_and_a_member_downloads_the_event(browser, site, prepared):
    meeting = prepared["meeting"]
    page = _signed_in_page(browser, site, prepared["facilitator"])
    page.goto(f"{site.url}{meeting.get_absolute_url()}")

    box = page.locator("#agenda-sending")
    expect(box).to_contain_text("The agenda has not been sent to the members yet.")
    box.get_by_role("button", name="Send agenda").click()
    expect(page.locator("#agenda-sending")).to_contain_text("Version 1 of the agenda was sent")
    expect(page.locator("#agenda-sending")).to_contain_text("It is up to date.")
    assert Delivery.objects.filter(message__template="agenda").count() == 3

    agenda.agenda_item_add(meeting=meeting, by=prepared["facilitator"], title="Book swap stall", minutes=10)
    page.reload()
    page.locator("#agenda-sending").get_by_role("button", name="Send the updated agenda").click()
    expect(page.locator("#agenda-sending")).to_contain_text("Version 2 of the agenda was sent")
    update = Delivery.objects.filter(message__template="agenda", language="en").latest("pk")
    assert "Updated agenda" in update.subject
    assert "New item: Book swap stall" in update.body_text
    assert Delivery.objects.filter(message__template="agenda").count() == 6

    member_page = _signed_in_page(browser, site, prepared["reader"])
    member_page.goto(f"{site.url}{meeting.get_absolute_url()}")
    assert member_page.locator("#agenda-sending").get_by_role("button").count() == 0
    with member_page.expect_download() as download:
        member_page.locator("#agenda-sending a[href$='agenda.ics']").click()
    with open(download.value.path(), "rb") as ics:
        calendar = icalendar.Calendar.from_ical(ics.read())
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "PUBLISH"
    assert event["SEQUENCE"] == 2
