"""The delivery path under faults, in this process: a database that drops the record of an outcome, the
soft time limit arriving while a message is on its way, a job that runs out of its time budget, a mail
server that refuses some messages, a broker that is down when an action commits.

What each test checks is what a reader (or the operator) would notice: every recipient gets exactly one
copy, the rest still arrive, the person who acted sees their action succeed. The same faults against a
real worker, PostgreSQL, Redis and an SMTP server are in test_integration.py.
"""

import copy
import logging
import os
import signal
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from billiard.pool import soft_timeout_sighandler
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.checks import run_checks
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from outbox import jobs, services
from outbox.models import Delivery, Message
from outbox.services import Address
from outbox.tests.smtp_server import RecordingSMTPServer, free_port
from roundtable.celery import app as celery_app

RESET_CONTEXT = {"reset_url": "http://testserver/reset/x/"}


def _mail(count: int) -> Message:
    """Record a message to `count` readers without sending it: each test runs the sending itself."""
    with mock.patch("outbox.queue.send_message_on_commit"):
        return services.mail_send(
            template="password_reset",
            recipients=[Address(email=f"reader{n:02}@example.org") for n in range(count)],
            context={"user": None, **RESET_CONTEXT},
        )


def _copies_by_recipient() -> Counter:
    return Counter(to for email in mail.outbox for to in email.to)


def _sweep_after_stale_claims_and_send(settings) -> None:
    """What beat and the next jobs do once every claim is old enough to be taken for a dead worker's."""
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_STALE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        for message_id in services.deliveries_sweep(now=timezone.now()):
            services.deliveries_send(message_id=message_id)


class SlowBackend(BaseEmailBackend):
    """Mail kept in memory, like locmem, after a pause per message: a slow mail server."""

    pause = 0.0

    def send_messages(self, email_messages) -> int:
        for email in email_messages:
            time.sleep(SlowBackend.pause)
            email.message()
            mail.outbox.append(copy.deepcopy(email))
        return len(email_messages)


class SoftLimitDuringDataBackend(BaseEmailBackend):
    """The server accepts message number `at`, and Celery's soft time limit arrives before its answer is read."""

    at = 0
    count = 0

    def send_messages(self, email_messages) -> int:
        for email in email_messages:
            mail.outbox.append(copy.deepcopy(email))
            SoftLimitDuringDataBackend.count += 1
            if SoftLimitDuringDataBackend.count == SoftLimitDuringDataBackend.at:
                # What billiard's pool does to a job at its soft limit: SIGUSR1, whose handler raises.
                os.kill(os.getpid(), signal.SIGUSR1)
        return len(email_messages)


@pytest.fixture
def celery_soft_limit_handler():
    """The soft time limit's signal handler of a prefork pool process, in this (main) thread."""
    previous = signal.signal(signal.SIGUSR1, soft_timeout_sighandler)
    yield
    signal.signal(signal.SIGUSR1, previous)


class FailingUpdates:
    """A database wrapper that fails the statements recording an outcome, like a dropped connection."""

    def __init__(self, *, marker: str, times: int | None) -> None:
        self.marker, self.times_left, self.failed = marker, times, 0

    def __call__(self, execute, sql, params, many, context):
        if sql.startswith("UPDATE") and self.marker in sql and self.times_left != 0:
            if self.times_left is not None:
                self.times_left -= 1
            self.failed += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


