"""A meeting as a calendar event (RFC 5545), for invitations by email (RFC 5546) and the agenda.ics download.

Choices that make Google, Apple and Outlook calendars accept the event and its updates:

- The UID is stable for the meeting (`meeting-<uuid>@<site host>`): an update or a cancellation with the
  same UID replaces the event instead of adding a second one. SEQUENCE is the meeting's, raised by the
  sending services before every update they send; calendars ignore an update whose SEQUENCE is not higher.
- Times are written in UTC (`DTSTART:…Z`). Every client converts them to its reader's zone, and UTC needs
  no VTIMEZONE: the one icalendar generates from zoneinfo lists every transition up to 2038, which
  Outlook has been known to misread. The meeting's own zone is named in the description.
- The ORGANIZER is the site's sending address with the alliance's name as CN, not the facilitator.
  The invitation arrives From that address, and Gmail and Outlook only process an invitation (and later
  its updates) without a warning when the organizer matches the sender; and the facilitator rotates:
  a calendar drops an update whose organizer differs from the event it holds, so a facilitator change
  would leave stale events in everyone's calendar. The facilitator is named in the description and is
  the email's Reply-To. RSVP=FALSE: apologies are sent on the meeting page, not by calendar replies.
- A REQUEST and a CANCEL name their one recipient as ATTENDEE, so each recipient's copy is built for them
  (`outbox.services.mail_send(attachments_for=…)`); a PUBLISH (the download) names no attendee.
"""

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from accounts import time_zones
from meetings.models import Meeting
from outbox.services import Address, File, absolute_url

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"
PRODID = "-//Round Table//Meetings//EN"
FILENAME = "invite.ics"


def event_uid(meeting: Meeting) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"meeting-{meeting.uid}@{host}"


def _organizer(meeting: Meeting) -> vCalAddress:
    email = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "roundtable@localhost"
    organizer = vCalAddress(f"mailto:{email}")
    organizer.params["CN"] = vText(meeting.alliance.name)
    return organizer


def _attendee(address: Address) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{address.email}")
    if address.name:
        attendee.params["CN"] = vText(address.name)
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "FALSE"
    return attendee


def _description(meeting: Meeting, url: str) -> str:
    local = timezone.localtime(meeting.starts_at, timezone=_zone(meeting.time_zone))
    lines = [
        _("Meeting of %(alliance)s, %(time)s (%(zone)s).")
        % {
            "alliance": meeting.alliance.name,
            "time": local.strftime("%Y-%m-%d %H:%M"),
            "zone": time_zones.label(meeting.time_zone),
        }
    ]
    if meeting.facilitator is not None:
        lines.append(_("Facilitator: %(name)s") % {"name": meeting.facilitator.user.display_name})
    if meeting.note_taker is not None:
        lines.append(_("Note taker: %(name)s") % {"name": meeting.note_taker.user.display_name})
    if meeting.video_link:
        lines.append(_("Video call: %(link)s") % {"link": meeting.video_link})
    if meeting.support_offered:
        lines.append(_("Support offered: %(support)s") % {"support": meeting.support_offered})
    lines.append(_("Agenda and apologies: %(url)s") % {"url": url})
    return "\n".join(lines)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def meeting_calendar(
    *, meeting: Meeting, method: str, attendee: Address | None = None, now: datetime | None = None
) -> bytes:
    """The meeting as an iCalendar object with this METHOD, in the active language."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = meeting_event(meeting=meeting, cancelled=method == CANCEL, now=now)
    if attendee is not None and method != PUBLISH:
        event.add("attendee", _attendee(attendee))
    calendar.add_component(event)
    return calendar.to_ical()


def invitations(*, meeting: Meeting, method: str) -> Callable[[Address], list[File]]:
    """`invitation_files` for many recipients of one meeting, for `mail_send(attachments_for=…)`.

    The event is built and serialised once per language, for a stand-in attendee; each recipient's copy
    puts its own ATTENDEE line (folded as icalendar folds it) in the stand-in's place, so the bytes are
    those `invitation_files` makes (the notes to 500 members spent a third of the click serialising the
    same event 500 times).
    """
    built: dict[str, tuple[bytes, bytes]] = {}
    now = timezone.now()  # one DTSTAMP for every copy, as they are sent together
    stand_in = Address(email="attendee@invalid")

    def files(attendee: Address) -> list[File]:
        if attendee.language not in built:
            with translation.override(attendee.language):
                whole = meeting_calendar(meeting=meeting, method=method, attendee=stand_in, now=now)
            start = whole.find(b"\r\nATTENDEE") + 2
            end = start
            while True:  # the property's line and its folded continuations (a CRLF and a space)
                end = whole.index(b"\r\n", end) + 2
                if whole[end : end + 1] not in (b" ", b"\t"):
                    break
            built[attendee.language] = (whole[:start], whole[end:]) if start > 1 else (whole, b"")
        head, tail = built[attendee.language]
        if not tail:  # no ATTENDEE in this method's calendar (PUBLISH)
            return _files(head, method)
        line = Event().content_line("ATTENDEE", _attendee(attendee)).to_ical() + b"\r\n"
        return _files(head + line + tail, method)

    return files


def meeting_event(*, meeting: Meeting, cancelled: bool = False, now: datetime | None = None) -> Event:
    """The meeting's VEVENT, in the active language: for an invitation and for the calendar feed (meetings/feed.py)."""
    url = absolute_url(meeting.get_absolute_url())
    event = Event()
    event.add("uid", event_uid(meeting))
    event.add("dtstamp", now or timezone.now())
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", _("%(alliance)s: meeting") % {"alliance": meeting.alliance.name})
    event.add("description", _description(meeting, url))
    event.add("url", url)
    location = " ".join(meeting.venue_address.split()) or meeting.video_link
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if cancelled or meeting.is_cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer(meeting))
    return event


def invitation_files(*, meeting: Meeting, method: str, attendee: Address) -> list[File]:
    """One recipient's calendar invitation (REQUEST) or cancellation (CANCEL), in their language.

    Sent twice, the widely accepted layout: as a `text/calendar; method=…` part beside the text and
    HTML (what Gmail and Outlook act on) and as an `.ics` attachment (what Apple Mail and others open).
    """
    with translation.override(attendee.language):
        content = meeting_calendar(meeting=meeting, method=method, attendee=attendee)
    return _files(content, method)


def _files(content: bytes, method: str) -> list[File]:
    return [
        File(
            filename=FILENAME,
            content=content,
            mimetype=f"text/calendar; method={method}",
            alternative=True,
        ),
        File(filename=FILENAME, content=content, mimetype="application/ics"),
    ]
