"""Issue 11's "done when", in real browsers and through a real SMTP server: after the demo meeting, the
note taker sends the notes; a participant opens the email, follows their to-do's link (not signed in) and
marks it done; another participant, whose to-do is overdue, gets exactly one digest the next morning in
their time zone (the hourly job run at two hours of that morning, and twice at the same hour); the note
taker's weekly follow-up shows one done and one overdue.

The demo alliance is as `seed_demo` leaves it; its upcoming meeting is held tonight through the services
(started two hours ago, each step told its moment), so that its notes wait to be sent. The jobs run as
the other browser tests run them: in-process (Celery eager), each email delivered through the outbox to
the aiosmtpd server, and read from there.
"""

import email
import re
from datetime import UTC, date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from accounts.models import User
from alliances import versions
from alliances.models import Alliance, Member
from meetings import attendance, consensus, run, steps
from meetings.models import AgendaItem, Meeting
from outbox.models import Delivery
from outbox.tests.smtp_server import RecordingHandler, RecordingSMTPServer
from tasks import jobs, links
from tasks import services as todos
from tasks.models import NudgeDigest, Todo
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MADRID = "Europe/Madrid"
DONE_TODO = "Llevar la solicitud de la beca a la biblioteca"
OVERDUE_TODO = "Send the grant's budget to the library"
GRANT = "We apply for the library's small grant: 800 dollars for the summer reading challenge's prizes."


class KeepingHandler(RecordingHandler):
    """Also keeps every accepted message whole, to read what each member received."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return answer

    def to(self, user: User, key: str) -> list[EmailMessage]:
        """The messages the server accepted for `user` whose outbox message's key starts with `key`."""
        found = []
        for message in list(self.messages):
            if parseaddr(str(message["To"]))[1] != user.email:
                continue
            delivery = Delivery.objects.select_related("message").get(header_message_id=message["Message-ID"])
            if (delivery.message.key or "").startswith(key):
                found.append(message)
        return found


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


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def in_spanish(text: str) -> str:
    with translation.override("es"):
        return gettext(text)


def _go_on(meeting: Meeting, by: Member, until: str, now: datetime) -> Meeting:
    while meeting.current_step != until:
        meeting = run.go_to_next_step(meeting=meeting, by=by, expected_step=meeting.current_step, now=now)
    return meeting


@pytest.fixture
def held(db) -> dict:
    """The demo's upcoming meeting, held tonight: two participants leave with a to-do each, one of them due
    today. Both live in Madrid; the alliance meets in Puerto Rico and reminds daily of an overdue to-do."""
    call_command("seed_demo", stdout=StringIO())
    alliance = Alliance.objects.get(slug="barrio-readers")
    meeting = Meeting.objects.for_alliance(alliance).get(status=Meeting.Status.SCHEDULED)
    facilitator, note_taker = meeting.facilitator, meeting.note_taker
    # Elena marks hers done from the email; Dario's is overdue the next morning. Neither owns another open
    # to-do of the demo that could be in that morning's digest.
    elena = Member.objects.get(alliance=alliance, user__email="elena@example.org")
    dario = Member.objects.get(alliance=alliance, user__email="dario@example.org")
    assert {elena.pk, dario.pk}.isdisjoint({facilitator.pk, note_taker.pk})
    assert not Todo.objects.open().filter(owner=elena).exists()
    User.objects.filter(pk__in=[elena.user_id, dario.user_id]).update(time_zone=MADRID)
    Alliance.objects.filter(pk=alliance.pk).update(nudge_overdue_every_days=1)

    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=start)
    versions.bump(alliance.pk)
    meeting.refresh_from_db()
    meeting = run.start_meeting(meeting=meeting, by=facilitator, now=start)
    for member in (facilitator, note_taker, elena, dario):
        attendance.mark_attendance(meeting=meeting, member=member, status="present", by=note_taker, now=start)
    decision = meeting.items.get(kind=AgendaItem.Kind.DECISION)
    meeting = _go_on(meeting, facilitator, steps.item_key(decision), start + timedelta(minutes=30))
    proposal = consensus.write_proposal(item=decision, text=GRANT, by=note_taker, now=start + timedelta(minutes=35))
    for member in (facilitator, note_taker, elena, dario):
        consensus.record_stance(
            proposal=proposal, member=member, kind="agree", reason="", by=member, now=start + timedelta(minutes=40)
        )
    consensus.resolve_check(proposal=proposal, by=facilitator, now=start + timedelta(minutes=45))
    captured = start + timedelta(minutes=50)
    today = todos.today_for(alliance, captured)
    mine = todos.capture_todo(
        alliance=alliance, meeting=meeting, item=decision, text=DONE_TODO, owner=elena, by=note_taker,
        due_on=today + timedelta(days=7), now=captured,
    )  # fmt: skip
    overdue = todos.capture_todo(
        alliance=alliance, meeting=meeting, item=decision, text=OVERDUE_TODO, owner=dario, by=note_taker,
        due_on=today, now=captured,
    )  # fmt: skip
    meeting = _go_on(meeting, facilitator, steps.LAST, start + timedelta(minutes=80))
    meeting = run.end_meeting(meeting=meeting, by=facilitator, now=start + timedelta(minutes=90))
    return {
        "meeting": meeting,
        "note_taker": note_taker,
        "elena": elena,
        "dario": dario,
        "mine": mine,
        "overdue": overdue,
    }


