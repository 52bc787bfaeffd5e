"""Sending the agenda: the emails, their calendar invitations, updates, reschedule, cancel and permissions."""

import threading
from datetime import timedelta
from email import message_from_bytes

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances.models import Member
from alliances.tests.factories import MemberFactory
from alliances.tests.helpers import flash_messages, membership_of
from meetings import sending
from meetings.models import AgendaItem, Meeting
from meetings.services import MeetingError, meeting_cancel, meeting_reschedule
from meetings.tests.factories import AgendaItemFactory
from meetings.tests.sending_helpers import (
    STARTS_AT,
    calendar_part,
    email_to,
    event_of,
    facilitator_of,
    ready_meeting,
)
from outbox.models import Delivery, Message
from outbox.tests.smtp_server import RecordingHandler, RecordingSMTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def fran(alliance) -> Member:
    return facilitator_of(alliance)


@pytest.fixture
def meeting(alliance, steward_user, member_user, fran) -> Meeting:
    # Mia reads Spanish in Madrid (the meeting's zone); Fran English in New York; Stella English in UTC.
    member_user.language, member_user.time_zone = "es", "Europe/Madrid"
    member_user.save(update_fields=["language", "time_zone"])
    return ready_meeting(alliance, facilitator=fran, note_taker=membership_of(alliance, member_user))


def _send(meeting: Meeting, by: Member, capture) -> Meeting:
    with capture(execute=True):
        return sending.meeting_send_agenda(meeting=meeting, sent_by=by)


def _reschedule(meeting: Meeting, by: Member, **changes) -> Meeting:
    meeting.refresh_from_db()
    fields = {
        "starts_at": meeting.starts_at,
        "duration_minutes": meeting.duration_minutes,
        "facilitator": meeting.facilitator,
        "note_taker": meeting.note_taker,
        "venue_address": meeting.venue_address,
        "video_link": meeting.video_link,
        "support_offered": meeting.support_offered,
    }
    return meeting_reschedule(meeting=meeting, by=by, **{**fields, **changes})


def _change_agenda(meeting: Meeting, **fields) -> None:
    """What the agenda services do on every change: raise the revision."""
    Meeting.objects.filter(pk=meeting.pk).update(revision=meeting.revision + 1, **fields)
    meeting.refresh_from_db()


# --- The email --------------------------------------------------------------------------------------------


