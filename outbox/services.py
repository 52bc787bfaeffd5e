"""The one path every email takes: record in the action's transaction, send after commit, once.

- `mail_send()` renders one delivery per recipient, in their language and time zone, inside the
  caller's transaction, and enqueues the send job on commit: if the action rolls back, nothing is sent.
- `deliveries_send()` claims due deliveries in batches (a conditional UPDATE, after
  `SELECT … FOR UPDATE SKIP LOCKED` where the database has it), sends each batch over one SMTP
  connection, and records each outcome under its claim token: a job that runs twice sends once.
- Temporary failures are rescheduled as rows with a due time (never a broker countdown, which Redis
  redelivers after its visibility timeout); `deliveries_sweep()` re-queues due rows and releases the
  claims of workers that died.
"""

import contextlib
import logging
import random
import re
import signal
import smtplib
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any

from billiard.pool import SIG_SOFT_TIMEOUT
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from outbox import queue
from outbox.models import Attachment, Delivery, Message, MessagePart, expand_parts

logger = logging.getLogger(__name__)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Address:
    """Someone to write to, with the language and time zone to write in."""

    email: str
    name: str = ""
    language: str = settings.LANGUAGE_CODE
    time_zone: str = "UTC"
    # The project's user model, whichever it is: the outbox reads only its pk and is_active.
    user: AbstractBaseUser | None = field(default=None, compare=False)

    @classmethod
    def for_user(cls, user: Any) -> "Address":
        """The address of an account with `email`, `display_name`, `language` and `time_zone`."""
        return cls(
            email=user.email,
            # Names saved before forms refused line breaks may hold one; in a To: header it would make
            # every email to this person fail for good, so the header gets the name on one line.
            name=" ".join(CONTROL_CHARACTERS.sub(" ", user.display_name).split()),
            language=user.language,
            time_zone=user.time_zone,
            user=user,
        )


@dataclass(frozen=True)
class File:
    """A file to send; an `alternative` goes into the body as one more version of it (see `Attachment`)."""

    filename: str
    content: bytes
    mimetype: str
    alternative: bool = False


def absolute_url(path: str) -> str:
    """Links inside emails point at SITE_URL: a worker has no request to build them from."""
    return f"{settings.SITE_URL}{path}"


class SharedPart:
    """A part of an email that reads the same in every copy of one language and time zone: rendered once
    for each of them, not once a copy.

    The notes of a meeting sent to 500 members are the same notes for everyone who reads Spanish in
    Madrid; only each copy's opening is its reader's own. Rendering them for every copy cost the click
    seconds. Put a SharedPart in `mail_send`'s context and print it in the email's template as a variable
    (`{{ notes_html }}`): its own template sees only the context given here, never `recipient`, so it
    cannot say anything about one reader. An HTML part is printed as it is (its template escaped it); a
    text part's template turns autoescape off itself (as meetings/notes.md does). For the bodies only,
    not the subject.

    In `mail_send` each rendering is stored once for the message (MessagePart) and the copies hold its
    marker, replaced when a copy is sent or shown (`Delivery.text`, `Delivery.html`): the notes' 500
    copies are then 500 short rows, not 20 MB written in the click's transaction.
    """

    def __init__(self, template: str, context: dict) -> None:
        self.template = template
        self.context = {"site_url": settings.SITE_URL, **context}
        self._rendered: dict[tuple[str | None, str], str] = {}
        # Set by mail_send: each copy then holds a marker, and the part is stored once (MessagePart).
        self._markers: dict[tuple[str | None, str], str] | None = None

    def render(self) -> str:
        key = (translation.get_language(), timezone.get_current_timezone_name())
        if key not in self._rendered:
            self._rendered[key] = render_to_string(self.template, self.context)
        if self._markers is None:
            return self._rendered[key]
        if key not in self._markers:
            self._markers[key] = MessagePart.new_marker()
        return self._markers[key]

    def keep_once(self) -> None:
        """From now on print a marker in each copy; `kept()` gives each marker's content to store once."""
        self._markers = {}

    def kept(self, message: Message) -> list[MessagePart]:
        return [
            MessagePart(message=message, marker=marker, content=self._rendered[key])
            for key, marker in (self._markers or {}).items()
        ]

    __str__ = render
    # What Django's templates print without escaping it again (conditional_escape).
    __html__ = render