def _in_madrid(day: date, hour: int, minute: int) -> datetime:
    """`hour:minute` on `day` in Madrid, as a UTC moment."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(MADRID)).astimezone(UTC)


def test_after_the_demo_meeting_the_notes_go_out_a_to_do_is_done_from_its_email_and_the_overdue_one_nudged(
    browser, site, smtp, held
):
    meeting, note_taker, elena, dario = held["meeting"], held["note_taker"], held["elena"], held["dario"]
    mine, overdue = held["mine"], held["overdue"]

    # --- The note taker finds the notes from the meeting's page, and sends them ---------------------------
    page = signed_in_page(browser, site, note_taker)
    page.goto(f"{site.url}{meeting.get_absolute_url()}")
    page.get_by_role("link", name=in_spanish("Notes"), exact=True).click()
    expect(page.get_by_role("heading", name=in_spanish("Notes"))).to_be_visible()
    expect(page.locator("main")).to_contain_text(OVERDUE_TODO)
    page.get_by_role("button", name=in_spanish("Send notes")).click()
    expect(page.get_by_text(in_spanish("Record the amendment"))).to_be_visible()
    expect(page.get_by_role("button", name=in_spanish("Send notes"))).to_have_count(0)
    meeting.refresh_from_db()
    assert meeting.notes_sent_at is not None
    assert meeting.notes_sent_by_id == note_taker.pk
    page.context.close()

    # --- Elena's copy opens with her own to-do and its one-click link ---------------------------------------
    [notes] = smtp.to(elena.user, f"meetings.notes:{meeting.pk}")
    body = text_of(notes)
    assert body.index(in_spanish("Your to-dos")) < body.index(DONE_TODO) < body.index(OVERDUE_TODO)
    first_link = re.search(r"https?://\S+/todos/done/\S+", body).group(0)
    assert body.index(first_link) < body.index(OVERDUE_TODO)
    assert links.check_link(first_link.rstrip("/").rsplit("/", 1)[1]).todo == mine
    assert parseaddr(str(notes["Reply-To"]))[1] == note_taker.user.email

    # --- She follows it on her own device, not signed in: the page works from the email -------------------
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(first_link)
    expect(phone.get_by_role("heading", name=in_spanish("Mark your to-do done"))).to_be_visible()
    expect(phone.get_by_text(DONE_TODO)).to_be_visible()
    mine.refresh_from_db()
    assert mine.status == Todo.Status.OPEN  # opening the link changed nothing
    phone.get_by_role("button", name=in_spanish("Mark done")).click()
    expect(phone.get_by_role("heading", name=in_spanish("Done. Thank you!"))).to_be_visible()
    mine.refresh_from_db()
    assert mine.status == Todo.Status.DONE
    assert mine.done_at is not None
    context.close()

    # --- The next morning in Madrid: the hourly job at 08:05 (twice) and at 09:05 --------------------------
    tomorrow = timezone.now().astimezone(ZoneInfo(MADRID)).date() + timedelta(days=1)
    for moment in (_in_madrid(tomorrow, 8, 5), _in_madrid(tomorrow, 8, 5), _in_madrid(tomorrow, 9, 5)):
        with time_machine.travel(moment, tick=False):
            jobs.send_todo_digests()
    [digest] = smtp.to(dario.user, "tasks.digest:")
    assert smtp.to(elena.user, "tasks.digest:") == []
    text = text_of(digest)
    assert OVERDUE_TODO in text
    assert DONE_TODO not in text
    digest_link = re.search(r"https?://\S+/todos/done/\S+", text).group(0)
    assert links.check_link(digest_link.rstrip("/").rsplit("/", 1)[1]).todo == overdue
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [claim] = NudgeDigest.objects.filter(user=dario.user, kind=NudgeDigest.Kind.TODOS)
    assert claim.on_date == tomorrow
    assert claim.todos == {str(overdue.pk): "overdue"}

    # --- The weekly follow-up, on the Monday after, at its time (07:30 UTC) ---------------------------------
    monday = tomorrow + timedelta(days=7 - tomorrow.weekday())
    with time_machine.travel(datetime.combine(monday, time(7, 30), tzinfo=UTC), tick=False):
        jobs.send_followup_digests()
    [followup] = smtp.to(note_taker.user, "tasks.followup:")
    # The note taker reads Spanish: this meeting's section lists the overdue one, then the done one.
    sections = text_of(followup).split("\n== ")
    [section] = [s for s in sections if OVERDUE_TODO in s]
    overdue_at, done_at = section.index(in_spanish("Overdue:")), section.index(in_spanish("Done:"))
    assert overdue_at < section.index(OVERDUE_TODO) < done_at < section.index(DONE_TODO)
    assert in_spanish("Open:") not in section
    assert "Dario Silva" in section
    assert "Elena Haddad" in section
