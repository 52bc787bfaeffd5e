"""Issue 9's "done when", in a real browser and through a real SMTP server: the steward schedules the next
meeting with the suggested roles, the facilitator drafts five items and a reflection, reorders one from the
keyboard, a member proposes an item from her phone (in Spanish) and the facilitator accepts it, prints the
agenda and sends it; each member's email is in their own language and time zone with a calendar
invitation, and a reschedule sends the same event (same UID) with a higher SEQUENCE."""

import email
from datetime import time, timedelta
from email import policy
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import rotation
from meetings.models import AgendaItem, Meeting
from meetings.tests.factories import MeetingFactory
from outbox.tests.smtp_server import RecordingHandler, RecordingSMTPServer
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ITEMS = ["Summer reading club", "Library hours", "Book swap stall", "Volunteer rota", "Budget for books"]


class KeepingHandler(RecordingHandler):
    """Also keeps every accepted message whole, to read what each member received."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return answer


@pytest.fixture
def smtp(settings):
    server = RecordingSMTPServer()
    server.handler = KeepingHandler()
    server.controller.handler = server.handler
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    with server:
        yield server.handler


@pytest.fixture
def people(db) -> dict[str, Member]:
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
    joined = timezone.now() - timedelta(days=30)
    stella = MemberFactory(
        alliance=alliance,
        is_steward=True,
        joined_at=joined,
        organisation="Parents United",
        user__display_name="Stella Steward",
        user__email="stella@example.org",
        user__language="en",
        user__time_zone="America/New_York",
    )
    lucia = MemberFactory(
        alliance=alliance,
        joined_at=joined,
        organisation="Amigos de la Biblioteca",
        user__display_name="Lucía Rivera",
        user__email="lucia@example.org",
        user__language="es",
        user__time_zone="America/Puerto_Rico",
    )
    ben = MemberFactory(
        alliance=alliance,
        joined_at=joined,
        organisation="Eastside School",
        user__display_name="Ben Okafor",
        user__email="ben@example.org",
        user__language="en",
        user__time_zone="America/New_York",
    )
    # Lucía and Ben have each facilitated and taken notes once; Stella never has: her turn to facilitate.
    MeetingFactory(alliance=alliance, starts_at=timezone.now() - timedelta(days=13), facilitator=lucia, note_taker=ben)
    MeetingFactory(alliance=alliance, starts_at=timezone.now() - timedelta(days=6), facilitator=ben, note_taker=lucia)
    return {"stella": stella, "lucia": lucia, "ben": ben}


def _parts(message) -> dict[str, object]:
    """The text, HTML and calendar parts of a received email, by content type."""
    parts = {}
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html", "text/calendar") and kind not in parts:
            parts[kind] = part
    return parts


def _invitation(message) -> tuple[icalendar.Calendar, icalendar.Event]:
    part = _parts(message)["text/calendar"]
    assert part.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_a_meeting_is_scheduled_prepared_sent_and_rescheduled_by_several_people(browser, site, smtp, people):
    stella, lucia, ben = people["stella"], people["lucia"], people["ben"]
    alliance = stella.alliance

    # The steward opens the Meetings tab and schedules the next meeting with the roles the form proposes:
    # the fairest pair by meetings/rotation.py.
    expected_facilitator, expected_note_taker = rotation.suggest_roles(
        candidates=list(Member.objects.active().filter(alliance=alliance)),
        turns=rotation.role_history(alliance=alliance),
    )
    assert expected_facilitator == stella
    page = signed_in_page(browser, site, stella)
    page.goto(f"{site.url}{alliance.get_absolute_url()}")
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.get_by_role("link", name="Schedule next meeting").click()
    expect(page.get_by_label("Facilitator")).to_have_value(str(expected_facilitator.pk))
    expect(page.get_by_label("Note taker")).to_have_value(str(expected_note_taker.pk))
    expect(page.get_by_label("Start time")).to_have_value("18:00")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.get_by_text("The meeting has been scheduled.")).to_be_visible()
    meeting = Meeting.objects.order_by("-starts_at").first()
    assert (meeting.facilitator, meeting.note_taker) == (expected_facilitator, expected_note_taker)
    meeting_url = f"{site.url}{meeting.get_absolute_url()}"

    # The facilitator (Stella) drafts five items and an opening reflection.
    agenda_box = page.locator("#agenda")
    for number, title in enumerate(ITEMS, start=1):
        page.get_by_role("link", name="Add an item").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Time box (minutes)").fill("10")
        page.get_by_role("button", name="Add the item").click()
        expect(agenda_box).to_contain_text(f"{number}. {title}")
    page.get_by_role("link", name="Opening reflection").click()
    page.get_by_label("Kind").select_option(label="Poem")
    page.get_by_label("Text").fill("Tell me, what is it you plan to do with your one wild and precious life?")
    page.get_by_label("Author or source").fill("Mary Oliver")
    page.get_by_role("button", name="Save the reflection").click()
    expect(agenda_box).to_contain_text("— Mary Oliver")

    # From the keyboard: focus the last item's Up button and press Enter.
    page.locator("li[data-item-id]", has_text="Budget for books").get_by_role("button", name="Up").focus()
    with page.expect_response(lambda response: "/move/" in response.url):
        page.keyboard.press("Enter")
    expect(page.locator("#agenda-items li[data-item-id]").nth(3)).to_contain_text("Budget for books")
    reordered = [*ITEMS[:3], ITEMS[4], ITEMS[3]]
    assert _titles(meeting) == reordered

    # Lucía proposes an item from her phone, in Spanish.
    phone = signed_in_page(browser, site, lucia, viewport=PHONE)
    phone.goto(meeting_url)
    phone.get_by_role("link", name="Proponer un punto").click()
    phone.get_by_label("Título").fill("Cuentacuentos en español")
    phone.get_by_label("Tiempo asignado (minutos)").fill("15")
    phone.get_by_role("button", name="Enviar la propuesta").click()
    expect(phone.locator("#agenda")).to_contain_text("Cuentacuentos en español")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "page scrolls sideways"

    # The facilitator accepts it: it ends the agenda.
    page.reload()
    page.locator("#agenda").get_by_role("button", name="Accept").click()
    expect(page.locator("#agenda li[data-item-id]").last).to_contain_text("Cuentacuentos en español")
    assert _titles(meeting) == [*reordered, "Cuentacuentos en español"]

    # The printable agenda ends with an attendance sheet listing every member.
    page.get_by_role("link", name="Printable agenda").click()
    expect(page.get_by_role("heading", name="Attendance sheet")).to_be_visible()
    sheet = page.locator(".attendance tbody tr")
    expect(sheet).to_have_count(3)
    for member in (stella, lucia, ben):
        expect(page.locator(".attendance")).to_contain_text(member.user.display_name)
        expect(page.locator(".attendance")).to_contain_text(member.organisation)

    # The facilitator sends the agenda: each member gets it from the SMTP server, in their language and zone.
    page.goto(meeting_url)
    page.locator("#agenda-sending").get_by_role("button", name="Send agenda").click()
    expect(page.locator("#agenda-sending")).to_contain_text("Version 1 of the agenda was sent")
    agendas = _received_all(smtp)
    assert sorted(agendas) == ["ben@example.org", "lucia@example.org", "stella@example.org"]

    new_york = meeting.starts_at.astimezone(ZoneInfo("America/New_York"))
    puerto_rico = meeting.starts_at.astimezone(ZoneInfo("America/Puerto_Rico"))
    spanish = _parts(agendas["lucia@example.org"])
    spanish_text = spanish["text/plain"].get_content()
    assert "Cuándo:" in spanish_text
    assert f"{puerto_rico:%H:%M} (Puerto Rico)" in spanish_text
    # The meeting's own time and zone beside hers.
    assert f"{new_york:%H:%M} en Estados Unidos — Nueva York" in spanish_text
    assert "Cuentacuentos en español" in spanish_text
    assert "Cuentacuentos en español" in spanish["text/html"].get_content()
    english_text = _parts(agendas["ben@example.org"])["text/plain"].get_content()
    assert "When:" in english_text
    assert "(United States — New York)" in english_text
    assert "Puerto_Rico" not in english_text
    assert english_text.index("Budget for books") < english_text.index("Volunteer rota")

    uids = set()
    for address, message in agendas.items():
        calendar, event = _invitation(message)
        assert calendar["METHOD"] == "REQUEST"
        assert event["DTSTART"].dt == meeting.starts_at
        assert address in str(event["ATTENDEE"]).lower()
        uids.add(str(event["UID"]))
    [uid] = uids
    first_sequence = _invitation(agendas["lucia@example.org"])[1]["SEQUENCE"]

    # The facilitator moves the meeting an hour later: the same event, a higher SEQUENCE.
    smtp.messages.clear()
    page.get_by_role("link", name="Reschedule or change").click()
    page.get_by_label("Start time").fill("19:00")
    page.get_by_role("button", name="Save the meeting").click()
    expect(page.get_by_text("The meeting has been changed.")).to_be_visible()
    meeting.refresh_from_db()
    assert meeting.starts_at.astimezone(ZoneInfo("America/New_York")).hour == 19
    updates = _received_all(smtp)
    assert sorted(updates) == ["ben@example.org", "lucia@example.org", "stella@example.org"]
    for message in updates.values():
        _calendar, event = _invitation(message)
        assert str(event["UID"]) == uid
        assert event["SEQUENCE"] > first_sequence
        assert event["DTSTART"].dt == meeting.starts_at
    later = meeting.starts_at.astimezone(ZoneInfo("America/Puerto_Rico"))
    assert f"{later:%H:%M} (Puerto Rico)" in _parts(updates["lucia@example.org"])["text/plain"].get_content()


def _received_all(handler: KeepingHandler) -> dict[str, object]:
    return {message["To"].addresses[0].addr_spec: message for message in handler.messages}


def _titles(meeting: Meeting) -> list[str]:
    return list(AgendaItem.objects.filter(meeting=meeting).on_agenda().values_list("title", flat=True))