# --- 8. A database drop while recording an outcome ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_outcome_whose_record_fails_for_a_while_is_recorded_and_never_sent_twice(settings):
    settings.OUTBOX_STALE_SECONDS = 600
    message = _mail(3)
    # The server accepts each message; the UPDATE that records "sent" fails three times, then gets through.
    failing = FailingUpdates(marker='"sent_at"', times=3)

    with connection.execute_wrapper(failing):
        assert services.deliveries_send(message_id=message.pk) == 3

    assert failing.failed == 3
    assert set(message.deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}
    # Nothing is left for the sweeper to send again, however long it waits.
    _sweep_after_stale_claims_and_send(settings)
    assert _copies_by_recipient() == Counter({f"reader{n:02}@example.org": 1 for n in range(3)})


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_longer_than_the_claim_gives_up_and_a_job_retry_sends_nothing_again(settings):
    settings.OUTBOX_STALE_SECONDS = 2  # the claim is safe for 1.6 s
    message = _mail(1)
    started = time.monotonic()

    with connection.execute_wrapper(FailingUpdates(marker='"sent_at"', times=None)):
        with pytest.raises(OperationalError):
            services.deliveries_send(message_id=message.pk)
        waited = time.monotonic() - started

    # It kept trying while the sweeper would leave the claim alone, and stopped before the sweeper takes it.
    assert 1 < waited < settings.OUTBOX_STALE_SECONDS
    assert message.deliveries.get().status == Delivery.Status.SENDING
    # The job's retry (autoretry on OperationalError) finds the delivery still claimed: no second copy.
    assert jobs.send_message(message.pk) == 0
    assert len(mail.outbox) == 1


# --- 9. A time budget per job, and the soft time limit held back during a send ---------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_out_of_budget_hands_the_rest_to_a_fresh_job_and_everyone_gets_one_copy(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    SlowBackend.pause = 0.2
    settings.OUTBOX_BATCH_SIZE = 4
    settings.OUTBOX_JOB_BUDGET_SECONDS = 0.5
    message = _mail(10)

    # Jobs run in this process (eager): the fresh job each one enqueues runs before it returns.
    first_job_sent = jobs.send_message(message.pk)

    assert 1 <= first_job_sent < 10
    assert _copies_by_recipient() == Counter({f"reader{n:02}@example.org": 1 for n in range(10)})
    deliveries = list(message.deliveries.all())
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}
    # What a job claimed and gave back unsent was not counted as an attempt.
    assert {d.attempts for d in deliveries} == {1}


@pytest.mark.django_db(transaction=True)
def test_a_job_with_no_budget_left_still_sends_one_message_so_the_chain_ends(settings):
    settings.OUTBOX_JOB_BUDGET_SECONDS = 0
    message = _mail(3)

    assert jobs.send_message(message.pk) == 1

    # Each fresh job sent one more (eager, in this process): all three arrived, once each.
    assert _copies_by_recipient() == Counter({f"reader{n:02}@example.org": 1 for n in range(3)})
    assert {d.attempts for d in message.deliveries.all()} == {1}


@pytest.mark.django_db(transaction=True)
def test_the_soft_time_limit_during_data_waits_until_the_answer_is_recorded(settings, celery_soft_limit_handler):
    settings.EMAIL_BACKEND = f"{__name__}.SoftLimitDuringDataBackend"
    SoftLimitDuringDataBackend.at, SoftLimitDuringDataBackend.count = 2, 0
    settings.OUTBOX_BATCH_SIZE = 5
    message = _mail(5)

    # The limit stops the job after the second message is recorded; a fresh job (eager) sends the rest.
    assert jobs.send_message(message.pk) == 2

    assert set(message.deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}
    _sweep_after_stale_claims_and_send(settings)
    assert _copies_by_recipient() == Counter({f"reader{n:02}@example.org": 1 for n in range(5)})
    assert {d.attempts for d in message.deliveries.all()} == {1}


def test_the_held_soft_time_limit_is_raised_when_the_block_ends(celery_soft_limit_handler):
    steps = []

    def send_and_record() -> None:
        with services._soft_time_limit_held():
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)  # the handler would raise here if the signal were not held
            steps.append("recorded")
        steps.append("after the block")

    with pytest.raises(SoftTimeLimitExceeded):
        send_and_record()

    assert steps == ["recorded"]
    assert signal.getsignal(signal.SIGUSR1) is soft_timeout_sighandler


# --- 12. A refused message keeps the SMTP session (RSET), it does not reconnect -------------------------