def render_email(*, template: str, context: dict, language: str, time_zone: str) -> tuple[str, str, str]:
    """Render emails/<template>_subject.txt, .txt and .html in the reader's language and time zone."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language), timezone.override(zone):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    # A header cannot hold a newline; templates may end with one.
    return " ".join(subject.split()), text, html


def mail_send(
    *,
    template: str,
    recipients: Iterable[Address],
    context: dict | None = None,
    scope: str = "",
    key: str | None = None,
    secret: bool = False,
    reply_to: str = "",
    attachments: Sequence[File] = (),
    attachments_for: Callable[[Address], Sequence[File]] | None = None,
    context_for: Callable[[Address], dict] | None = None,
    headers: Mapping[str, str] | None = None,
    headers_for: Callable[[Address], Mapping[str, str]] | None = None,
    alike: Callable[[Address], Hashable] | None = None,
) -> Message:
    """Record an email to each recipient; it is sent by a job once the caller's transaction commits.

    Call it inside the transaction of the action that causes the email. Each recipient's copy is
    rendered now, in their language and time zone, and `recipient` is added to its context.
    Inactive accounts and repeated addresses get nothing.

    - `scope` says whose email it is, in the caller's words ("alliance:12"): see `deliveries_skip_pending`.
    - `key`, unique per message: a second call with the same key records and sends nothing and returns
      the first message, so a double click or a retried request emails nobody twice. Operators see
      keys: put no secret in one.
    - `secret`: the email carries a single-use link (reset, confirmation, invitation); the outbox pages
      and the admin show it with its links removed.
    - `attachments` go with every copy; `attachments_for(recipient)` returns the files of one
      recipient's copy (a calendar invitation that names them as attendee), built now, like the body.
    - `context_for(recipient)` adds to the context of one recipient's copy (what concerns them alone).
    - `headers` go with every copy, `headers_for(recipient)` with one recipient's copy (a
      List-Unsubscribe link that names them); both are stored with the copy (`check_headers`).
    - `alike(recipient)`: copies with the same value, language and time zone read the same, and are
      rendered once (the notes' 500 copies are a few dozen different emails). Only for templates that
      do not print `recipient`, and a value that covers whatever `context_for` gives.
    """
    check_headers(headers or {})
    with transaction.atomic():
        try:
            # A savepoint of its own: a key already used leaves the caller's transaction usable. On
            # PostgreSQL a concurrent insert of the same key waits here until the other transaction
            # ends, then fails if it committed, so two simultaneous requests also record one message.
            with transaction.atomic():
                message = Message.objects.create(
                    template=template, scope=scope, key=key, secret=secret, reply_to=reply_to
                )
        except IntegrityError:
            if key is None:
                raise
            logger.info("Not sending %s again: its key %r was used before.", template, key)
            return Message.objects.get(key=key)
        Attachment.objects.bulk_create(_attachment(message, f) for f in attachments)
        shared = [value for value in (context or {}).values() if isinstance(value, SharedPart)]
        for part in shared:
            part.keep_once()
        deliveries = []
        own_files: list[Sequence[File]] = []
        seen: set[str] = set()
        rendered: dict[Hashable, tuple[str, str, str]] = {}
        for recipient in recipients:
            email = recipient.email.lower()
            if email in seen or (recipient.user is not None and not recipient.user.is_active):
                continue
            seen.add(email)
            own_headers = {**(headers or {}), **(headers_for(recipient) if headers_for is not None else {})}
            kind = (recipient.language, recipient.time_zone, alike(recipient)) if alike is not None else None
            if kind is None or kind not in rendered:
                own_context = {**(context or {}), **(context_for(recipient) if context_for is not None else {})}
                texts = _render_copy(message, recipient, own_context)
                if kind is not None:
                    rendered[kind] = texts
            else:
                texts = rendered[kind]
            deliveries.append(_delivery(message, recipient, texts, own_headers))
            own_files.append(attachments_for(recipient) if attachments_for is not None else ())
        # bulk_create sets the primary keys (RETURNING, on PostgreSQL and SQLite alike), which the
        # recipients' own files point at.
        Delivery.objects.bulk_create(deliveries)
        MessagePart.objects.bulk_create(row for part in shared for row in part.kept(message))
        Attachment.objects.bulk_create(
            _attachment(message, f, delivery=delivery)
            for delivery, files in zip(deliveries, own_files, strict=True)
            for f in files
        )
        queue.send_message_on_commit(message.pk)
    return message


# Headers the outbox sets itself on every copy, or that a template or EmailMessage sets.
OWN_HEADERS = frozenset({"message-id", "auto-submitted", "from", "to", "cc", "bcc", "reply-to", "subject", "date"})
HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322: printable ASCII but the colon


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse, when the email is recorded, a header that could never be sent or that replaces the outbox's own.

    A line break in a value would fail every attempt to send it (Django refuses it as header injection),
    so it is caught here, where the caller's bug shows, rather than as a failed delivery.
    """
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name) or name.lower() in OWN_HEADERS:
            raise ValueError(f"Not a header a caller may set: {name!r}")
        if not isinstance(value, str) or CONTROL_CHARACTERS.search(value):
            raise ValueError(f"The {name} header must be one line of text.")


