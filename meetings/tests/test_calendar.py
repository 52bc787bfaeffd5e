"""The meeting as an iCalendar object: what RFC 5545 and RFC 5546 ask of each method."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.utils import translation

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import calendar
from meetings.tests.factories import MeetingFactory
from outbox.services import Address

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def meeting():
    # Commas, a colon and a semicolon must be escaped in text and quoted in parameters.
    alliance = AllianceFactory(name="Lectores: Norte, Sur; y más", slug="lectores", time_zone="America/Mexico_City")
    facilitator = MemberFactory(alliance=alliance, user__display_name="Ana Ñúñez")
    return MeetingFactory(
        alliance=alliance,
        starts_at=datetime(2027, 3, 10, 0, 30, tzinfo=UTC),
        duration_minutes=60,
        time_zone="America/Mexico_City",
        venue_address="Casa de Cultura,\nAv. Juárez 5",
        facilitator=facilitator,
    )


def _ical(meeting, method, attendee=None) -> bytes:
    return calendar.meeting_calendar(meeting=meeting, method=method, attendee=attendee, now=NOW)


def test_a_request_has_every_property_rfc_5546_requires(meeting):
    attendee = Address(email="mia@example.org", name="Mia, Member", language="es")
    raw = _ical(meeting, calendar.REQUEST, attendee)
    parsed = icalendar.Calendar.from_ical(raw)
    [event] = parsed.walk("VEVENT")

    assert (parsed["VERSION"], parsed["PRODID"], parsed["METHOD"]) == ("2.0", calendar.PRODID, "REQUEST")
    assert str(event["UID"]) == f"meeting-{meeting.uid}@testserver"
    assert event["DTSTAMP"].dt == NOW
    assert event["SEQUENCE"] == 0
    # Times in UTC: the evening of 9 March in Mexico City is 10 March in UTC.
    assert event["DTSTART"].to_ical() == b"20270310T003000Z"
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=60)
    assert event["ORGANIZER"].params["CN"] == "Lectores: Norte, Sur; y más"
    assert str(event["ATTENDEE"]) == "mailto:mia@example.org"
    assert event["ATTENDEE"].params["CN"] == "Mia, Member"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert str(event["LOCATION"]) == "Casa de Cultura, Av. Juárez 5"
    assert str(event["URL"]) == f"http://testserver/alliances/lectores/meetings/{meeting.pk}/"
    assert "2027-03-09 18:30 (Mexico — Mexico City)" in str(event["DESCRIPTION"])
    assert "Ana Ñúñez" in str(event["DESCRIPTION"])
    assert event["STATUS"] == "CONFIRMED"


def test_the_text_follows_the_content_lines_rules(meeting):
    raw = _ical(meeting, calendar.REQUEST, Address(email="mia@example.org", name="Mia"))
    lines = raw.split(b"\r\n")

    assert raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in lines)  # folded at 75 octets
    assert b'ORGANIZER;CN="Lectores: Norte, Sur; y m\xc3\xa1s":mailto:roundtable@localhost' in raw.replace(
        b"\r\n ", b""
    )
    assert b"SUMMARY:Lectores: Norte\\, Sur\\; y m\xc3\xa1s: meeting" in raw.replace(b"\r\n ", b"")


def test_a_cancel_keeps_the_uid_and_says_cancelled(meeting):
    meeting.sequence = 4
    parsed = icalendar.Calendar.from_ical(_ical(meeting, calendar.CANCEL, Address(email="mia@example.org")))
    [event] = parsed.walk("VEVENT")

    assert parsed["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 4
    assert str(event["UID"]) == f"meeting-{meeting.uid}@testserver"
    assert str(event["ATTENDEE"]) == "mailto:mia@example.org"


def test_a_publish_names_no_attendee(meeting):
    parsed = icalendar.Calendar.from_ical(_ical(meeting, calendar.PUBLISH, Address(email="mia@example.org")))
    [event] = parsed.walk("VEVENT")

    assert parsed["METHOD"] == "PUBLISH"
    assert "ATTENDEE" not in event
    assert "ORGANIZER" in event


def test_the_uid_is_stable_and_differs_between_meetings(meeting):
    again = icalendar.Calendar.from_ical(_ical(meeting, calendar.PUBLISH)).walk("VEVENT")[0]["UID"]
    other = MeetingFactory(alliance=meeting.alliance)
    assert str(again) == calendar.event_uid(meeting)
    assert calendar.event_uid(other) != calendar.event_uid(meeting)


def test_invitation_files_are_in_the_attendees_language(meeting):
    files = calendar.invitation_files(
        meeting=meeting, method=calendar.REQUEST, attendee=Address(email="mia@example.org", language="es")
    )
    with translation.override("es"):
        expected = translation.gettext("Facilitator: %(name)s") % {"name": "Ana Ñúñez"}

    assert [(f.filename, f.mimetype, f.alternative) for f in files] == [
        ("invite.ics", "text/calendar; method=REQUEST", True),
        ("invite.ics", "application/ics", False),
    ]
    assert files[0].content == files[1].content
    assert expected in str(icalendar.Calendar.from_ical(files[0].content).walk("VEVENT")[0]["DESCRIPTION"])


@pytest.mark.parametrize("method", [calendar.REQUEST, calendar.CANCEL])
def test_invitations_for_many_give_each_attendee_the_bytes_invitation_files_gives(meeting, method):
    # Long names and addresses fold over several lines; a quote-worthy name and accents are escaped.
    attendees = [
        Address(email="mia@example.org", name="Mia, Member", language="es"),
        Address(
            email="a.very.long.address.for.folding.the.line@example.org", name="Señora Ñúñez-Ortega", language="en"
        ),
        Address(email="nameless@example.org", language="es"),
    ]
    with time_machine.travel(NOW, tick=False):
        files_for = calendar.invitations(meeting=meeting, method=method)
        for attendee in attendees:
            assert files_for(attendee) == calendar.invitation_files(meeting=meeting, method=method, attendee=attendee)
