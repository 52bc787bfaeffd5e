import copy
import smtplib
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from outbox import services
from outbox.models import Delivery, Message
from outbox.services import Address, File
from outbox.tests.factories import DeliveryFactory, MessageFactory

RESET_CONTEXT = {"reset_url": "http://x/reset"}
pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ScriptedBackend(BaseEmailBackend):
    """An email backend that treats connections as Django's SMTP backend does, and fails on request.

    Like the SMTP backend, send_messages() opens a connection of its own when none is open and closes
    it afterwards, so the count of opens shows whether a batch really shares one connection. The
    script lives on the class because get_connection() builds a new instance each time.
    """

    opened = 0
    error: BaseException | None = None
    only_for: tuple[str, ...] = ()
    failures_left: int | None = None

    @classmethod
    def reset(cls) -> None:
        cls.opened, cls.error, cls.only_for, cls.failures_left = 0, None, (), None

    @classmethod
    def fail(cls, error: BaseException, *, only_for: tuple[str, ...] = (), times: int | None = None) -> None:
        """Raise `error` when sending to any of `only_for` (anyone if empty), `times` times (always if None)."""
        cls.error, cls.only_for, cls.failures_left = error, only_for, times

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.is_open = False

    def open(self) -> bool:
        if self.is_open:
            return False
        ScriptedBackend.opened += 1
        self.is_open = True
        return True

    def close(self) -> None:
        self.is_open = False

    def send_messages(self, email_messages) -> int:
        new_connection = self.open()
        try:
            for email in email_messages:
                self._raise_if_scripted(email)
                email.message()  # Builds the MIME message, as a real send would, to catch bad headers.
                mail.outbox.append(copy.deepcopy(email))
        finally:
            if new_connection:
                self.close()
        return len(email_messages)

    def _raise_if_scripted(self, email) -> None:
        cls = ScriptedBackend
        if cls.error is None or cls.failures_left == 0:
            return
        if cls.only_for and not any(address in to for to in email.to for address in cls.only_for):
            return
        if cls.failures_left is not None:
            cls.failures_left -= 1
        raise cls.error


@pytest.fixture
def backend(settings):
    settings.EMAIL_BACKEND = f"{__name__}.ScriptedBackend"
    ScriptedBackend.reset()
    yield ScriptedBackend
    ScriptedBackend.reset()


@pytest.fixture
def probe_template(settings, tmp_path) -> str:
    """An email template that shows the language and time zone it was rendered in."""
    emails = tmp_path / "emails"
    emails.mkdir()
    (emails / "probe_subject.txt").write_text(
        "{% load i18n %}{% get_current_language as lang %}Probe\n   in {{ lang }}\n\n"
    )
    (emails / "probe.txt").write_text(
        "{% load i18n tz %}{% get_current_language as lang %}{% get_current_timezone as zone %}"
        "lang={{ lang }} zone={{ zone }} at={{ when|date:'H:i' }} to={{ recipient.email }}"
    )
    (emails / "probe.html").write_text("{% load i18n %}{% get_current_language as lang %}<p lang='{{ lang }}'></p>")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    return "probe"


def _reset_mail(*users, **kwargs) -> Message:
    return services.mail_send(
        template="password_reset",
        recipients=[Address.for_user(user) for user in users],
        context={"user": users[0], **RESET_CONTEXT},
        **kwargs,
    )


class ActionFailedError(Exception):
    pass


def _action_that_fails_after_mailing(user) -> None:
    with transaction.atomic():
        _reset_mail(user)
        raise ActionFailedError


# --- Recording ---------------------------------------------------------------------------------------