@pytest.fixture
def smtp(settings):
    with RecordingSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = server.host, server.port, 10
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield server


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_temporary_refusals_reset_the_session_instead_of_reconnecting(settings, smtp, stage):
    settings.OUTBOX_BATCH_SIZE = 50
    if stage == "RCPT":
        smtp.handler.refuse_rcpt_next = 6
    else:
        smtp.handler.refuse_next = 6
    message = _mail(12)

    assert services.deliveries_send(message_id=message.pk) == 6

    # One SMTP session for the whole batch (the old code opened seven: one more per refusal).
    assert smtp.handler.sessions == 1
    assert len(smtp.handler.snapshot()) == 6
    refused = message.deliveries.filter(status=Delivery.Status.PENDING)
    assert refused.count() == 6
    assert all("try again later" in d.last_error.lower() for d in refused)


@pytest.mark.django_db
def test_a_server_closing_the_session_after_a_refusal_is_reconnected_for_the_rest(settings, smtp):
    # 421 at DATA: smtplib closes the connection; the next message needs a new session.
    smtp.handler.refuse_next, smtp.handler.refuse_code = 1, "421 4.3.2 Closing"
    message = _mail(3)

    assert services.deliveries_send(message_id=message.pk) == 2

    assert smtp.handler.sessions == 2
    assert message.deliveries.filter(status=Delivery.Status.PENDING).count() == 1


# --- 11. A broker that is down when an action commits -----------------------------------------------------


@pytest.fixture
def broker_down():
    """This process enqueues to a Redis port where nothing listens."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    celery_app._pool, celery_app.amqp._producer_pool = None, None
    yield
    conf.task_always_eager, conf.broker_url = saved
    celery_app._pool, celery_app.amqp._producer_pool = None, None


@pytest.mark.django_db(transaction=True)
def test_an_action_committed_while_the_broker_is_down_succeeds_and_its_email_waits(client, broker_down, caplog):
    user = UserFactory(email="ada@example.org")

    with caplog.at_level(logging.ERROR, logger="outbox.queue"):
        response = client.post(reverse("accounts:password_reset"), {"email": user.email})

    # The person sees their request go through, not an error page.
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    delivery = Delivery.objects.get(to_email=user.email)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
    assert "the sweeper will send it later" in caplog.text


@pytest.mark.django_db
def test_the_sweeper_picks_up_a_first_attempt_whose_job_was_lost_within_two_sweeps(settings):
    settings.OUTBOX_SWEEP_SECONDS = 30
    now = timezone.now()
    lost = Delivery.objects.get(message=_mail(1))
    Delivery.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(seconds=61))
    on_its_way = Delivery.objects.get(message=_mail(1))  # recorded just now: its job is on its way

    assert services.deliveries_sweep(now=now) == [lost.message_id]
    assert on_its_way.message_id != lost.message_id


@pytest.mark.django_db(transaction=True)
def test_the_send_job_enqueued_on_commit_survives_a_broker_that_is_down(broker_down, caplog):
    # Outside a transaction on_commit runs at once: the enqueue fails, the caller goes on.
    with caplog.at_level(logging.ERROR, logger="outbox.queue"):
        services.queue.send_message_on_commit(123)
    assert "Could not enqueue the send job of message 123" in caplog.text


# --- 23. The timing settings are checked at start-up -------------------------------------------------------


def _outbox_warnings() -> list[str]:
    return [message.id for message in run_checks() if message.id.startswith("outbox.")]


def test_default_timing_settings_pass_the_checks():
    assert _outbox_warnings() == []


def test_stale_claims_not_above_the_job_time_limit_are_warned_about(settings):
    settings.CELERY_TASK_TIME_LIMIT = 300
    settings.OUTBOX_STALE_SECONDS = 300
    assert _outbox_warnings() == ["outbox.W001"]


def test_a_job_budget_not_below_the_soft_time_limit_is_warned_about(settings):
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 60
    settings.OUTBOX_JOB_BUDGET_SECONDS = 60
    assert _outbox_warnings() == ["outbox.W002"]


def test_a_job_without_a_time_limit_is_warned_about(settings):
    settings.CELERY_TASK_TIME_LIMIT = None
    assert _outbox_warnings() == ["outbox.W001"]