def _render_copy(message: Message, recipient: Address, context: dict) -> tuple[str, str, str]:
    """The subject, text and HTML of one recipient's copy, in their language and time zone."""
    return render_email(
        template=message.template,
        context={**context, "recipient": recipient},
        language=recipient.language,
        time_zone=recipient.time_zone,
    )


def _delivery(
    message: Message, recipient: Address, texts: tuple[str, str, str], headers: Mapping[str, str]
) -> Delivery:
    """One recipient's copy of `message`, rendered (`_render_copy`) in their language and time zone."""
    check_headers(headers)
    subject, text, html = texts
    return Delivery(
        message=message,
        recipient_id=recipient.user.pk if recipient.user is not None else None,
        to_email=recipient.email,
        to_name=recipient.name,
        language=recipient.language,
        subject=subject,
        body_text=text,
        body_html=html,
        header_message_id=Delivery.new_message_id(),
        headers=dict(headers),
    )


@dataclass(frozen=True)
class Mail:
    """One email to one person, for `mail_send_each`: its own template context, key and headers."""

    template: str
    recipient: Address
    context: dict = field(default_factory=dict)
    scope: str = ""
    key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def mail_send_each(*, mails: Sequence[Mail]) -> list[Message]:
    """Record many emails, each to one person with a content of their own, in a constant number of queries.

    What `mail_send` does for one message, for a batch of them (a daily digest: everyone's own list):
    one query for the keys already used, one insert of the messages and one of their deliveries, however
    many there are. A mail whose key was used before (or earlier in the batch), or whose recipient is
    inactive, is left out. Return the messages recorded now.

    The caller claims its keys first with a unique row of its own, in the same transaction: two
    transactions that record the same key at once make the later one fail whole (IntegrityError) rather
    than wait and leave out one mail, as `mail_send` does.
    """
    keys = [mail.key for mail in mails if mail.key is not None]
    with transaction.atomic():
        used = set(Message.objects.filter(key__in=keys).values_list("key", flat=True)) if keys else set()
        chosen: list[Mail] = []
        for mail in mails:
            if (mail.key is not None and mail.key in used) or (
                mail.recipient.user is not None and not mail.recipient.user.is_active
            ):
                continue
            if mail.key is not None:
                used.add(mail.key)
            chosen.append(mail)
        if not chosen:
            return []
        # bulk_create sets the primary keys (RETURNING, on PostgreSQL and SQLite alike).
        messages = Message.objects.bulk_create(
            Message(template=mail.template, scope=mail.scope, key=mail.key) for mail in chosen
        )
        Delivery.objects.bulk_create(
            _delivery(message, mail.recipient, _render_copy(message, mail.recipient, mail.context), mail.headers)
            for message, mail in zip(messages, chosen, strict=True)
        )
        for message in messages:
            queue.send_message_on_commit(message.pk)
    return messages


def _attachment(message: Message, file: File, *, delivery: Delivery | None = None) -> Attachment:
    return Attachment(
        message=message,
        delivery=delivery,
        filename=file.filename,
        mimetype=file.mimetype,
        content=file.content,
        alternative=file.alternative,
    )


# --- Sending ----------------------------------------------------------------------------------------


