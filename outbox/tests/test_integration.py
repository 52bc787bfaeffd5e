"""The email delivery path end to end: a real Celery worker process, Redis, the database, an SMTP server.

Each test starts `celery -A roundtable worker` as a subprocess, on a Redis database of its own (flushed
before and after), against the test database of this run (PostgreSQL, or SQLite in a file), sending to
an aiosmtpd server in this process that records what it accepts. What the tests check is what a reader
would notice: every recipient gets exactly one copy (by Message-ID and by address), whatever happens to
the SMTP server, the broker messages or the worker.

The fault scenarios of issue 7 also cut the worker's database connections through a TCP proxy right
after the server accepts a message (PostgreSQL only), let the soft time limit arrive inside SMTP DATA,
give each job a time budget shorter than the fan-out, and kill a Redis of the test's own (started on a
free port) while a job runs and while an action commits.

Outside CI the tests skip when Redis is not reachable; in CI (CI=true) they fail instead.
Redis defaults to redis://127.0.0.1:6379/5; set REDIS_URL_FOR_TESTS to use another one.
"""

import contextlib
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import kombu.exceptions
import kombu.pools
import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connections, transaction

from accounts.models import User
from outbox import jobs
from outbox.models import Delivery
from outbox.services import Address, mail_send
from outbox.tests.fault_tools import RedisServer, TCPProxy
from outbox.tests.smtp_server import RecordingSMTPServer
from roundtable.celery import app as celery_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/5")
IN_CI = os.environ.get("CI") == "true"
DEADLINE_SECONDS = 60  # for anything the tests wait for
WORKER_START_SECONDS = 30


def unavailable(reason: str):
    """Skip on a developer's machine; in CI a missing service is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: integration tests never skip)", pytrace=False)
    pytest.skip(reason)


# --- Services -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: integration tests need it ({exc})")
    yield client
    client.close()


@pytest.fixture(scope="module", autouse=True)
def worker_database_url(redis_client, django_db_setup, django_db_blocker, tmp_path_factory):
    """A DATABASE_URL for worker processes that reaches this run's test database.

    PostgreSQL: the test database by name. SQLite: pytest-django's test database lives in this process's
    memory, which no other process can open, so for this module the default connection is swapped for
    a migrated SQLite file (WAL, IMMEDIATE transactions, as in production) that test and worker share.
    """
    connection = connections["default"]
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        userinfo = ""
        if s["USER"]:
            userinfo = quote(s["USER"], safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "") + "@"
        host = s["HOST"] or "localhost"
        port = f":{s['PORT']}" if s["PORT"] else ""
        yield f"postgres://{userinfo}{host}{port}/{quote(s['NAME'], safe='')}"
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        yield f"sqlite:///{Path(connection.settings_dict['NAME']).resolve()}"
    elif connection.vendor == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "outbox-integration.sqlite3"
        shared = connection.__class__({**connection.settings_dict, "NAME": str(path)}, "default")
        connections["default"] = shared
        try:
            with django_db_blocker.unblock():
                call_command("migrate", verbosity=0, interactive=False)
            yield f"sqlite:///{path}"
        finally:
            with django_db_blocker.unblock():
                shared.close()
            connections["default"] = connection
    else:
        pytest.fail(f"No integration set-up for the {connection.vendor} database backend.", pytrace=False)


def _reset_publisher_pools():
    """Drop this process's cached broker connections, so the next enqueue uses the current broker_url."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_client):
    """This process enqueues to Redis for real (the root conftest makes Celery eager for unit tests)."""
    redis_client.flushdb()
    conf = celery_app.conf
    keys = ("task_always_eager", "task_eager_propagates", "broker_url", "broker_transport_options")
    saved = {key: conf[key] for key in keys}
    conf.task_always_eager = False
    conf.task_eager_propagates = False
    conf.broker_url = REDIS_URL
    conf.broker_transport_options = {"visibility_timeout": 3600}
    _reset_publisher_pools()
    yield redis_client
    for key, value in saved.items():
        conf[key] = value
    kombu.pools.reset()  # closes this test's connections to Redis
    _reset_publisher_pools()
    redis_client.flushdb()


@pytest.fixture
def smtp():
    with RecordingSMTPServer() as server:
        yield server


