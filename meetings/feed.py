"""Each person's calendar feed (/calendar/<token>.ics): their alliances' meetings and their own open to-dos,
for Google, Apple and Outlook calendars to subscribe to.

Choices that make the subscription work in those clients:

- A subscribed calendar is a snapshot that the client fetches again every few hours: an event that is no
  longer in the feed is removed from the calendar. So a **cancelled meeting is left out** rather than sent
  with STATUS:CANCELLED: Google Calendar and Outlook show a subscribed event whose status is CANCELLED as
  if it were on (only Apple strikes it through), whereas every client removes an event that is gone.
  The emailed cancellation (meetings/calendar.py, METHOD:CANCEL) is what removes it from the calendar of
  whoever accepted the invitation.
- Meetings keep the UID of their invitations (`meeting-<uuid>@<host>`), to-dos have `todo-<pk>@<host>`:
  stable, so that a change (a rescheduled meeting, a new due date) updates the event instead of adding one.
- A to-do is an all-day event on its due date (a VEVENT with VALUE=DATE: Google and Outlook ignore VTODO
  in a subscription), marked free time (TRANSP:TRANSPARENT) so that it blocks nothing.
- X-WR-CALNAME names the calendar when it is added; REFRESH-INTERVAL and X-PUBLISHED-TTL ask for an
  hourly refresh (clients may refresh less often: Google every few hours whatever the feed says).
- The feed is in the person's language; meeting times are in UTC (as in the invitations) and to-dos are
  floating dates: each client shows them in its reader's own zone.

Three queries whatever the number of alliances, meetings and to-dos: the person (by the token's key), the
meetings with what their events show, the to-dos with their alliances.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration

from accounts.models import User
from meetings.calendar import PRODID, PUBLISH, meeting_event
from meetings.models import Meeting
from outbox.services import absolute_url
from tasks.models import Todo

# How far back the feed reaches: the meetings of the last six months, and every upcoming one.
PAST_DAYS = 183
REFRESH = timedelta(hours=1)


def todo_uid(todo: Todo) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"todo-{todo.pk}@{host}"


def feed_meetings(user: User, *, now: datetime) -> list[Meeting]:
    """The meetings of the alliances `user` is an active member of, not cancelled, from six months ago on."""
    meetings = (
        Meeting.objects.active()
        .filter(
            alliance__members__user=user,
            alliance__members__is_active=True,
            starts_at__gte=now - timedelta(days=PAST_DAYS),
        )
        .select_related("alliance", "facilitator__user", "note_taker__user")
        .order_by("starts_at", "pk")
    )
    return list(meetings)


def feed_todos(user: User) -> list[Todo]:
    """The open to-dos `user` owns in the alliances they are still a member of."""
    todos = (
        Todo.objects.open()
        .filter(owner__user=user, owner__is_active=True)
        .select_related("alliance")
        .only("text", "due_on", "version", "alliance__name", "alliance__slug")
        .order_by("due_on", "pk")
    )
    return list(todos)


def _todo_event(todo: Todo, *, now: datetime) -> Event:
    url = absolute_url(reverse("tasks:todo_detail", kwargs={"slug": todo.alliance.slug, "pk": todo.pk}))
    event = Event()
    event.add("uid", todo_uid(todo))
    event.add("dtstamp", now)
    event.add("sequence", todo.version)
    event.add("dtstart", todo.due_on)
    event.add("dtend", todo.due_on + timedelta(days=1))
    event.add("summary", _("To-do: %(text)s") % {"text": todo.text})
    description = _("Due for %(alliance)s. Mark it done or give an update: %(url)s") % {
        "alliance": todo.alliance.name,
        "url": url,
    }
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event


def calendar_feed(user: User, *, now: datetime | None = None) -> bytes:
    """`user`'s feed as an iCalendar object (METHOD:PUBLISH), in their language."""
    now = now or timezone.now()
    with translation.override(user.language):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", PUBLISH)
        calendar.add("x-wr-calname", _("Round Table: %(name)s") % {"name": user.display_name})
        calendar.add("x-wr-caldesc", _("The meetings of your alliances and your open to-dos."))
        calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        for meeting in feed_meetings(user, now=now):
            calendar.add_component(meeting_event(meeting=meeting, now=now))
        for todo in feed_todos(user):
            calendar.add_component(_todo_event(todo, now=now))
        return calendar.to_ical()
