"""The nudge job end to end: a real Celery worker process on Redis, the database, a real SMTP server.

The fixtures are the outbox's (outbox/tests/test_integration.py): a worker started with
`celery -A roundtable worker` against this run's test database, a Redis database flushed before and after
(REDIS_URL_FOR_TESTS, e.g. redis://127.0.0.1:6379/7), and an aiosmtpd server in this process. The worker
runs on the real clock, so the people live in time zones where it is morning now (NUDGE_MORNING_HOUR's
window), found when the test starts; one more lives where it is evening, and is not nudged.
"""

import email
import email.policy
import re
import zoneinfo
from datetime import UTC, datetime
from email.utils import parseaddr

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import User
from alliances.tests.factories import AllianceFactory, MemberFactory
from outbox.models import Delivery, Message
from outbox.tests.smtp_server import RecordingHandler
from outbox.tests.test_integration import (  # noqa: F401 - pytest fixtures, used by name
    assert_each_received_once,
    broker,
    redis_client,
    smtp,
    start_worker,
    wait_until,
    wait_until_delivered,
    worker_database_url,
)
from tasks import jobs
from tasks.models import NudgeDigest
from tasks.tests.factories import TodoFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def zones_at_local_hours(hours: set[int], *, count: int) -> list[str]:
    """Real time zones where the local hour is now one of `hours`, with different UTC offsets where possible."""
    now = datetime.now(UTC)
    found: dict[object, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        local = now.astimezone(zoneinfo.ZoneInfo(name))
        if local.hour in hours:
            found.setdefault(local.utcoffset(), name)
    assert found, f"no time zone at local hours {hours} now"
    zones = list(found.values())
    return (zones * count)[:count]


class RawHandler(RecordingHandler):
    """Also keeps the parsed headers of every message the server accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.parsed: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            # The default policy unfolds headers: a long List-Unsubscribe is folded before its "<" on the wire.
            self.parsed.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return answer


def test_the_hourly_job_run_by_a_worker_delivers_each_persons_digest_once_through_smtp(smtp, start_worker):  # noqa: F811
    smtp.handler = raw = RawHandler()
    smtp.controller.handler = raw
    # Local 08:00 to 10:59 where they live: inside the default window (08:00 to 11:59) for the whole test.
    morning = zones_at_local_hours({8, 9, 10}, count=3)
    evening = zones_at_local_hours({19, 20, 21}, count=1)[0]
    alliance = AllianceFactory(name="Barrio Readers")
    password = make_password(None)
    owners = []
    for n, zone in enumerate([*morning, *morning, evening]):
        user = User.objects.create(
            email=f"owner{n}@example.org",
            display_name=f"Owner {n}",
            time_zone=zone,
            language="es" if n % 2 else "en",
            password=password,
        )
        member = MemberFactory(alliance=alliance, user=user)
        today = datetime.now(zoneinfo.ZoneInfo(zone)).date()
        TodoFactory.create_batch(2, alliance=alliance, owner=member, due_on=today)
        owners.append(member)
    in_the_morning = owners[:-1]
    worker = start_worker(concurrency=2)

    # Beat runs the job; a second run (a beat restarted, or two beats by mistake) finds the same people.
    jobs.send_todo_digests.delay()
    jobs.send_todo_digests.delay()

    def chunk_results() -> list[int]:
        pattern = r"tasks\.jobs\.send_todo_digest_chunk\[[^\]]+\] succeeded in \S+: (\d+)"
        return [int(n) for n in re.findall(pattern, worker.log())]

    # Each run found the same people and enqueued one chunk job: one of them claimed every digest.
    wait_until(lambda: len(chunk_results()) == 2, what="both chunk jobs have finished", describe=worker.log_tail)
    messages = list(Message.objects.filter(key__startswith="tasks.digest:"))
    assert len(messages) == len(in_the_morning)
    for message in messages:
        wait_until_delivered(message, smtp, [worker])

    assert sum(chunk_results()) == len(in_the_morning), chunk_results()
    assert_each_received_once(messages, smtp)
    received = sorted(r for m in smtp.handler.snapshot() for r in m.recipients)
    assert received == sorted(m.user.email for m in in_the_morning)
    assert NudgeDigest.objects.count() == len(in_the_morning)
    assert not Delivery.objects.filter(recipient=owners[-1].user).exists()
    for parsed in raw.parsed:
        reader = User.objects.get(email=parseaddr(parsed["To"])[1])
        # Folded after the colon on the wire (RFC 5322 allows it; the URL itself is never split).
        assert re.fullmatch(r"<http://testserver/unsubscribe/[^/\s]+/>", str(parsed["List-Unsubscribe"]).strip())
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert NudgeDigest.objects.filter(user=reader).count() == 1