class Worker:
    """`celery -A roundtable worker` in its own process group, logging to a file."""

    def __init__(self, *, env: dict, log_path: Path, concurrency: int, as_in_production: bool = False):
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        # Production workers run gossip, mingle and heartbeats, which also talk to Redis; the other
        # tests leave them out to start faster.
        self.as_in_production = as_in_production
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "roundtable",
            "worker",
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            *([] if self.as_in_production else ["--without-gossip", "--without-mingle", "--without-heartbeat"]),
            f"--hostname=outbox-itest-{uuid.uuid4().hex[:8]}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one signal reaches the pool children too
            )
        deadline = time.monotonic() + WORKER_START_SECONDS
        while " ready." not in self.log():
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited with {self.process.returncode} while starting:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"The worker was not ready after {WORKER_START_SECONDS} s:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def sent_counts(self) -> list[int]:
        """The return value of every send_message job that finished: how many deliveries it sent."""
        return [int(n) for n in re.findall(r"outbox\.jobs\.send_message\[[^\]]+\] succeeded in \S+: (\d+)", self.log())]

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no shutdown, no acknowledgement, no cleanup."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (finish the current job), or SIGKILL if that takes too long."""
        if not self.running():
            return
        self.process.send_signal(signal.SIGTERM)  # the main process stops its pool children itself
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def start_worker(broker, smtp, worker_database_url, transactional_db, tmp_path):
    """Start a worker that sends to `smtp`, with small OUTBOX_* settings; all are stopped at the end."""
    workers: list[Worker] = []

    def start(*, concurrency: int = 2, as_in_production: bool = False, **outbox_settings) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "roundtable.settings",
            "DEBUG": "true",
            "DATABASE_URL": worker_database_url,
            "REDIS_URL": REDIS_URL,
            "VAR_DIR": str(tmp_path / "var"),
            "SITE_URL": settings.SITE_URL,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": smtp.host,
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "false",
            "EMAIL_USE_SSL": "false",
            "EMAIL_TIMEOUT": "10",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env.update({key: str(value) for key, value in outbox_settings.items()})
        worker = Worker(
            env=env,
            log_path=tmp_path / f"worker-{len(workers) + 1}.log",
            concurrency=concurrency,
            as_in_production=as_in_production,
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


# --- Helpers --------------------------------------------------------------------------------------


def make_readers(count: int) -> list[Address]:
    password = make_password(None)  # unusable, and no hashing per user
    users = User.objects.bulk_create(
        User(
            email=f"reader{n:03}@example.org",
            display_name=f"Reader {n}",
            language="es" if n % 5 == 0 else "en",
            time_zone="Europe/Madrid" if n % 3 == 0 else "UTC",
            password=password,
        )
        for n in range(count)
    )
    return [Address.for_user(user) for user in users]


def send_password_reset(readers: list[Address]):
    """The action's transaction records the message; its send job is enqueued when it commits."""
    with transaction.atomic():
        return mail_send(
            template="password_reset",
            recipients=readers,
            context={"user": readers[0].user, "reset_url": "http://testserver/reset/x/"},
        )


def status_counts(message) -> Counter:
    return Counter(Delivery.objects.filter(message=message).values_list("status", flat=True))


def wait_until(condition, *, what: str, describe, tick=None, interval: float = 0.2) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up after {DEADLINE_SECONDS} s waiting until {what}.\n{describe()}", pytrace=False)
        if tick is not None:
            tick()
        time.sleep(interval)


def wait_until_delivered(message, smtp, workers, *, sweep: bool = False) -> None:
    """Until every delivery is recorded as sent and the server accepted as many messages.

    Once every row is `sent` no worker can claim one again, so nothing more can go out after this.
    `sweep` stands in for beat: the periodic job is enqueued on every poll.
    """
    total = Delivery.objects.filter(message=message).count()

    def done() -> bool:
        return (
            status_counts(message) == Counter({Delivery.Status.SENT: total}) and len(smtp.handler.snapshot()) >= total
        )

    def describe() -> str:
        logs = "\n".join(f"--- worker {n} log ---\n{w.log_tail()}" for n, w in enumerate(workers, 1))
        return (
            f"deliveries by status: {dict(status_counts(message))}; accepted by SMTP: "
            f"{len(smtp.handler.snapshot())} of {total}; refused: {smtp.handler.refused}\n{logs}"
        )

    wait_until(
        done,
        what="every delivery is sent",
        describe=describe,
        tick=jobs.sweep_deliveries.delay if sweep else None,
        interval=0.3 if sweep else 0.1,
    )


def assert_each_received_once(message, smtp) -> None:
    """What the server accepted is one copy of each delivery of `message` (or of a list of messages)."""
    messages = message if isinstance(message, list) else [message]
    deliveries = list(Delivery.objects.filter(message__in=messages))
    expected_ids = {d.header_message_id for d in deliveries}
    expected_to = {d.to_email.lower() for d in deliveries}
    by_id = smtp.handler.by_message_id()
    by_to = smtp.handler.by_recipient()
    assert set(by_id) == expected_ids
    assert set(by_to) == expected_to
    assert {k: v for k, v in by_id.items() if v != 1} == {}, "a Message-ID arrived more than once"
    assert {k: v for k, v in by_to.items() if v != 1} == {}, "a recipient got more than one copy"
    # Each accepted message went to its own reader, with the Message-ID recorded for that reader.
    received = {(m.message_id, m.recipients) for m in smtp.handler.snapshot()}
    assert received == {(d.header_message_id, (d.to_email.lower(),)) for d in deliveries}


# --- Scenarios ------------------------------------------------------------------------------------


def test_two_hundred_recipients_get_one_copy_each_over_few_connections(smtp, start_worker):
    worker = start_worker(OUTBOX_BATCH_SIZE=50)
    readers = make_readers(200)

    message = send_password_reset(readers)

    wait_until_delivered(message, smtp, [worker])
    assert_each_received_once(message, smtp)
    # One SMTP session per batch of 50, not one per recipient.
    assert smtp.handler.sessions <= math.ceil(200 / 50), f"{smtp.handler.sessions} SMTP sessions for 200 messages"
    assert sum(worker.sent_counts()) == 200


def test_a_large_fan_out_is_shared_by_the_workers_processes_each_copy_once(smtp, start_worker):
    smtp.handler.data_delay = 0.02  # 60 messages take over a second for one process alone
    worker = start_worker(concurrency=3, OUTBOX_BATCH_SIZE=5)
    readers = make_readers(60)

    message = send_password_reset(readers)

    wait_until_delivered(message, smtp, [worker])
    assert_each_received_once(message, smtp)
    wait_until(lambda: sum(worker.sent_counts()) == 60, what="every job has finished", describe=worker.log_tail)
    # The first job's full batch enqueued a helper, and so on: several jobs sent copies, side by side.
    assert len([count for count in worker.sent_counts() if count]) >= 2, f"one job sent it all: {worker.sent_counts()}"


def test_temporary_refusals_are_retried_until_everything_arrives_once(smtp, start_worker):
    # The server answers the first 30 DATA commands with 451: every one of the 20 deliveries is refused
    # at least once, some twice, and must come back through rows due later, re-queued by the sweeper.
    smtp.handler.refuse_next = 30
    worker = start_worker(
        OUTBOX_BATCH_SIZE=50,
        OUTBOX_RETRY_BASE_SECONDS=0.2,
        OUTBOX_RETRY_MAX_SECONDS=1,
        OUTBOX_MAX_ATTEMPTS=10,
    )
    readers = make_readers(20)

    message = send_password_reset(readers)

    wait_until_delivered(message, smtp, [worker], sweep=True)
    assert smtp.handler.refused == 30
    assert_each_received_once(message, smtp)
    deliveries = Delivery.objects.filter(message=message)
    assert all(d.attempts >= 2 for d in deliveries), "every delivery was refused once before it went through"
    assert all(d.last_error == "" and d.sent_at for d in deliveries)


def test_the_same_job_enqueued_twice_sends_each_delivery_once(smtp, start_worker):
    readers = make_readers(60)
    # Recorded before any worker runs: the commit enqueues one job, and two more copies follow. The
    # worker then starts with all three in the queue and two processes take two of them at once.
    message = send_password_reset(readers)
    jobs.send_message.delay(message.pk)
    jobs.send_message.delay(message.pk)
    worker = start_worker(concurrency=2, OUTBOX_BATCH_SIZE=5)

    wait_until_delivered(message, smtp, [worker])
    wait_until(
        # The three, and the helpers their full batches enqueued (`_enqueue_helper`).
        lambda: len(worker.sent_counts()) >= 3 and sum(worker.sent_counts()) == 60,
        what="all three send jobs have finished",
        describe=worker.log_tail,
    )
    assert_each_received_once(message, smtp)
    # The jobs shared the work through their claims: what they report having sent adds up to 60.
    assert sum(worker.sent_counts()) == 60


def test_a_worker_killed_mid_batch_is_recovered_by_the_sweeper(smtp, start_worker):
    # Batches of 10: the 15th message is held at DATA, unanswered, while the worker waits for the
    # server's reply; then the worker is killed. Deliveries 1-14 were accepted and recorded, the rest of
    # that batch is claimed by a dead worker, the last batch was never claimed.
    smtp.handler.hold_data_number = 15
    outbox_settings = {"OUTBOX_BATCH_SIZE": 10, "OUTBOX_STALE_SECONDS": 2, "OUTBOX_RETRY_BASE_SECONDS": 0.2}
    first = start_worker(concurrency=1, **outbox_settings)
    readers = make_readers(30)

    message = send_password_reset(readers)

    wait_until(
        smtp.handler.holding.is_set,
        what="the server holds the 15th DATA",
        describe=first.log_tail,
        interval=0.05,
    )
    first.kill()
    assert first.process.returncode == -signal.SIGKILL
    smtp.handler.release.set()  # the held message ends with a 451: it was never accepted
    assert len(smtp.handler.snapshot()) == 14
    assert status_counts(message) == Counter(
        {Delivery.Status.SENT: 14, Delivery.Status.SENDING: 6, Delivery.Status.PENDING: 10}
    )
    held = Delivery.objects.filter(message=message, status=Delivery.Status.SENDING).order_by("pk").first()

    # A new worker and the periodic sweep: stale claims are released and the rest sent.
    second = start_worker(concurrency=1, **outbox_settings)
    wait_until_delivered(message, smtp, [first, second], sweep=True)

    assert_each_received_once(message, smtp)
    assert len(smtp.handler.snapshot()) == 30
    held.refresh_from_db()
    assert held.attempts == 2
    assert smtp.handler.by_message_id()[held.header_message_id] == 1
    assert "Released 6 deliveries claimed by a worker that did not finish." in second.log()


# --- Faults of issue 7: the database, the time limits, the broker ----------------------------------------


def _through(proxy: TCPProxy, database_url: str) -> str:
    """The same database URL, reached through `proxy`."""
    parts = urlsplit(database_url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def database_proxy(worker_database_url):
    """A TCP proxy in front of the PostgreSQL test database, for the worker only (this process goes direct)."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        unavailable("Cutting database connections needs PostgreSQL (set DATABASE_URL=postgres://…)")
    s = connection.settings_dict
    with TCPProxy((s["HOST"] or "localhost", int(s["PORT"] or 5432))) as proxy:
        yield proxy


def test_a_database_cut_right_after_the_servers_answer_sends_nothing_twice(
    smtp, start_worker, database_proxy, worker_database_url
):
    # When the server accepts the 5th message, every database connection of the worker drops and the
    # database refuses new ones for 2.5 s: the record of that message fails until then. The sweeper runs
    # all along with claims going stale after 10 s, so a record that gave up would be sent again.
    cut = threading.Event()

    def cut_the_database(number: int) -> None:
        if number == 5 and not cut.is_set():
            cut.set()
            database_proxy.cut(down_for=2.5)

    smtp.handler.on_accept = cut_the_database
    worker = start_worker(
        concurrency=1,
        DATABASE_URL=_through(database_proxy, worker_database_url),
        OUTBOX_BATCH_SIZE=10,
        OUTBOX_STALE_SECONDS=10,
        OUTBOX_SWEEP_SECONDS=1,
    )
    readers = make_readers(20)

    message = send_password_reset(readers)

    # Once every delivery is recorded as sent, nothing can be sent again.
    wait_until_delivered(message, smtp, [worker], sweep=True)
    assert cut.is_set(), "the database was never cut"
    assert database_proxy.refused >= 1, "the database never refused a connection"
    assert_each_received_once(message, smtp)
    assert "Could not record the outcome of delivery" in worker.log()
    assert "Released" not in worker.log()


def test_the_soft_time_limit_inside_data_leaves_no_accepted_message_to_send_again(smtp, start_worker, monkeypatch):
    # A slow fan-out meets the soft time limit (2 s) while the server takes 3 s to answer the third DATA,
    # then accepts it. The job must record that answer before it stops, and a fresh job sends the rest.
    smtp.handler.hold_data_number, smtp.handler.hold_seconds = 3, 3.0
    # Celery writes the time limits into each message it enqueues: this process's count, as the worker's.
    monkeypatch.setattr(jobs.send_message, "soft_time_limit", 2)
    monkeypatch.setattr(jobs.send_message, "time_limit", 30)
    monkeypatch.setattr(jobs.send_message, "_exec_options", None)  # Celery's cache of the two above
    worker = start_worker(
        concurrency=1,
        CELERY_TASK_SOFT_TIME_LIMIT=2,
        CELERY_TASK_TIME_LIMIT=30,
        OUTBOX_JOB_BUDGET_SECONDS=60,  # the budget would come too late: the soft limit arrives first
        OUTBOX_BATCH_SIZE=10,
        OUTBOX_STALE_SECONDS=8,
        OUTBOX_SWEEP_SECONDS=1,
    )
    readers = make_readers(10)

    message = send_password_reset(readers)

    wait_until_delivered(message, smtp, [worker], sweep=True)
    assert_each_received_once(message, smtp)
    assert "reached the soft time limit; a fresh job sends the rest" in worker.log(), worker.log_tail(80)
    assert {d.attempts for d in Delivery.objects.filter(message=message)} == {1}


def test_a_fan_out_longer_than_the_job_budget_is_sent_by_several_jobs_each_copy_once(smtp, start_worker):
    smtp.handler.data_delay = 0.1  # 30 messages take about 3 s, the budget of a job is 1 s
    worker = start_worker(concurrency=2, OUTBOX_JOB_BUDGET_SECONDS=1, OUTBOX_BATCH_SIZE=5)
    readers = make_readers(30)

    message = send_password_reset(readers)

    wait_until_delivered(message, smtp, [worker])
    assert_each_received_once(message, smtp)
    wait_until(lambda: sum(worker.sent_counts()) == 30, what="every job has finished", describe=worker.log_tail)
    assert len(worker.sent_counts()) >= 3, f"one job sent it all: {worker.sent_counts()}"
    assert "used its time budget; a fresh job sends the rest" in worker.log()


@pytest.fixture
def own_redis(broker, tmp_path):
    """A redis-server of this test's own, which it may kill; this process enqueues to it."""
    if not RedisServer.available():
        unavailable("redis-server is not installed: the broker-failure tests start their own")
    server = RedisServer(log_path=tmp_path / "redis.log").start()
    celery_app.conf.broker_url = server.url
    _reset_publisher_pools()
    yield server
    server.kill()
    kombu.pools.reset()
    _reset_publisher_pools()


def test_redis_lost_mid_send_and_at_enqueue_everything_arrives_once(smtp, start_worker, own_redis):
    # A message of 30 is being sent (0.1 s a message) when Redis is killed. While it is down, an action
    # commits another message: it must succeed, its job cannot be enqueued. Redis comes back empty. The
    # worker may survive or die (kombu's Redis transport can crash it); a supervisor (systemd's
    # Restart=always in production, a loop here) restarts it. Then the sweeper finds both messages.
    smtp.handler.data_delay = 0.1
    worker_settings = {
        "REDIS_URL": own_redis.url,
        "OUTBOX_BATCH_SIZE": 5,
        "OUTBOX_STALE_SECONDS": 10,
        "OUTBOX_SWEEP_SECONDS": 1,
    }
    workers = [start_worker(concurrency=1, as_in_production=True, **worker_settings)]
    first = send_password_reset(make_readers(30))
    wait_until(lambda: len(smtp.handler.snapshot()) >= 8, what="the send is under way", describe=workers[0].log_tail)

    own_redis.kill()
    with transaction.atomic():
        second = mail_send(
            template="password_reset",
            recipients=[Address(email=f"late{n}@example.org") for n in range(5)],
            context={"user": None, "reset_url": "http://testserver/reset/x/"},
        )
    assert status_counts(second) == Counter({Delivery.Status.PENDING: 5})
    time.sleep(2)
    own_redis.start()

    def supervise() -> None:
        if not workers[-1].running():
            workers.append(start_worker(concurrency=1, as_in_production=True, **worker_settings))
        with contextlib.suppress(kombu.exceptions.OperationalError):
            jobs.sweep_deliveries.delay()

    for message in (first, second):
        wait_until(
            lambda message=message: (
                status_counts(message) == Counter({Delivery.Status.SENT: message.deliveries.count()})
            ),
            what=f"every delivery of message {message.pk} is sent",
            describe=lambda: "\n".join(w.log_tail(60) for w in workers),
            tick=supervise,
            interval=0.5,
        )
    assert_each_received_once([first, second], smtp)