def test_mail_send_records_one_pending_delivery_per_recipient_and_sends_after_commit(
    member_user, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = _reset_mail(member_user, steward_user)

        deliveries = Delivery.objects.filter(message=message)
        assert sorted(d.to_email for d in deliveries) == sorted([member_user.email, steward_user.email])
        assert {d.status for d in deliveries} == {Delivery.Status.PENDING}
        assert mailoutbox == []

    assert len(callbacks) == 1
    assert sorted(email.to[0] for email in mailoutbox) == sorted(
        [f"Mia Member <{member_user.email}>", f"Stella Steward <{steward_user.email}>"]
    )
    assert {d.status for d in Delivery.objects.filter(message=message)} == {Delivery.Status.SENT}


def test_rolled_back_action_records_and_sends_nothing(member_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ActionFailedError):
        _action_that_fails_after_mailing(member_user)

    assert callbacks == []
    assert not Message.objects.exists()
    assert not Delivery.objects.exists()
    assert mailoutbox == []


def test_repeated_addresses_get_one_delivery():
    message = services.mail_send(
        template="password_reset",
        recipients=[Address(email="Ana@example.org"), Address(email="ana@example.org")],
        context={"user": UserFactory(), **RESET_CONTEXT},
    )

    assert list(message.deliveries.values_list("to_email", flat=True)) == ["Ana@example.org"]


def test_inactive_user_gets_no_delivery(member_user):
    gone = UserFactory(is_active=False)

    message = _reset_mail(member_user, gone)

    assert list(message.deliveries.values_list("recipient", flat=True)) == [member_user.pk]


def test_sending_with_a_key_already_used_emails_nobody_twice(
    member_user, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    key = "meetings.agenda:7:3"
    with django_capture_on_commit_callbacks(execute=True) as first_callbacks:
        first = _reset_mail(member_user, steward_user, key=key)
    # A double click: the same action again, in a request of its own.
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = _reset_mail(member_user, steward_user, key=key)

    assert second.pk == first.pk
    assert Message.objects.count() == 1
    assert Delivery.objects.count() == 2
    assert (len(first_callbacks), len(second_callbacks)) == (1, 0)
    assert sorted(email.to[0] for email in mailoutbox) == sorted(
        [f"Mia Member <{member_user.email}>", f"Stella Steward <{steward_user.email}>"]
    )


def test_a_used_key_leaves_the_callers_transaction_usable(member_user):
    _reset_mail(member_user, key="k")

    with transaction.atomic():
        again = _reset_mail(member_user, key="k")
        other = _reset_mail(member_user, key="another")

    assert again.deliveries.count() == 1
    assert other.deliveries.count() == 1
    assert Message.objects.count() == 2


def test_messages_without_a_key_are_each_sent(member_user, mailoutbox):
    first, second = _reset_mail(member_user), _reset_mail(member_user)

    assert first.pk != second.pk
    assert services.deliveries_send(message_id=first.pk) + services.deliveries_send(message_id=second.pk) == 2


def test_the_secret_flag_is_recorded_and_the_stored_body_keeps_its_link(member_user):
    message = _reset_mail(member_user, secret=True)
    delivery = message.deliveries.get()

    assert message.secret is True
    assert "http://x/reset" in delivery.body_text
    assert "http://x/reset" not in delivery.text_for_operators
    assert "[link removed]" in delivery.text_for_operators
    assert "http://x/reset" not in delivery.html_for_operators


# --- Sending -----------------------------------------------------------------------------------------


def test_each_recipient_gets_one_multipart_email_with_headers_and_attachments(
    member_user, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    invite = File(filename="meeting.ics", content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", mimetype="text/calendar")
    with django_capture_on_commit_callbacks(execute=True):
        message = _reset_mail(member_user, steward_user, reply_to="stella@example.org", attachments=[invite])

    assert len(mailoutbox) == 2
    for delivery in message.deliveries.all():
        [email] = [e for e in mailoutbox if delivery.to_email in e.to[0]]
        assert email.body == delivery.body_text
        assert [(a.content, a.mimetype) for a in email.alternatives] == [(delivery.body_html, "text/html")]
        assert email.reply_to == ["stella@example.org"]
        assert [(a.filename, a.mimetype) for a in email.attachments] == [("meeting.ics", "text/calendar")]
        assert "BEGIN:VCALENDAR" in email.attachments[0].content
        mime = email.message()
        assert mime["Message-ID"] == delivery.header_message_id
        assert mime["Reply-To"] == "stella@example.org"
        assert mime["Subject"] == "Choose a new Round Table password"
        assert mime.get_content_type() == "multipart/mixed"
        assert mime.get_payload(0).get_content_type() == "multipart/alternative"


def test_each_recipient_gets_their_own_files_as_alternative_part_and_attachment(
    member_user, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    def invitation_for(recipient: Address) -> list[File]:
        ics = f"BEGIN:VCALENDAR\r\nATTENDEE:mailto:{recipient.email}\r\nEND:VCALENDAR\r\n".encode()
        return [
            File(filename="invite.ics", content=ics, mimetype="text/calendar; method=REQUEST", alternative=True),
            File(filename="invite.ics", content=ics, mimetype="application/ics"),
        ]

    shared = File(filename="notes.txt", content=b"for everyone", mimetype="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        _reset_mail(member_user, steward_user, attachments=[shared], attachments_for=invitation_for)

    assert len(mailoutbox) == 2
    for user in (member_user, steward_user):
        [email] = [e for e in mailoutbox if user.email in e.to[0]]
        others = {member_user.email, steward_user.email} - {user.email}
        raw = email.message().as_bytes()
        assert f"mailto:{user.email}".encode() in raw
        assert not any(f"mailto:{other}".encode() in raw for other in others)
        mime = email.message()
        assert mime.get_content_type() == "multipart/mixed"
        body, *files = mime.get_payload()
        assert [p.get_content_type() for p in body.get_payload()] == ["text/plain", "text/html", "text/calendar"]
        assert body.get_payload(2).get_param("method") == "REQUEST"
        assert [(f.get_content_type(), f.get_filename()) for f in files] == [
            ("text/plain", "notes.txt"),
            ("application/ics", "invite.ics"),
        ]


def test_email_without_reply_to_has_no_reply_to_header(member_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        _reset_mail(member_user)

    [email] = mailoutbox
    assert email.reply_to == []
    assert "Reply-To" not in email.message()
    assert email.message().get_content_type() == "multipart/alternative"


def test_multi_line_subject_is_sent_as_one_line(
    member_user, probe_template, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.mail_send(template=probe_template, recipients=[Address.for_user(member_user)], context={"when": NOW})

    [email] = mailoutbox
    assert email.subject == "Probe in en"


def test_email_is_rendered_in_recipients_language_and_time_zone(
    probe_template, django_capture_on_commit_callbacks, mailoutbox
):
    lucia = UserFactory(language="es", time_zone="America/Mexico_City")
    tom = UserFactory(language="en", time_zone="Europe/London")

    with django_capture_on_commit_callbacks(execute=True):
        message = services.mail_send(
            template=probe_template,
            recipients=[Address.for_user(lucia), Address.for_user(tom)],
            context={"when": datetime(2026, 1, 15, 12, 0, tzinfo=UTC)},
        )

    spanish = message.deliveries.get(recipient=lucia)
    assert spanish.language == "es"
    assert spanish.subject == "Probe in es"
    assert spanish.body_text == f"lang=es zone=America/Mexico_City at=06:00 to={lucia.email}"
    assert spanish.body_html == "<p lang='es'></p>"
    english = message.deliveries.get(recipient=tom)
    assert english.language == "en"
    assert english.body_text == f"lang=en zone=Europe/London at=12:00 to={tom.email}"
    assert sorted(email.body for email in mailoutbox) == sorted([spanish.body_text, english.body_text])


def test_unknown_time_zone_renders_in_utc(probe_template):
    _, text, _ = services.render_email(
        template=probe_template, context={"when": NOW}, language="en", time_zone="Mars/Olympus_Mons"
    )

    assert text.startswith("lang=en zone=UTC at=09:00")


# --- Claiming ----------------------------------------------------------------------------------------


def test_sending_a_message_twice_sends_each_delivery_once(member_user, steward_user, outsider, mailoutbox):
    message = _reset_mail(member_user, steward_user, outsider)

    assert services.deliveries_send(message_id=message.pk) == 3
    assert services.deliveries_send(message_id=message.pk) == 0

    assert len(mailoutbox) == 3
    assert list(message.deliveries.values_list("attempts", flat=True)) == [1, 1, 1]


def test_delivery_claimed_by_another_worker_is_not_sent(member_user, mailoutbox):
    message = _reset_mail(member_user)
    other_worker = uuid.uuid4()
    message.deliveries.update(status=Delivery.Status.SENDING, claim_token=other_worker, claimed_at=timezone.now())

    assert services.deliveries_send(message_id=message.pk) == 0

    assert mailoutbox == []
    delivery = message.deliveries.get()
    assert (delivery.status, delivery.claim_token, delivery.attempts) == (Delivery.Status.SENDING, other_worker, 0)


def test_delivery_not_yet_due_is_not_sent(member_user, mailoutbox):
    message = _reset_mail(member_user)
    message.deliveries.update(attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert services.deliveries_send(message_id=message.pk) == 0
    assert mailoutbox == []


def test_outcome_is_not_recorded_once_the_claim_was_released(member_user, mailoutbox):
    message = _reset_mail(member_user)
    [delivery] = services._claim_batch(message_id=message.pk, now=timezone.now(), size=10)
    # The sweeper took this worker for dead and released the claim while it was still sending.
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, claim_token=None)

    assert services._finish(delivery, status=Delivery.Status.SENT) is False
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.PENDING


# --- Batching ----------------------------------------------------------------------------------------


def test_each_batch_is_sent_over_one_connection(settings, backend, mailoutbox):
    settings.OUTBOX_BATCH_SIZE = 50
    message = services.mail_send(
        template="password_reset",
        recipients=[Address(email=f"reader{n}@example.org") for n in range(120)],
        context={"user": UserFactory(), **RESET_CONTEXT},
    )

    # No helper job (the tests' eager mode would run it here and now): this job sends every batch.
    with mock.patch("outbox.queue.send_message_now"):
        assert services.deliveries_send(message_id=message.pk) == 120

    assert backend.opened == 3
    assert len(mailoutbox) == 120
    assert not message.deliveries.exclude(status=Delivery.Status.SENT).exists()


def test_batch_shares_one_connection_with_djangos_smtp_backend(settings, member_user, steward_user, outsider):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    message = _reset_mail(member_user, steward_user, outsider)

    with mock.patch("django.core.mail.backends.smtp.EmailBackend.connection_class") as smtp_class:
        smtp_class.return_value.sendmail.return_value = {}
        assert services.deliveries_send(message_id=message.pk) == 3

    assert smtp_class.call_count == 1
    assert smtp_class.return_value.sendmail.call_count == 3


def test_temporary_failure_reopens_the_connection_for_the_rest_of_the_batch(backend, mailoutbox):
    first, second, third = (UserFactory(display_name=name) for name in ("First", "Second", "Third"))
    message = _reset_mail(first, second, third)
    backend.fail(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), only_for=(first.email,))

    assert services.deliveries_send(message_id=message.pk) == 2

    assert backend.opened == 2
    assert sorted(email.to[0] for email in mailoutbox) == [f"Second <{second.email}>", f"Third <{third.email}>"]


# --- Failures and retries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"5.1.1 No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"4.2.0 Mailbox busy")}), False),
        (smtplib.SMTPResponseException(421, b"4.3.2 Service shutting down"), False),
        (smtplib.SMTPResponseException(451, b"4.3.0 Try again later"), False),
        (smtplib.SMTPResponseException(550, b"5.7.1 Relaying denied"), True),
        (smtplib.SMTPResponseException(554, b"5.7.1 Message rejected"), True),
        (smtplib.SMTPDataError(552, b"5.3.4 Message too big"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (smtplib.SMTPConnectError(421, b"Too many connections"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
        (ValueError("Header values may not contain linefeed or carriage return characters"), True),
    ],
)
def test_failure_classification(error, permanent):
    assert services.is_permanent_failure(error) is permanent


def test_recipients_refused_for_some_temporarily_is_temporary():
    error = smtplib.SMTPRecipientsRefused(
        {"a@example.org": (550, b"5.1.1 No such user"), "b@example.org": (450, b"4.2.0 Busy")}
    )

    assert services.is_permanent_failure(error) is False


@pytest.mark.parametrize(("attempts", "factor"), [(1, 1), (2, 2), (3, 4), (5, 16)])
def test_retry_delay_doubles_with_each_attempt(settings, attempts, factor):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600

    with mock.patch("outbox.services.random.uniform", return_value=1.0):
        assert services.retry_delay(attempts) == timedelta(seconds=60 * factor)


def test_retry_delay_has_jitter_within_half_to_one_and_a_half_times_and_a_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    settings.OUTBOX_RETRY_MAX_SECONDS = 600

    delays = [services.retry_delay(2).total_seconds() for _ in range(200)]
    capped = [services.retry_delay(20).total_seconds() for _ in range(200)]

    assert all(60 <= d <= 180 for d in delays)
    assert len(set(delays)) > 1
    assert all(300 <= d <= 900 for d in capped)


def test_temporary_failure_reschedules_the_delivery_with_backoff(settings, backend, member_user, mailoutbox):
    settings.OUTBOX_RETRY_BASE_SECONDS = 100
    backend.fail(smtplib.SMTPResponseException(451, b"4.3.0 Try again later"))

    with time_machine.travel(NOW, tick=False):
        message = _reset_mail(member_user)
        assert services.deliveries_send(message_id=message.pk) == 0

    delivery = message.deliveries.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.claim_token is None
    assert NOW + timedelta(seconds=50) <= delivery.next_attempt_at <= NOW + timedelta(seconds=150)
    assert delivery.last_error == "451 4.3.0 Try again later"
    assert mailoutbox == []


def test_rescheduled_delivery_is_sent_when_due_with_the_same_message_id(settings, backend, member_user, mailoutbox):
    settings.OUTBOX_RETRY_BASE_SECONDS = 100
    backend.fail(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=1)

    with time_machine.travel(NOW, tick=False) as traveller:
        message = _reset_mail(member_user)
        services.deliveries_send(message_id=message.pk)
        assert services.deliveries_send(message_id=message.pk) == 0
        traveller.shift(timedelta(seconds=151))
        assert services.deliveries_send(message_id=message.pk) == 1

    delivery = message.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SENT, 2, "")
    [email] = mailoutbox
    assert email.message()["Message-ID"] == delivery.header_message_id


def test_delivery_fails_for_good_after_the_last_attempt(settings, backend, member_user, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    backend.fail(ConnectionRefusedError(111, "Connection refused"))

    statuses = []
    with time_machine.travel(NOW, tick=False) as traveller:
        message = _reset_mail(member_user)
        for _ in range(4):
            services.deliveries_send(message_id=message.pk)
            statuses.append(message.deliveries.get().status)
            traveller.shift(timedelta(hours=2))

    assert statuses == ["pending", "pending", "failed", "failed"]
    delivery = message.deliveries.get()
    assert delivery.attempts == 3
    assert delivery.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("error", "last_error"),
    [
        (
            smtplib.SMTPRecipientsRefused({"mia@example.org": (550, b"5.1.1 No such user")}),
            "mia@example.org: 550 5.1.1 No such user",
        ),
        (smtplib.SMTPResponseException(554, b"5.7.1 Message rejected"), "554 5.7.1 Message rejected"),
    ],
)
def test_permanent_failure_fails_at_once_with_the_servers_answer(backend, member_user, mailoutbox, error, last_error):
    message = _reset_mail(member_user)
    backend.fail(error)

    assert services.deliveries_send(message_id=message.pk) == 0

    delivery = message.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == (Delivery.Status.FAILED, 1, None)
    assert delivery.last_error == last_error
    assert mailoutbox == []


def test_failure_for_one_recipient_does_not_stop_the_others(backend, member_user, steward_user, mailoutbox):
    message = _reset_mail(member_user, steward_user)
    backend.fail(
        smtplib.SMTPRecipientsRefused({member_user.email: (550, b"5.1.1 No such user")}), only_for=(member_user.email,)
    )

    assert services.deliveries_send(message_id=message.pk) == 1

    assert message.deliveries.get(recipient=member_user).status == Delivery.Status.FAILED
    assert message.deliveries.get(recipient=steward_user).status == Delivery.Status.SENT
    assert [email.to for email in mailoutbox] == [[f"Stella Steward <{steward_user.email}>"]]


# --- Skipping those who left ------------------------------------------------------------------------


def test_skipping_pending_deliveries_of_a_scope_spares_everyone_else(steward_user, member_user, mailoutbox):
    message = _reset_mail(steward_user, member_user, scope="alliance:1")
    other_scope = _reset_mail(member_user, scope="alliance:2")
    already_sent = _reset_mail(member_user, scope="alliance:1")
    services.deliveries_send(message_id=already_sent.pk)
    mailoutbox.clear()

    skipped = services.deliveries_skip_pending(
        recipient=member_user, scope="alliance:1", reason=Delivery.SkipReason.LEFT
    )

    assert skipped == 1
    assert services.deliveries_send(message_id=message.pk) == 1
    assert services.deliveries_send(message_id=other_scope.pk) == 1
    gone = message.deliveries.get(recipient=member_user)
    assert (gone.status, gone.skip_reason, gone.last_error) == (Delivery.Status.SKIPPED, "left", "")
    assert already_sent.deliveries.get().status == Delivery.Status.SENT
    assert sorted(email.to[0] for email in mailoutbox) == sorted(
        [f"Stella Steward <{steward_user.email}>", f"Mia Member <{member_user.email}>"]
    )


def test_a_delivery_being_sent_is_not_skipped(member_user):
    message = _reset_mail(member_user, scope="alliance:1")
    [claimed] = services._claim_batch(message_id=message.pk, now=timezone.now(), size=10)

    assert services.deliveries_skip_pending(recipient=member_user, scope="alliance:1", reason="left") == 0

    claimed.refresh_from_db()
    assert claimed.status == Delivery.Status.SENDING


# --- Sweeping ----------------------------------------------------------------------------------------


def test_sweep_finds_stale_first_attempts_and_due_retries_only(settings):
    settings.OUTBOX_STALE_SECONDS = 300
    stale = timedelta(seconds=301)
    stale_first = DeliveryFactory(next_attempt_at=NOW - stale)
    due_retry = DeliveryFactory(attempts=1, next_attempt_at=NOW - timedelta(seconds=1))
    retry_due_now = DeliveryFactory(attempts=2, next_attempt_at=NOW)
    DeliveryFactory(next_attempt_at=NOW - timedelta(seconds=10))  # Its send job is probably still queued.
    DeliveryFactory(attempts=1, next_attempt_at=NOW + timedelta(seconds=1))
    DeliveryFactory(status=Delivery.Status.SENT, attempts=1, next_attempt_at=NOW - stale)
    DeliveryFactory(status=Delivery.Status.FAILED, attempts=8, next_attempt_at=NOW - stale)
    DeliveryFactory(status=Delivery.Status.SKIPPED, attempts=1, next_attempt_at=NOW - stale)

    due = services.deliveries_sweep(now=NOW)

    assert due == sorted([stale_first.message_id, due_retry.message_id, retry_due_now.message_id])


def test_sweep_names_a_message_once_however_many_deliveries_are_due():
    message = MessageFactory()
    DeliveryFactory.create_batch(3, message=message, attempts=1, next_attempt_at=NOW - timedelta(minutes=1))

    assert services.deliveries_sweep(now=NOW) == [message.pk]


def test_sweep_releases_stale_claims_but_not_recent_ones(settings):
    settings.OUTBOX_STALE_SECONDS = 300
    dead_worker = DeliveryFactory(
        status=Delivery.Status.SENDING,
        attempts=1,
        claim_token=uuid.uuid4(),
        claimed_at=NOW - timedelta(seconds=301),
        next_attempt_at=NOW - timedelta(seconds=400),
    )
    live_token = uuid.uuid4()
    live_worker = DeliveryFactory(
        status=Delivery.Status.SENDING,
        attempts=1,
        claim_token=live_token,
        claimed_at=NOW - timedelta(seconds=299),
        next_attempt_at=NOW - timedelta(seconds=400),
    )

    due = services.deliveries_sweep(now=NOW)

    assert due == [dead_worker.message_id]
    dead_worker.refresh_from_db()
    assert (dead_worker.status, dead_worker.claim_token, dead_worker.next_attempt_at) == (
        Delivery.Status.PENDING,
        None,
        NOW,
    )
    live_worker.refresh_from_db()
    assert (live_worker.status, live_worker.claim_token) == (Delivery.Status.SENDING, live_token)


def test_released_delivery_is_sent_by_the_next_job(settings, mailoutbox):
    settings.OUTBOX_STALE_SECONDS = 300
    delivery = DeliveryFactory(
        status=Delivery.Status.SENDING, attempts=1, claim_token=uuid.uuid4(), claimed_at=NOW - timedelta(hours=1)
    )

    with time_machine.travel(NOW, tick=False):
        [message_id] = services.deliveries_sweep(now=timezone.now())
        assert services.deliveries_send(message_id=message_id) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert len(mailoutbox) == 1


# --- Retry by a steward ------------------------------------------------------------------------------


def test_retrying_a_failed_delivery_sends_it_again_on_commit(django_capture_on_commit_callbacks, mailoutbox):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED, attempts=8, last_error="451 Try again later")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = services.delivery_retry(delivery=delivery)

        assert (retried.status, retried.attempts) == (Delivery.Status.PENDING, 0)
        assert mailoutbox == []

    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)
    [email] = mailoutbox
    assert email.to == [delivery.to_email]


def test_retrying_a_sent_delivery_changes_nothing(django_capture_on_commit_callbacks, mailoutbox):
    sent_at = NOW
    delivery = DeliveryFactory(status=Delivery.Status.SENT, attempts=1, sent_at=sent_at)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = services.delivery_retry(delivery=delivery)

    assert callbacks == []
    assert (retried.status, retried.attempts, retried.sent_at) == (Delivery.Status.SENT, 1, sent_at)
    assert mailoutbox == []


class UnreachableBackend(ScriptedBackend):
    """A mail server that cannot be reached, or refuses our login, when a connection is opened."""

    open_error: BaseException = ConnectionRefusedError(111, "Connection refused")
    open_attempts = 0

    def open(self) -> bool:
        UnreachableBackend.open_attempts += 1
        raise UnreachableBackend.open_error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid"),
    ],
    ids=["refused", "timeout", "login-refused"],
)
def test_unreachable_server_reschedules_the_whole_batch_after_one_try(settings, error, mailoutbox):
    # One try per batch, not one per delivery: a down server must not hold a worker for
    # batch size x EMAIL_TIMEOUT. A refused login is the site's configuration, so it is retried too.
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    UnreachableBackend.open_error, UnreachableBackend.open_attempts = error, 0
    users = UserFactory.create_batch(5)

    with time_machine.travel(NOW, tick=False):
        message = _reset_mail(*users)
        assert services.deliveries_send(message_id=message.pk) == 0

    assert UnreachableBackend.open_attempts == 1
    deliveries = list(message.deliveries.all())
    assert {d.status for d in deliveries} == {Delivery.Status.PENDING}
    assert {d.attempts for d in deliveries} == {1}
    assert all(d.next_attempt_at > NOW and d.claim_token is None for d in deliveries)
    assert all(d.last_error for d in deliveries)
    assert mailoutbox == []


# --- One key, two simultaneous requests ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_email_each_recipient_once(postgresql, mailoutbox):
    """A double POST: the second request arrives while the first has not committed yet.

    The second insert of the key waits for the first transaction and then fails, so the second request
    returns the first message. Run against PostgreSQL in CI; SQLite serialises the two writers anyway.
    """
    users = [UserFactory(display_name=f"Reader {n}") for n in range(3)]
    first_recorded = threading.Event()
    results: dict[str, int] = {}

    def request(name: str, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                message = _reset_mail(*users, key="meetings.agenda:1:1")
                if hold:
                    first_recorded.set()
                    time.sleep(0.5)  # the second request is now waiting on the key
            results[name] = message.pk
        finally:
            connections.close_all()

    first = threading.Thread(target=request, args=("first",), kwargs={"hold": True})
    first.start()
    assert first_recorded.wait(10)
    second = threading.Thread(target=request, args=("second",), kwargs={"hold": False})
    second.start()
    first.join(10)
    second.join(10)

    assert results["first"] == results["second"]
    assert Message.objects.count() == 1
    assert Delivery.objects.count() == 3
    assert sorted(email.to[0] for email in mailoutbox) == sorted(f"{u.display_name} <{u.email}>" for u in users)