def test_every_active_member_gets_the_agenda_once_with_reply_to_the_facilitator(
    meeting, alliance, steward_user, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    MemberFactory(alliance=alliance, is_active=False, user__email="gone@example.org")
    _send(meeting, fran, django_capture_on_commit_callbacks)

    assert sorted(e.to[0].split("<")[-1].rstrip(">") for e in mailoutbox) == sorted(
        [steward_user.email, member_user.email, "fran@example.org"]
    )
    for email in mailoutbox:
        assert email.reply_to == ["fran@example.org"]
        assert email.subject.startswith("[Barrio Readers] ")
        assert "Updated" not in email.subject


def test_the_agenda_email_in_english_shows_everything_in_the_readers_zone_beside_the_meetings(
    meeting, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    email = email_to(mailoutbox, "fran@example.org")
    [(html, _)] = [(a.content, a.mimetype) for a in email.alternatives if a.mimetype == "text/html"]

    # Fran is in New York: noon there, 18:00 in Madrid where the meeting is.
    assert email.subject == "[Barrio Readers] Agenda: meeting of March 10, 2027"
    for body in (email.body, html):
        assert "Wednesday, March 10, 2027, noon (United States — New York)" in body
        assert "March 10, 2027, 6 p.m. in Spain — Madrid, where the meeting is held" in body
        assert "Summer reading club" in body
        assert "Decision" in body
        assert "20 min" in body
        assert "presented by Mia Member" in body
        assert "Library hours" in body
        assert "Information" in body
        assert "Bonding social moment" in body
        assert "Closing evaluation round" in body
        assert "Alone we can do so little" in body
        assert "Helen Keller" in body
        assert "Calle Mayor 1" in body
        assert "https://meet.example.org/barrio" in body
        assert "Interpretation into Catalan; childcare on site" in body
        assert "Facilitator:" in body
        assert "Fran Facilitator" in body
        assert "Note taker:" in body
        assert f"http://testserver/alliances/barrio-readers/meetings/{meeting.pk}/" in body
    # The description's Markdown is rendered (and sanitised) in HTML, kept as written in text.
    assert "Choose <strong>three</strong> books." in html
    assert "Choose **three** books." in email.body


def test_the_agenda_email_in_spanish_in_the_meetings_zone_shows_one_time(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    email = email_to(mailoutbox, member_user.email)
    [html] = [a.content for a in email.alternatives if a.mimetype == "text/html"]

    assert email.subject == "[Barrio Readers] Agenda: reunión del 10 de marzo de 2027"
    for body in (email.body, html):
        assert "borrador de la agenda" in body
        assert "Miércoles, 10 de marzo de 2027, 18:00 (España — Madrid)" in body
        assert "donde se realiza la reunión" not in body  # same zone: one time only
        assert "Momento social de integración" in body  # the segments in Spanish
        assert "Decisión" in body
        assert "presentado por Mia Member" in body
        assert "Facilitador:" in body
    assert '<html lang="es">' in html


def test_a_spanish_reader_elsewhere_sees_their_time_and_the_meetings(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    member_user.time_zone = "America/Mexico_City"
    member_user.save(update_fields=["time_zone"])
    _send(meeting, fran, django_capture_on_commit_callbacks)

    assert (
        "Miércoles, 10 de marzo de 2027, 11:00 (México — Ciudad de México) — "
        "10 de marzo de 2027, 18:00 en España — Madrid, donde se realiza la reunión"
    ) in email_to(mailoutbox, member_user.email).body


# --- The calendar invitation -------------------------------------------------------------------------------


def test_each_copy_carries_an_invitation_naming_its_reader_as_attendee(
    meeting, steward_user, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    uids = set()
    for user_email in (steward_user.email, member_user.email, "fran@example.org"):
        email = email_to(mailoutbox, user_email)
        calendar = calendar_part(email)
        event = event_of(calendar)
        assert calendar["METHOD"] == "REQUEST"
        assert [str(a) for a in [event["ATTENDEE"]]] == [f"mailto:{user_email}"]
        assert str(event["ORGANIZER"]) == "mailto:roundtable@localhost"
        assert event["ORGANIZER"].params["CN"] == "Barrio Readers"
        assert event["DTSTART"].dt == meeting.starts_at
        assert event["DTEND"].dt == meeting.starts_at + timedelta(minutes=90)
        assert str(event["URL"]) == f"http://testserver/alliances/barrio-readers/meetings/{meeting.pk}/"
        assert event["STATUS"] == "CONFIRMED"
        assert event["SEQUENCE"] == 1
        # The attachment is the same calendar as the alternative part.
        [(name, content, mimetype)] = [(a.filename, a.content, a.mimetype) for a in email.attachments]
        assert (name, mimetype) == ("invite.ics", "application/ics")
        assert icalendar.Calendar.from_ical(content) == calendar
        uids.add(str(event["UID"]))
    assert uids == {f"meeting-{meeting.uid}@testserver"}


def test_the_raw_message_has_a_calendar_part_with_its_method_and_an_ics_attachment(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    raw = email_to(mailoutbox, member_user.email).message().as_bytes()
    mime = message_from_bytes(raw)

    assert mime.get_content_type() == "multipart/mixed"
    body, attachment = mime.get_payload()
    assert [p.get_content_type() for p in body.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    calendar = body.get_payload(2)
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert b"METHOD:REQUEST" in calendar.get_payload(decode=True)
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    # The attachment keeps the CRLF lines RFC 5545 asks for (base64); the text part has the message's
    # line endings, CRLF on the wire (see test_the_smtp_server_gets_crlf_calendar_lines below).
    assert b"METHOD:REQUEST\r\n" in attachment.get_payload(decode=True)
    assert attachment.get_payload(decode=True) == calendar.get_payload(decode=True).replace(b"\n", b"\r\n")


# --- Sending again ------------------------------------------------------------------------------------------


def test_a_double_click_emails_nobody_twice(
    client, meeting, alliance, fran, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(fran.user)
    url = reverse("meetings:agenda_send", kwargs={"slug": alliance.slug, "pk": meeting.pk})
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
        second = client.post(url)

    assert first.status_code == second.status_code == 302
    assert len(mailoutbox) == 3
    assert Message.objects.filter(template="agenda").count() == 1
    meeting.refresh_from_db()
    assert (meeting.agenda_sent_count, meeting.sequence) == (1, 1)
    assert "This version of the agenda has already been sent. Change it to send an update." in flash_messages(second)


def test_the_outbox_key_alone_stops_a_second_send_of_the_same_revision(
    meeting, fran, django_capture_on_commit_callbacks, mailoutbox
):
    """Two requests that both read the meeting before either saved it: the key is the last guard."""
    _send(meeting, fran, django_capture_on_commit_callbacks)
    Meeting.objects.filter(pk=meeting.pk).update(agenda_sent_revision=None)  # as the second request saw it

    with pytest.raises(MeetingError):
        _send(meeting, fran, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3


def test_an_updated_agenda_says_what_changed_and_updates_the_event(
    meeting, alliance, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    first_uid = str(event_of(calendar_part(email_to(mailoutbox, member_user.email)))["UID"])
    mailoutbox.clear()

    AgendaItemFactory(meeting=meeting, title="Book swap stall", minutes=10, position=3)
    AgendaItem.objects.filter(meeting=meeting, title="Library hours").delete()
    AgendaItem.objects.filter(meeting=meeting, title="Summer reading club").update(minutes=25)
    _change_agenda(meeting, venue_address="Centro Cívico, Plaza 2", starts_at=meeting.starts_at + timedelta(hours=1))
    _send(meeting, fran, django_capture_on_commit_callbacks)

    email = email_to(mailoutbox, "fran@example.org")
    assert email.subject == "[Barrio Readers] Updated agenda: meeting of March 10, 2027"
    assert "was updated (version 2)" in email.body
    assert "New item: Book swap stall" in email.body
    assert "Removed: Library hours" in email.body
    assert "Changed: Summer reading club" in email.body
    assert "The venue changed." in email.body
    # The time it was, in Fran's zone.
    assert "The date, time or length changed (it was March 10, 2027, noon)." in email.body
    assert "The video-call link changed." not in email.body
    assert "facilitates now" not in email.body
    event = event_of(calendar_part(email))
    assert str(event["UID"]) == first_uid
    assert event["SEQUENCE"] == 2
    meeting.refresh_from_db()
    assert (meeting.agenda_sent_count, meeting.agenda_sent_revision) == (2, meeting.revision)
    assert [i["title"] for i in meeting.agenda_sent_snapshot["items"]] == ["Summer reading club", "Book swap stall"]


def test_a_change_of_roles_is_named_in_the_update(
    meeting, alliance, steward_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    _change_agenda(meeting, note_taker=membership_of(alliance, steward_user))
    _send(meeting, fran, django_capture_on_commit_callbacks)

    assert "Stella Steward takes the notes now." in email_to(mailoutbox, "fran@example.org").body


def test_a_cancelled_or_started_meeting_cannot_be_sent(meeting, fran, django_capture_on_commit_callbacks, mailoutbox):
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED)
    with pytest.raises(MeetingError, match="cancelled"):
        _send(meeting, fran, django_capture_on_commit_callbacks)
    Meeting.objects.filter(pk=meeting.pk).update(
        status=Meeting.Status.SCHEDULED, starts_at=timezone.now() - timedelta(minutes=5)
    )
    with pytest.raises(MeetingError, match="already started"):
        _send(meeting, fran, django_capture_on_commit_callbacks)
    assert mailoutbox == []


# --- Reschedule and cancel ---------------------------------------------------------------------------------


def test_a_reschedule_sends_everyone_who_got_the_agenda_an_update_of_the_same_event(
    meeting, alliance, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    newcomer = MemberFactory(alliance=alliance, user__email="new@example.org")
    uid = str(event_of(calendar_part(email_to(mailoutbox, member_user.email)))["UID"])
    mailoutbox.clear()

    new_time = meeting.starts_at + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        _reschedule(meeting, fran, starts_at=new_time)

    assert len(mailoutbox) == 3
    assert not [e for e in mailoutbox if newcomer.user.email in e.to[0]]
    email = email_to(mailoutbox, member_user.email)
    assert email.subject == "[Barrio Readers] Reunión modificada: 11 de marzo de 2027"
    assert "Jueves, 11 de marzo de 2027, 18:00 (España — Madrid)" in email.body
    assert "Antes: 10 de marzo de 2027 a las 18:00" in email.body
    assert email.reply_to == ["fran@example.org"]
    calendar = calendar_part(email)
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert (str(event["UID"]), event["SEQUENCE"]) == (uid, 2)
    assert event["DTSTART"].dt == new_time
    assert str(event["ATTENDEE"]) == f"mailto:{member_user.email}"


def test_a_reschedule_before_the_agenda_was_sent_emails_nobody_but_raises_the_sequence(
    meeting, fran, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _reschedule(meeting, fran, starts_at=meeting.starts_at + timedelta(hours=2))
    assert mailoutbox == []
    meeting.refresh_from_db()
    assert meeting.sequence == 1


def test_a_second_reschedule_says_the_time_people_held_and_raises_the_sequence_again(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        _reschedule(meeting, fran, starts_at=meeting.starts_at + timedelta(days=1))
        _reschedule(meeting, fran, starts_at=meeting.starts_at + timedelta(days=2))

    [*_, last] = [e for e in mailoutbox if member_user.email in e.to[0]]
    assert "Viernes, 12 de marzo de 2027, 18:00" in last.body
    assert "Antes: 11 de marzo de 2027 a las 18:00" in last.body
    assert [event_of(calendar_part(e))["SEQUENCE"] for e in mailoutbox if member_user.email in e.to[0]] == [1, 2, 3]


def test_a_change_of_venue_alone_is_an_update_too(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _reschedule(meeting, fran, venue_address="Centro Cívico, Plaza 2")

    email = email_to(mailoutbox, "fran@example.org")
    assert "Centro Cívico, Plaza 2" in email.body
    assert "It was:" not in email.body
    assert str(event_of(calendar_part(email))["LOCATION"]) == "Centro Cívico, Plaza 2"


def test_a_cancellation_removes_the_event_from_every_calendar_that_got_it(
    meeting, member_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    uid = str(event_of(calendar_part(email_to(mailoutbox, member_user.email)))["UID"])
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        meeting_cancel(meeting=meeting, by=fran)

    assert len(mailoutbox) == 3
    email = email_to(mailoutbox, "fran@example.org")
    assert email.subject == "[Barrio Readers] Cancelled: meeting of March 10, 2027"
    assert "is cancelled" in email.body
    calendar = calendar_part(email)
    event = event_of(calendar)
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert (str(event["UID"]), event["SEQUENCE"]) == (uid, 2)
    assert str(event["ATTENDEE"]) == "mailto:fran@example.org"
    raw = message_from_bytes(email.message().as_bytes())
    assert raw.get_payload(0).get_payload(2).get_param("method") == "CANCEL"


# --- Permissions and the page's box -------------------------------------------------------------------------


def test_only_the_facilitator_and_stewards_send_the_agenda(meeting, alliance, steward_user, member_user, fran):
    with pytest.raises(PermissionDenied):
        sending.meeting_send_agenda(meeting=meeting, sent_by=membership_of(alliance, member_user))
    assert (
        sending.meeting_send_agenda(meeting=meeting, sent_by=membership_of(alliance, steward_user)).agenda_sent_count
        == 1
    )


@pytest.mark.parametrize(
    ("reader", "status"), [("member_user", 403), ("outsider", 404), ("steward_user", 302), ("fran", 302)]
)
def test_who_may_post_send_agenda(client, request, meeting, alliance, reader, status, mailoutbox):
    user = request.getfixturevalue(reader)
    client.force_login(user if reader != "fran" else user.user)
    url = reverse("meetings:agenda_send", kwargs={"slug": alliance.slug, "pk": meeting.pk})

    assert client.post(url).status_code == status
    assert client.get(url).status_code in (404, 405) if reader == "outsider" else client.get(url).status_code == 405
    meeting.refresh_from_db()
    assert meeting.agenda_sent_count == (1 if status == 302 else 0)


def test_members_download_the_event_and_outsiders_get_not_found(client, meeting, alliance, member_user, outsider):
    url = reverse("meetings:agenda_ics", kwargs={"slug": alliance.slug, "pk": meeting.pk})
    assert url == f"/alliances/barrio-readers/meetings/{meeting.pk}/agenda.ics"

    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member_user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    event = event_of(calendar)
    assert calendar["METHOD"] == "PUBLISH"
    assert str(event["UID"]) == f"meeting-{meeting.uid}@testserver"
    assert "ATTENDEE" not in event
    assert str(event["ORGANIZER"]) == "mailto:roundtable@localhost"


def test_the_box_says_which_version_was_sent_and_offers_the_update_after_a_change(
    rf, meeting, alliance, member_user, fran, django_capture_on_commit_callbacks
):
    def box(reader: Member) -> str:
        meeting.refresh_from_db()
        return render_to_string(
            "meetings/_agenda_sending.html",
            sending.sending_context(meeting=meeting, member=reader),
            request=rf.get("/"),
        )

    assert "has not been sent to the members yet" in box(fran)
    assert "Send agenda" in box(fran)
    assert "Send agenda" not in box(membership_of(alliance, member_user))  # members download, do not send
    assert "agenda.ics" in box(membership_of(alliance, member_user))

    _send(meeting, fran, django_capture_on_commit_callbacks)
    assert "Version 1 of the agenda was sent" in box(fran)
    assert "It is up to date." in box(fran)
    assert "<button" not in box(fran)

    _change_agenda(meeting)
    assert "The agenda or the meeting changed since." in box(fran)
    assert "Send the updated agenda" in box(fran)


def test_the_deliveries_of_the_agenda_are_in_the_alliances_scope(meeting, alliance, fran):
    sending.meeting_send_agenda(meeting=meeting, sent_by=fran)
    assert set(Delivery.objects.values_list("message__scope", flat=True)) == {alliance.mail_scope}


# --- Through a real SMTP server -------------------------------------------------------------------------


class RawRecordingHandler(RecordingHandler):
    """Also keeps the bytes of every message the server accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.raw.append(envelope.content)
        return answer


@pytest.mark.integration
def test_the_smtp_server_gets_crlf_calendar_lines_in_a_method_part_and_an_attachment(
    settings, meeting, member_user, fran, django_capture_on_commit_callbacks
):
    server = RecordingSMTPServer()
    server.handler = RawRecordingHandler()
    server.controller = Controller(server.handler, hostname=server.host, port=server.port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    with server:
        _send(meeting, fran, django_capture_on_commit_callbacks)

    members = Member.objects.filter(alliance=meeting.alliance).select_related("user")
    assert sorted(r for m in server.handler.snapshot() for r in m.recipients) == sorted(
        m.user.email.lower() for m in members
    )
    [raw] = [r for r in server.handler.raw if message_from_bytes(r)["To"].endswith(f"<{member_user.email}>")]
    body, attachment = message_from_bytes(raw).get_payload()
    assert body.get_payload(2).get_content_type() == "text/calendar"
    assert body.get_payload(2).get_param("method") == "REQUEST"
    # On the wire, the calendar part's lines end in CRLF, as RFC 5545 requires.
    assert b"\r\nMETHOD:REQUEST\r\n" in raw
    assert b"BEGIN:VEVENT\r\n" in raw
    ics = attachment.get_payload(decode=True)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    event = event_of(icalendar.Calendar.from_ical(ics))
    assert str(event["ATTENDEE"]) == f"mailto:{member_user.email}"
    assert str(event["UID"]) == f"meeting-{meeting.uid}@testserver"


def test_the_box_costs_the_meeting_page_no_query(meeting, alliance, fran, django_assert_num_queries):
    meeting = Meeting.objects.select_related("alliance").get(pk=meeting.pk)
    with django_assert_num_queries(0):
        sending.sending_context(meeting=meeting, member=fran)


def test_sending_costs_the_same_queries_for_ten_more_members(meeting, alliance, fran):
    def queries_to_send() -> int:
        with CaptureQueriesContext(connection) as captured:
            sending.meeting_send_agenda(meeting=meeting, sent_by=fran)
        _change_agenda(meeting)
        return len(captured)

    few = queries_to_send()
    MemberFactory.create_batch(10, alliance=alliance)
    assert queries_to_send() == few


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_email_everyone_once(postgresql, meeting, fran):
    """Two requests at the same moment (a double click): the meeting's row lock lets one through."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        try:
            barrier.wait()
            sending.meeting_send_agenda(meeting=Meeting.objects.get(pk=meeting.pk), sent_by=fran)
            outcomes.append("sent")
        except MeetingError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "sent"]
    assert Delivery.objects.count() == 3
    meeting.refresh_from_db()
    assert (meeting.agenda_sent_count, meeting.sequence) == (1, 1)


def test_what_changed_between_two_snapshots_names_each_kind_of_change():
    item = {"presenter_id": None, "description": "", "kind": "discussion", "minutes": 10}
    before = {
        "starts_at": "2027-03-10T17:00:00+00:00",
        "duration_minutes": 90,
        "time_zone": "Europe/Madrid",
        "venue_address": "Library",
        "video_link": "",
        "support_offered": "",
        "facilitator_id": 1,
        "facilitator": "Fran",
        "note_taker_id": 2,
        "note_taker": "Mia",
        "segments": {"bonding": 10},
        "items": [{**item, "id": 1, "title": "A"}, {**item, "id": 2, "title": "B"}],
        "reflection": None,
    }
    same = sending.agenda_changes(before=before, after=dict(before))
    after = {
        **before,
        "video_link": "https://meet.example.org/x",
        "support_offered": "Childcare",
        "facilitator_id": 3,
        "facilitator": "Stella",
        "segments": {"bonding": 15},
        "items": [{**item, "id": 2, "title": "B"}, {**item, "id": 1, "title": "A"}],
        "reflection": {"kind": "quote", "text": "Together", "source": "", "link": ""},
    }

    assert same == []
    assert [c["kind"] for c in sending.agenda_changes(before=before, after=after)] == [
        "video_link",
        "support",
        "facilitator",
        "items_reordered",
        "segments",
        "reflection",
    ]


def test_times_follow_each_zones_daylight_saving_rules(meeting, fran, django_capture_on_commit_callbacks, mailoutbox):
    # 17 March 2027: New York is on summer time (from 14 March), Madrid not yet (from 28 March).
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=STARTS_AT + timedelta(days=7))
    meeting.refresh_from_db()
    _send(meeting, fran, django_capture_on_commit_callbacks)

    assert (
        "Wednesday, March 17, 2027, 1 p.m. (United States — New York) — "
        "March 17, 2027, 6 p.m. in Spain — Madrid, where the meeting is held"
    ) in email_to(mailoutbox, "fran@example.org").body


def test_a_member_who_left_after_the_agenda_gets_no_cancellation(
    meeting, alliance, steward_user, fran, django_capture_on_commit_callbacks, mailoutbox
):
    _send(meeting, fran, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    Member.objects.filter(alliance=alliance, user=steward_user).update(is_steward=False, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        meeting_cancel(meeting=meeting, by=fran)

    assert len(mailoutbox) == 2
    assert not [e for e in mailoutbox if steward_user.email in e.to[0]]
