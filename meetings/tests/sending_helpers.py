"""A meeting ready to send, with members who read in different languages and zones (tests of sending)."""

from datetime import UTC, datetime

import icalendar
from django.core.mail import EmailMessage

from alliances.models import Alliance, Member
from alliances.tests.factories import MemberFactory
from meetings.models import DEFAULT_SEGMENT_MINUTES, AgendaItem, AgendaSegment, Meeting
from meetings.tests.factories import AgendaItemFactory, MeetingFactory, ReflectionFactory

# Wednesday 10 March 2027, 18:00 in Madrid (CET, UTC+1): 17:00 UTC, 12:00 in New York (EST, UTC-5).
STARTS_AT = datetime(2027, 3, 10, 17, 0, tzinfo=UTC)


def facilitator_of(alliance: Alliance) -> Member:
    return MemberFactory(
        alliance=alliance,
        user__display_name="Fran Facilitator",
        user__email="fran@example.org",
        user__language="en",
        user__time_zone="America/New_York",
    )


def ready_meeting(alliance: Alliance, *, facilitator: Member, note_taker: Member) -> Meeting:
    """A meeting in Madrid with the six segments, two items (one presented) and a reflection."""
    alliance.time_zone = "Europe/Madrid"
    alliance.save(update_fields=["time_zone"])
    meeting = MeetingFactory(
        alliance=alliance,
        starts_at=STARTS_AT,
        duration_minutes=90,
        time_zone="Europe/Madrid",
        venue_address="Biblioteca del Barrio\nCalle Mayor 1",
        video_link="https://meet.example.org/barrio",
        support_offered="Interpretation into Catalan; childcare on site",
        facilitator=facilitator,
        note_taker=note_taker,
    )
    AgendaSegment.objects.bulk_create(
        AgendaSegment(meeting=meeting, kind=kind, minutes=minutes) for kind, minutes in DEFAULT_SEGMENT_MINUTES.items()
    )
    AgendaItemFactory(
        meeting=meeting,
        title="Summer reading club",
        kind=AgendaItem.Kind.DECISION,
        minutes=20,
        presenter=note_taker,
        description="Choose **three** books.",
        position=1,
    )
    AgendaItemFactory(meeting=meeting, title="Library hours", kind=AgendaItem.Kind.INFORMATION, minutes=5, position=2)
    ReflectionFactory(meeting=meeting)
    return meeting


def email_to(mailoutbox: list[EmailMessage], address: str) -> EmailMessage:
    [email] = [e for e in mailoutbox if address in e.to[0]]
    return email


def calendar_part(email: EmailMessage) -> icalendar.Calendar:
    """The text/calendar alternative of an email, parsed."""
    [content] = [a.content for a in email.alternatives if a.mimetype.startswith("text/calendar")]
    return icalendar.Calendar.from_ical(content)


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    return event