def _claim_batch(*, message_id: int, now: datetime, size: int) -> list[Delivery]:
    token = uuid.uuid4()
    with transaction.atomic():
        # SKIP LOCKED lets a second worker on PostgreSQL take the next rows instead of waiting; SQLite
        # has no row locks and serialises the whole block instead (transaction_mode IMMEDIATE). Either
        # way the conditional UPDATE is what guarantees that a row is claimed by one worker only.
        ids = list(
            Delivery.objects.due(now)
            .filter(message_id=message_id)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    return list(Delivery.objects.filter(claim_token=token).select_related("message").order_by("pk"))


def _claim_safe_until(delivery: Delivery) -> datetime:
    """Until when the sweeper leaves this claim alone, less a margin for clocks that differ between hosts."""
    if delivery.claimed_at is None:  # not claimed: nothing keeps the sweeper away
        return timezone.now()
    stale = timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    return delivery.claimed_at + stale - min(stale / 5, timedelta(minutes=1))


def _finish(delivery: Delivery, **changes) -> bool:
    """Record the outcome of a claimed delivery; false if the claim was lost (released as stale).

    The server may already have accepted the message. If the database cannot take the record now and we
    gave up, the claim would go stale and the sweeper would send the message again; so the UPDATE is
    retried on a fresh connection for as long as the claim is safe from the sweeper. Only a database
    outage longer than that (or than the job's hard time limit) can still lead to a second copy.
    """
    pause = 0.2
    while True:
        try:
            return (
                Delivery.objects.filter(
                    pk=delivery.pk, claim_token=delivery.claim_token, status=Delivery.Status.SENDING
                ).update(claim_token=None, **changes)
                == 1
            )
        except (OperationalError, InterfaceError) as exc:
            if timezone.now() + timedelta(seconds=pause) >= _claim_safe_until(delivery):
                raise
            logger.warning("Could not record the outcome of delivery %s yet, retrying: %s", delivery.pk, exc)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
            _drop_connection()


def _drop_connection() -> None:
    """Close a connection that failed, so that the next query opens a new one (Django does not on its own)."""
    if connection.in_atomic_block:
        return  # Only a test runs this inside a transaction; closing would end the test's transaction.
    with contextlib.suppress(DatabaseError):
        connection.close()


def _release(deliveries: Sequence[Delivery]) -> None:
    """Give back claimed deliveries that never reached the server: due now, and not counted as an attempt."""
    if not deliveries:
        return
    try:
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], claim_token=deliveries[0].claim_token, status=Delivery.Status.SENDING
        ).update(status=Delivery.Status.PENDING, claim_token=None, attempts=F("attempts") - 1)
    except DatabaseError:
        # They are released by the sweeper once their claim is stale; nothing was sent, so nothing doubles.
        logger.warning("Could not release %s unsent deliveries; the sweeper will.", len(deliveries), exc_info=True)


def is_permanent_failure(exc: BaseException) -> bool:
    """5xx answers and refused recipients are final; everything else is worth another try."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    # A malformed address or header never gets better by waiting.
    return isinstance(exc, ValueError | UnicodeError)


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {error}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter, so that retries after an outage do not arrive all at once."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, settings.OUTBOX_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter
    return timedelta(seconds=seconds)


def _record_failure(delivery: Delivery, exc: BaseException, now: datetime, *, permanent: bool | None = None) -> None:
    error = describe_failure(exc)
    if permanent is None:
        permanent = is_permanent_failure(exc)
    if permanent or delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        logger.warning("Delivery %s failed for good: %s", delivery.pk, error)
        _finish(delivery, status=Delivery.Status.FAILED, last_error=error)
    else:
        logger.info("Delivery %s will be retried: %s", delivery.pk, error)
        _finish(
            delivery,
            status=Delivery.Status.PENDING,
            next_attempt_at=now + retry_delay(delivery.attempts),
            last_error=error,
        )


def build_email(
    delivery: Delivery,
    attachments: Sequence[Attachment],
    connection=None,
    parts: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """The email of one delivery, with the message's files for every copy and this copy's own.

    `parts`: the message's shared parts (marker → content), fetched once for a batch; by default the
    delivery fetches them itself if its body holds a marker.

    An alternative goes after the HTML inside multipart/alternative (the layout calendar invitations use:
    text, HTML, `text/calendar; method=…`); the other files are attached after the body.
    """
    message = delivery.message
    email = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text if parts is None else expand_parts(delivery.body_text, parts),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((delivery.to_name, delivery.to_email))],
        reply_to=[message.reply_to] if message.reply_to else None,
        # A stable Message-ID per delivery: if the server accepted a copy but the worker died before
        # recording it, the copy sent on retry is identical and mail clients keep one. The copy's own
        # headers never replace these two (check_headers refuses them when the email is recorded).
        headers={**delivery.headers, "Message-ID": delivery.header_message_id, "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    email.attach_alternative(delivery.html if parts is None else expand_parts(delivery.body_html, parts), "text/html")
    for attachment in attachments:
        if attachment.delivery_id not in (None, delivery.pk):
            continue
        if attachment.alternative:
            email.attach_alternative(bytes(attachment.content).decode(), attachment.mimetype)
        else:
            email.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
    return email


@contextlib.contextmanager
def _soft_time_limit_held() -> Iterator[None]:
    """Hold Celery's soft time limit back until the block ends.

    The limit arrives as a signal whose handler raises SoftTimeLimitExceeded wherever the job is: inside
    SMTP DATA, or between the server's answer and the record of it, it would leave an accepted message
    unrecorded, to be sent again. Here the signal is noted and raised again once the block is over.
    Only the main thread can set signal handlers; the prefork pool runs jobs there (and no other pool
    enforces time limits by signal).
    """
    if (
        SIG_SOFT_TIMEOUT is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(SIG_SOFT_TIMEOUT) is None  # a handler Python did not set, which it cannot restore
    ):
        yield
        return
    arrived = []
    previous = signal.signal(SIG_SOFT_TIMEOUT, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        signal.signal(SIG_SOFT_TIMEOUT, previous)
        if arrived:
            signal.raise_signal(SIG_SOFT_TIMEOUT)


def _close_quietly(connection) -> None:
    # QUIT on a connection the server already dropped may fail; the connection is gone either way.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def _recover_connection(connection, exc: BaseException) -> None:
    """After a refused message, reset the SMTP session (RSET) and keep it; close a connection that broke.

    A 4xx or 5xx at MAIL, RCPT or DATA leaves a working session: reconnecting each time would cost one
    SMTP session per refusal. smtplib resets after most refusals itself, but not after every one (a 421
    closes); an explicit RSET tells whether the session still answers.
    """
    smtp = getattr(connection, "connection", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException) and isinstance(
        smtp, smtplib.SMTP
    ):
        try:
            keep = smtp.rset()[0] == 250
        except (smtplib.SMTPException, OSError):
            keep = False
    else:
        # A message that could not be built never reached the server; anything else may have broken it.
        keep = isinstance(exc, ValueError | UnicodeError)
    if not keep:
        _close_quietly(connection)


def _send_one(connection, delivery: Delivery, attachments: Sequence[Attachment], parts: dict[str, str]) -> bool:
    """Send one claimed delivery over an open connection and record the outcome; true if it was sent."""
    try:
        connection.send_messages([build_email(delivery, attachments, connection, parts)])
    except (smtplib.SMTPException, OSError, ValueError, UnicodeError) as exc:
        _record_failure(delivery, exc, timezone.now())
        _recover_connection(connection, exc)
        return False
    return _finish(delivery, status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")


def _send_batch(batch: list[Delivery], *, deadline: float) -> tuple[int, bool]:
    """Send a claimed batch over one connection until `deadline` (monotonic); release what is left.

    Return how many were sent, and false if Celery's soft time limit stopped the batch.
    """
    # The files for every copy, and this batch's own: not every recipient's, which could be thousands.
    attachments = list(Attachment.objects.sent_with(batch[0].message_id, [d.pk for d in batch]).order_by("pk"))
    # The parts every copy shares (SharedPart), once for the batch rather than once a copy.
    parts = {}
    if any("[outbox-part:" in d.body_text or "[outbox-part:" in d.body_html for d in batch):
        parts = dict(MessagePart.objects.filter(message_id=batch[0].message_id).values_list("marker", "content"))
    connection = get_connection()
    sent = 0
    started = 0  # batch[:started] may have reached the server: never released, only recorded
    try:
        for delivery in batch:
            # A batch claimed in time sends at least one: a job always makes progress, however slow.
            if started and time.monotonic() >= deadline:
                break
            try:
                # Given a closed connection, the SMTP backend opens and closes one per message: open it
                # here (a no-op while open) to share it across the batch and reopen it after a failure.
                connection.open()
            except (smtplib.SMTPException, OSError) as exc:
                # The server cannot be reached or refuses us (even a 5xx login failure is the site's
                # configuration, not the recipient's): the rest of the batch waits for its retry rather
                # than each delivery waiting out its own connection timeout.
                now = timezone.now()
                for waiting in batch[started:]:
                    _record_failure(waiting, exc, now, permanent=False)
                started = len(batch)
                break
            started += 1
            with _soft_time_limit_held():
                sent += _send_one(connection, delivery, attachments, parts)
    except SoftTimeLimitExceeded:
        return sent, False
    finally:
        # Also on the way out of an error or the soft time limit: what was not started is due again now.
        _release(batch[started:])
        _close_quietly(connection)
    return sent, True


def _enqueue_helper(batch: list[Delivery]) -> None:
    """A full batch claimed: more copies may be due, so a second job takes the next batch meanwhile.

    A fan-out to hundreds then uses the worker's other processes instead of one sending it all: each job
    claims its own batches (so none is sent twice) and enqueues at most one helper, so a message has at
    most one job per batch. In eager mode (tests) the helper runs here and now: whatever it raises must
    not leave this job's batch claimed until the sweeper finds it stale.
    """
    try:
        queue.send_message_now(batch[0].message_id)
    except BaseException:
        _release(batch)
        raise


def deliveries_send(*, message_id: int, budget_seconds: float | None = None) -> int:
    """Send every due delivery of a message, a batch per SMTP connection; return how many were sent.

    A job that claims a full batch enqueues one more job (`_enqueue_helper`), so that the worker's
    processes share a large fan-out. A job works for OUTBOX_JOB_BUDGET_SECONDS at most (or
    `budget_seconds`): then, or if Celery's soft time limit comes first, it stops after the message it is
    sending, gives back what it claimed and did not send, and enqueues a fresh job for the rest. So a
    large or slow fan-out is never cut off in the middle of a message. Each job sends at least one
    message before it looks at its budget, so a chain of fresh jobs always makes progress.
    """
    budget = settings.OUTBOX_JOB_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    sent, within_limit, helped = 0, True, False
    try:
        while True:
            batch = _claim_batch(message_id=message_id, now=timezone.now(), size=settings.OUTBOX_BATCH_SIZE)
            if not batch:
                return sent
            if not helped and len(batch) == settings.OUTBOX_BATCH_SIZE:
                helped = True
                _enqueue_helper(batch)
            batch_sent, within_limit = _send_batch(batch, deadline=deadline)
            sent += batch_sent
            if not within_limit or time.monotonic() >= deadline:
                break
    except SoftTimeLimitExceeded:
        within_limit = False  # while claiming: nothing was sent
    if within_limit:
        logger.info("Sending message %s used its time budget; a fresh job sends the rest.", message_id)
    else:
        logger.warning("Sending message %s reached the soft time limit; a fresh job sends the rest.", message_id)
    queue.send_message_now(message_id)
    return sent


def deliveries_sweep(*, now: datetime) -> list[int]:
    """Release the claims of dead workers and return the messages that have deliveries due.

    A claim older than OUTBOX_STALE_SECONDS belongs to a worker that died: the setting is longer than
    the job's hard time limit, so a live worker's job would have been stopped by then.
    """
    stale_before = now - timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    released = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=stale_before).update(
        status=Delivery.Status.PENDING, claim_token=None, next_attempt_at=now
    )
    if released:
        logger.warning("Released %s deliveries claimed by a worker that did not finish.", released)
    # A first attempt still pending after two sweeps lost its job (the broker was down at enqueue, or
    # lost the message). Enqueueing one whose job is merely slow costs a claim that finds nothing.
    lost_before = now - timedelta(seconds=2 * settings.OUTBOX_SWEEP_SECONDS)
    due = Delivery.objects.filter(status=Delivery.Status.PENDING).filter(
        Q(attempts__gt=0, next_attempt_at__lte=now) | Q(next_attempt_at__lte=lost_before)
    )
    return sorted(set(due.values_list("message_id", flat=True)))


@transaction.atomic
def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Give a failed delivery a fresh set of attempts (a steward's "Retry", fetched within their scope)."""
    changed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if changed:
        queue.send_message_on_commit(delivery.message_id)
    delivery.refresh_from_db()
    return delivery


def deliveries_skip_pending(*, recipient: AbstractBaseUser, scope: str, reason: Delivery.SkipReason) -> int:
    """Skip what is still waiting to be sent to someone who no longer belongs to `scope`; return how many.

    The domain app calls it when, say, a member leaves an alliance: its emails recorded before then are
    not sent to them. A delivery already being sent is left to finish.
    """
    return Delivery.objects.filter(
        recipient_id=recipient.pk, message__scope=scope, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.SKIPPED, skip_reason=reason)
