"""The scheduled jobs at scale (issue 12): a day of the daily to-dos digest, the agenda reminders and the
notes reminders over the benchmark's data set, each in a process of its own that does what a worker does.

Why a process of its own rather than a Celery worker: the digest goes out in each person's morning, so a
day's work only shows by putting the clock at each hour of a day (time-machine), which a worker reading the
broker cannot be made to do. The process is what a worker's child is: Django set up with the production
settings of `bench_environment`, on PostgreSQL and Redis; it runs each beat job at its time of the day
(the digest at :05 every hour, the notes reminders at :20, the agenda reminders at 07:00) and then every job
that beat job fans out, one after the other, calling each task as the worker calls it. Only the fan-out's
`.delay()` is caught (to run its jobs here); the emails the jobs record enqueue their send jobs on the real
broker, as in production, and those are purged afterwards (no worker of this part sends them).

Measured: wall time of the day and of its worst hour, the process's peak resident memory (VmHWM: Django,
the jobs and what they held at most), the queries of each job (counted by an execute wrapper, which costs
nothing, so the times are those of the jobs alone) and the emails recorded. Then, outside the measurement,
every email is checked against what the rules say should have gone: one digest per person and day for
everyone due one, with exactly their to-dos due a nudge (read back from the one-click links in the email),
none for anyone else; one reminder per due meeting and stage, to the right person; a job run twice sends
nothing more.

The jobs run on a copy of the benchmark's database (CREATE DATABASE … TEMPLATE), dropped after, so the other
parts find the data set as it was seeded.

Run by bench/run.py (`scenario`); `python bench/scheduled_jobs.py <job> <day start>` is the worker process.
"""

# It runs this file as the worker process, with arguments of its own making:
# ruff: noqa: S603

import json
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import DATABASE_URL, ROOT, SMOKE, Section, database_name, fail, maintenance_url, stop

# Issue 12's targets for each job's day.
TARGET_SECONDS, TARGET_MB = 30, 300
JOBS = ("digest", "agenda", "notes", "followup")
RESULT = "JOBS_RESULT "
# seed_bench makes the work of the day after it was run: a data set kept for days has less of it.
STALE = " (a data set kept with BENCH_REUSE long after its seed? run without it)"
# A real Celery worker at rest, started for its memory only: it reads a queue nothing is sent to.
IDLE_QUEUE = "bench-jobs-idle"


# --- The worker process ----------------------------------------------------------------------------------


def memory_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class QueryCounter:
    """Counts the queries run through the connection (a wrapper, so nothing is formatted or kept)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run_job(task, *args) -> tuple[object, int, float]:
    """Call a task as the worker does; return its result, its queries and its seconds."""
    from django.db import connection

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = task(*args)
    return result, counter.count, time.perf_counter() - started


def run_beat(beat_task, fanned_task, at: datetime) -> dict:
    """One beat job at `at`, then each job it fanned out; what each took."""
    from unittest import mock

    import time_machine

    fanned: list[tuple] = []
    with time_machine.travel(at, tick=True), mock.patch.object(fanned_task, "delay", lambda *a: fanned.append(a)):
        started = time.perf_counter()
        _, fanout_queries, _ = run_job(beat_task)
        jobs = []
        for args in fanned:
            result, queries, seconds = run_job(fanned_task, *args)
            size = len(args[0]) if isinstance(args[0], list) else 1
            jobs.append({"size": size, "sent": int(result), "queries": queries, "seconds": seconds})
        seconds = time.perf_counter() - started
    return {"at": at.isoformat(), "seconds": seconds, "fanout_queries": fanout_queries, "jobs": jobs}


def hours_of(start: datetime, minute: int) -> list[datetime]:
    return [start + timedelta(hours=hour, minutes=minute) for hour in range(24)]


def high_marks() -> dict[str, int]:
    """The last ids before the run: what the jobs record is what comes after."""
    from django.db.models import Max

    from outbox.models import Message
    from tasks.models import NudgeDigest

    return {
        "message": Message.objects.aggregate(top=Max("pk"))["top"] or 0,
        "digest": NudgeDigest.objects.aggregate(top=Max("pk"))["top"] or 0,
    }


def messages_after(marks: dict[str, int], template: str) -> dict[str, list]:
    """The emails of `template` recorded since `marks`: key -> its deliveries."""
    from outbox.models import Delivery

    found = defaultdict(list)
    for delivery in Delivery.objects.filter(message__pk__gt=marks["message"], message__template=template).order_by(
        "pk"
    ):
        found[delivery.message.key].append(delivery)
    return found


def digest_day(start: datetime) -> tuple[list[dict], list[str], int]:
    """The hourly digest job at each hour of the day; then the busiest hour's jobs again (a redelivered
    chunk), which must record nothing. Returns the runs, the problems and the emails recorded."""
    from tasks.jobs import send_todo_digest_chunk, send_todo_digests

    marks = high_marks()
    runs = [run_beat(send_todo_digests, send_todo_digest_chunk, at) for at in hours_of(start, 5)]
    peak = memory_mb("VmHWM")
    busiest = max(runs, key=lambda run: sum(job["sent"] for job in run["jobs"]))
    again = run_beat(send_todo_digests, send_todo_digest_chunk, datetime.fromisoformat(busiest["at"]))
    problems = check_digests(start, marks, runs)
    if sent := sum(job["sent"] for job in again["jobs"]):
        problems.append(f"digest: the {busiest['at']} run, run again, recorded {sent} more digests")
    return runs, problems, peak


def expected_digests(start: datetime) -> dict[tuple[int, str], dict[str, str]]:
    """Who should get a digest on which of their days, with which to-dos, by the rules in the README
    ("Follow-up nudges"), worked out here from the rows, independently of tasks/nudges.py."""
    import zoneinfo

    from django.conf import settings

    from accounts.models import User
    from tasks.models import Todo

    first, hours = settings.NUDGE_MORNING_HOUR, settings.NUDGE_MORNING_HOURS
    mornings = set()
    for user_id, zone in User.objects.filter(is_active=True, nudges_enabled=True).values_list("pk", "time_zone"):
        try:
            place = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            place = zoneinfo.ZoneInfo("UTC")
        for at in hours_of(start, 5):
            local = at.astimezone(place)
            if first <= local.hour < first + hours:
                mornings.add((user_id, local.date()))
    todos = defaultdict(list)
    for row in Todo.objects.filter(
        status=Todo.Status.OPEN, owner__is_active=True, owner__user__is_active=True
    ).values_list(
        "pk", "owner__user_id", "due_on", "alliance__nudge_days_before", "alliance__nudge_overdue_every_days"
    ):
        todos[row[1]].append(row)
    expected = {}
    for user_id, day in mornings:
        due = {}
        for pk, _owner, due_on, before, every in todos[user_id]:
            left = (due_on - day).days
            if left == 0:
                due[str(pk)] = "today"
            elif left > 0 and left == before:
                due[str(pk)] = "soon"
            elif left < 0 and -left % every == 0:
                due[str(pk)] = "overdue"
        if due:
            expected[(user_id, day.isoformat())] = due
    return expected


def check_digests(start: datetime, marks: dict[str, int], runs: list[dict]) -> list[str]:
    from django.core import signing

    from tasks import links
    from tasks.models import NudgeDigest

    expected = expected_digests(start)
    recorded = {
        (row.user_id, row.on_date.isoformat()): row.todos
        for row in NudgeDigest.objects.filter(pk__gt=marks["digest"], kind=NudgeDigest.Kind.TODOS)
    }
    problems = []
    missing, extra = expected.keys() - recorded.keys(), recorded.keys() - expected.keys()
    if missing:
        problems.append(f"digest: {len(missing)} people due a digest got none, e.g. (user, day) {sorted(missing)[:3]}")
    if extra:
        problems.append(f"digest: {len(extra)} digests went to people not due one, e.g. {sorted(extra)[:3]}")
    wrong = [key for key in expected.keys() & recorded.keys() if expected[key] != recorded[key]]
    if wrong:
        problems.append(f"digest: {len(wrong)} digests named other to-dos than the rules give, e.g. {wrong[:3]}")
    emails = messages_after(marks, "todo_digest")
    keys = {f"tasks.digest:{user_id}:{day}": (user_id, day) for user_id, day in recorded}
    if emails.keys() != keys.keys():
        problems.append(
            f"digest: {len(recorded)} digests claimed but {len(emails)} emails recorded "
            f"({len(keys.keys() - emails.keys())} claims without an email, {len(emails.keys() - keys.keys())} "
            "emails without a claim)"
        )
    misaddressed, mislisted = 0, 0
    for key, deliveries in emails.items():
        if key not in keys:
            continue
        user_id, _day = keys[key]
        if [d.recipient_id for d in deliveries] != [user_id]:
            misaddressed += 1
            continue
        # The to-dos the email really lists: the one-click links in its text, each naming a to-do and owner.
        named = set()
        for line in deliveries[0].body_text.split():
            if "/todos/done/" in line:
                payload = signing.loads(line.rstrip("/").rsplit("/", 1)[1], salt=links.SALT)
                named.add((str(payload["t"]), payload["u"]))
        if named != {(pk, user_id) for pk in recorded[keys[key]]}:
            mislisted += 1
    if misaddressed:
        problems.append(f"digest: {misaddressed} emails were not addressed to exactly their person")
    if mislisted:
        problems.append(f"digest: {mislisted} emails list other to-dos (by their links) than their digest names")
    if not expected:
        problems.append(f"digest: the data set gives nobody a digest over the day; nothing was measured{STALE}")
    sent = sum(job["sent"] for run in runs for job in run["jobs"])
    if sent != len(recorded):
        problems.append(f"digest: the jobs said they recorded {sent} digests; {len(recorded)} are in the database")
    return problems


def agenda_day(start: datetime) -> tuple[list[dict], list[str], float]:
    """The daily agenda reminders at their time of the day (07:00 UTC), twice: the second sends nothing."""
    from meetings.jobs import remind_agenda, remind_unsent_agendas
    from meetings.models import Meeting

    at = next(t for t in hours_of(start, 0) if t.hour == 7)
    expected = {}
    for meeting in Meeting.objects.select_related("alliance", "facilitator").filter(
        status=Meeting.Status.SCHEDULED,
        starts_at__gt=at,
        agenda_sent_at__isnull=True,
        agenda_reminder_sent_at__isnull=True,
        facilitator__isnull=False,
        facilitator__is_active=True,
    ):
        if meeting.starts_at < at + timedelta(days=meeting.alliance.agenda_reminder_days):
            expected[f"meetings.agenda_reminder:{meeting.pk}"] = [meeting.facilitator.user_id]
    marks = high_marks()
    runs = [run_beat(remind_unsent_agendas, remind_agenda, at)]
    peak = memory_mb("VmHWM")
    again = run_beat(remind_unsent_agendas, remind_agenda, at)
    return runs, check_reminders("agenda", "agenda_reminder", expected, marks, runs, again), peak


def notes_day(start: datetime) -> tuple[list[dict], list[str], float]:
    """The hourly notes reminders at :20 each hour of the day, each run twice (the second sends nothing)."""
    from alliances.models import Member
    from meetings.jobs import remind_notes, remind_unsent_notes
    from meetings.models import Meeting

    delays, window = [timedelta(days=1), timedelta(days=3), timedelta(days=7)], timedelta(days=30)
    waiting = list(
        Meeting.objects.select_related("facilitator", "note_taker").filter(
            status=Meeting.Status.ENDED, notes_sent_at__isnull=True
        )
    )
    stewards = defaultdict(list)
    for alliance_id, user_id in Member.objects.filter(is_active=True, is_steward=True).values_list(
        "alliance_id", "user_id"
    ):
        stewards[alliance_id].append(user_id)
    expected = {}
    for meeting in waiting:
        stage = meeting.notes_reminder_count
        for at in hours_of(start, 20):
            if stage < len(delays) and meeting.ended_at > at - window and meeting.ended_at <= at - delays[stage]:
                told = meeting.note_taker if stage < len(delays) - 1 else meeting.facilitator
                users = [told.user_id] if told is not None and told.is_active else stewards[meeting.alliance_id]
                expected[f"meetings.notes_reminder:{meeting.pk}:{stage + 1}"] = sorted(users)
                stage += 1
    marks = high_marks()
    runs, again_sent = [], 0
    peak = 0.0
    for at in hours_of(start, 20):
        runs.append(run_beat(remind_unsent_notes, remind_notes, at))
        peak = memory_mb("VmHWM")
        again_sent += sum(job["sent"] for job in run_beat(remind_unsent_notes, remind_notes, at)["jobs"])
    again = {"jobs": [{"sent": again_sent}]}
    return runs, check_reminders("notes", "notes_reminder", expected, marks, runs, again), peak


def followup_day(start: datetime) -> tuple[list[dict], list[str], float]:
    """The weekly follow-up digest at its time of the day (07:30 UTC; beat runs it on Mondays), twice."""
    from accounts.models import User
    from tasks.jobs import send_followup_digest_chunk, send_followup_digests
    from tasks.models import NudgeDigest, Todo

    at = next(t for t in hours_of(start, 30) if t.hour == 7)
    # Note takers of ended meetings with an open to-do whose owner is still a member; the digest names every
    # to-do of those meetings with its status.
    followed = set(
        Todo.objects.filter(
            status=Todo.Status.OPEN, owner__is_active=True, meeting__status="ended", meeting__note_taker__is_active=True
        ).values_list("meeting_id", flat=True)
    )
    wanting = set(User.objects.filter(is_active=True, nudges_enabled=True).values_list("pk", flat=True))
    expected: dict[int, dict[str, str]] = defaultdict(dict)
    for pk, status, note_taker in Todo.objects.filter(meeting__in=followed).values_list(
        "pk", "status", "meeting__note_taker__user_id"
    ):
        if note_taker in wanting:
            expected[note_taker][str(pk)] = status
    marks = high_marks()
    runs = [run_beat(send_followup_digests, send_followup_digest_chunk, at)]
    peak = memory_mb("VmHWM")
    again = run_beat(send_followup_digests, send_followup_digest_chunk, at)
    recorded = {
        row.user_id: row.todos
        for row in NudgeDigest.objects.filter(pk__gt=marks["digest"], kind=NudgeDigest.Kind.FOLLOWUP)
    }
    problems = []
    if missing := expected.keys() - recorded.keys():
        problems.append(f"followup: {len(missing)} note takers due a follow-up got none, e.g. {sorted(missing)[:3]}")
    if extra := recorded.keys() - expected.keys():
        problems.append(f"followup: {len(extra)} follow-ups went to people not due one, e.g. {sorted(extra)[:3]}")
    if wrong := [user for user in expected.keys() & recorded.keys() if expected[user] != recorded[user]]:
        problems.append(f"followup: {len(wrong)} follow-ups named other to-dos than their meetings', e.g. {wrong[:3]}")
    emails = messages_after(marks, "followup_digest")
    if sorted(d.recipient_id for deliveries in emails.values() for d in deliveries) != sorted(recorded):
        problems.append(f"followup: {len(recorded)} follow-ups claimed, {len(emails)} emails to other people or none")
    if sent := sum(job["sent"] for job in again["jobs"]):
        problems.append(f"followup: the job run a second time sent {sent} more")
    if not expected:
        problems.append(f"followup: the data set gives no note taker a follow-up; nothing was measured{STALE}")
    return runs, problems, peak


def check_reminders(
    job: str, template: str, expected: dict[str, list[int]], marks: dict, runs: list[dict], again: dict
) -> list[str]:
    problems = []
    emails = messages_after(marks, template)
    missing, extra = expected.keys() - emails.keys(), emails.keys() - expected.keys()
    if missing:
        problems.append(f"{job}: {len(missing)} reminders due were not recorded, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{job}: {len(extra)} reminders were recorded that were not due, e.g. {sorted(extra)[:3]}")
    misaddressed = [
        key for key in expected.keys() & emails.keys() if sorted(d.recipient_id for d in emails[key]) != expected[key]
    ]
    if misaddressed:
        problems.append(f"{job}: {len(misaddressed)} reminders went to the wrong people, e.g. {misaddressed[:3]}")
    if sent := sum(j["sent"] for j in again["jobs"]):
        problems.append(f"{job}: the job run a second time at the same hour sent {sent} reminders more")
    if sum(j["sent"] for run in runs for j in run["jobs"]) != len(emails):
        problems.append(f"{job}: the jobs' count of reminders sent differs from the {len(emails)} recorded")
    if not expected:
        problems.append(f"{job}: the data set gives no reminder to send over the day; nothing was measured{STALE}")
    return problems


def worker(job: str, start: str) -> None:
    """The worker process: set up Django, run one job's day, print what it measured as one JSON line."""
    import django

    django.setup()
    import meetings.jobs  # noqa: F401
    import roundtable.celery  # noqa: F401 - a worker loads the app and every jobs module
    import tasks.jobs  # noqa: F401

    baseline = memory_mb("VmRSS")
    day = {"digest": digest_day, "agenda": agenda_day, "notes": notes_day, "followup": followup_day}[job]
    runs, problems, peak = day(datetime.fromisoformat(start))
    print(
        RESULT + json.dumps({"job": job, "runs": runs, "problems": problems, "peak_mb": peak, "baseline_mb": baseline})
    )


# --- The scenario ----------------------------------------------------------------------------------------


def copy_url() -> str:
    name = f"{database_name()}_scheduled_jobs_copy"  # dropped and made again: a name nobody else uses
    return urllib.parse.urlsplit(DATABASE_URL)._replace(path=f"/{name}").geturl()


def drop_copy() -> None:
    import psycopg
    from psycopg import sql

    name = urllib.parse.urlsplit(copy_url()).path.lstrip("/")
    with psycopg.connect(maintenance_url(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def make_copy() -> None:
    """The benchmark's database, copied (PostgreSQL copies its files: seconds, whatever the jobs then do)."""
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()  # a template must have no other session, this process's included
    drop_copy()
    name = urllib.parse.urlsplit(copy_url()).path.lstrip("/")
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(database_name()))
    with psycopg.connect(maintenance_url(), autocommit=True) as connection:
        # A server or worker of an earlier part may take a moment to let its connections go.
        for attempt in range(20):
            try:
                connection.execute(create)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    sessions = connection.execute(
                        "SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = %s",
                        [database_name()],
                    ).fetchall()
                    fail(f"cannot copy {database_name()}: other sessions hold it (pid, program, state): {sessions}")
                time.sleep(0.5)


def purge_broker() -> int:
    """The send jobs the recorded emails enqueued: no worker of this part sends them, and none may later
    (their messages are in the copy, which is gone)."""
    from roundtable.celery import app

    return app.control.purge() or 0


def idle_worker_mb(env: dict[str, str]) -> float:
    """What a real Celery worker process (solo pool: it runs the jobs itself) holds at rest, once ready."""
    from harness import VAR

    log_path = VAR / "jobs-idle-worker.log"
    command = [sys.executable, "-m", "celery", "-A", "roundtable", "worker", "--pool=solo", "-Q", IDLE_QUEUE]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    with log_path.open("w") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                return 0.0
            time.sleep(0.2)
        time.sleep(1)  # whatever it does right after saying it is ready
        status = Path(f"/proc/{worker.pid}/status").read_text()
        return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    finally:
        stop(worker)


def start_of_day() -> datetime:
    """The day simulated: the 24 hours from the next full hour."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def judged(seconds: float, peak: float, queries: tuple[int, int] | None) -> str:
    if SMOKE:
        return "not judged (smoke)"
    missed = [f"> {TARGET_SECONDS} s"] * (seconds > TARGET_SECONDS) + [f"> {TARGET_MB} MB"] * (peak > TARGET_MB)
    if queries is not None and queries[0] != queries[1]:
        missed.append("queries per job vary")
    return "met" if not missed else "missed (" + ", ".join(missed) + ")"


def summary(result: dict) -> dict:
    from django.conf import settings

    runs = result["runs"]
    jobs = [job for run in runs for job in run["jobs"]]
    working = [job for job in jobs if job["sent"]]  # the jobs that recorded an email: the same few queries each
    worst = max(runs, key=lambda run: run["seconds"])
    full = [job["queries"] for job in working if job["size"] == settings.NUDGE_CHUNK_SIZE]
    return {
        "seconds": sum(run["seconds"] for run in runs),
        "worst": worst,
        "jobs": len(jobs),
        "sent": sum(job["sent"] for job in jobs),
        "queries": (min(j["queries"] for j in working), max(j["queries"] for j in working)) if working else None,
        "idle_queries": sorted({j["queries"] for j in jobs if not j["sent"]}),
        "fanout_queries": sorted({run["fanout_queries"] for run in runs}),
        "largest": max((j["size"] for j in jobs), default=0),
        "full_queries": "—" if not full else f"{min(full)} to {max(full)} queries",
    }


def scenario(env: dict[str, str]) -> Section:
    """Each job's day in a worker process of its own, on a copy of the database; the table and what went wrong."""
    try:
        import time_machine  # noqa: F401
    except ImportError:
        return Section("jobs", "", ["time-machine is not installed (make install-dev): the jobs' day needs it"])
    start = start_of_day()
    results, problems = {}, []
    make_copy()
    try:
        for job in JOBS:
            print(f"bench: jobs: a day of the {job} job from {start:%Y-%m-%d %H:%M} UTC")
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), job, start.isoformat()],
                cwd=ROOT,
                env={**env, "DATABASE_URL": copy_url()},
                capture_output=True,
                text=True,
                timeout=900,
            )
            line = next((row for row in done.stdout.splitlines() if row.startswith(RESULT)), None)
            if done.returncode or line is None:
                problems.append(f"{job}: the worker process failed ({done.returncode}): {done.stderr[-2000:]}")
                continue
            results[job] = json.loads(line.removeprefix(RESULT))
            problems += results[job]["problems"]
        idle = idle_worker_mb({**env, "DATABASE_URL": copy_url()})
    finally:
        drop_copy()
        purged = purge_broker()
    return Section("jobs", report(start, results, purged, idle), problems)


def report(start: datetime, results: dict, purged: int, idle: float) -> str:
    from django.conf import settings

    names = {
        "digest": "to-dos digest (hourly at :05, 24 runs)",
        "agenda": "agenda reminders (daily at 07:00)",
        "notes": "notes reminders (hourly at :20, 24 runs)",
        "followup": "note takers' follow-up digest (weekly, run at 07:30)",
    }
    rows = [
        "| job | wall time of the day | worst run | peak memory (VmHWM) | queries per job that sent "
        "| jobs | emails | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    notes = []
    for job in JOBS:
        if job not in results:
            rows.append(f"| {names[job]} | failed | | | | | | |")
            continue
        result, s = results[job], summary(results[job])
        queries = f"{s['queries'][0]} to {s['queries'][1]}" if s["queries"] else "—"
        worst = s["worst"]
        rows.append(
            f"| {names[job]} | {s['seconds']:.1f} s | {worst['seconds']:.1f} s ({worst['at'][11:16]}) "
            f"| {result['peak_mb']:.0f} MB (at start {result['baseline_mb']:.0f}) | {queries} "
            f"| {s['jobs']} | {s['sent']} | {judged(s['seconds'], result['peak_mb'], s['queries'])} |"
        )
        notes.append(
            f"- {names[job]}: the beat job's own queries {', '.join(map(str, s['fanout_queries']))}; "
            + (f"every full chunk that sent {s['full_queries']}; " if s["largest"] > 1 else "")
            + "a job that "
            f"found nothing to send {', '.join(map(str, s['idle_queries'])) or '—'}; the largest job held "
            f"{s['largest']} {'people' if job in ('digest', 'followup') else 'meeting'}."
        )
    digest = results.get("digest")
    if digest:
        busiest = max(digest["runs"], key=lambda run: sum(j["sent"] for j in run["jobs"]))
        notes.append(
            f"- The digest's busiest hour ({busiest['at'][11:16]} UTC): {len(busiest['jobs'])} chunk jobs of up "
            f"to {settings.NUDGE_CHUNK_SIZE} people, {sum(j['sent'] for j in busiest['jobs'])} digests, "
            f"{busiest['seconds']:.1f} s."
        )
    return "\n".join(
        [
            f"A day from {start:%Y-%m-%d %H:%M} UTC, each job in a worker process of its own (production settings, "
            f"PostgreSQL, Redis) on a copy of the data set (`seed_bench`{' --smoke' if SMOKE else ''}); the clock "
            "put at each run's time with time-machine, every job a beat job fans out run in that process, "
            "one after the other.",
            "",
            *rows,
            "",
            f"- Targets (issue 12): each job's day ≤ {TARGET_SECONDS} s, the worker's peak memory ≤ {TARGET_MB} MB, "
            "the same queries for every job that sends (however many people, to-dos or emails it holds).",
            *notes,
            "- A job's first run in its process pays for loading the templates and translations: it is often the "
            "worst.",
            "- Checked after each day, not timed: one digest per person and day for everyone due one and nobody "
            "else, listing (by its one-click links) exactly their to-dos due a nudge by the rules; one reminder "
            "per due meeting and stage, to the note taker, then the facilitator; a job run again at the same time "
            "(a redelivered job, a second beat) sends nothing.",
            "- Peak memory is the worker process's VmHWM after the day: Django set up, the jobs modules loaded, "
            f"the jobs run. A real Celery worker (solo pool, the same settings) holds {idle:.0f} MB at rest, "
            f"{idle - min((r['baseline_mb'] for r in results.values()), default=idle):.0f} MB more than this "
            "process at its start: add that for a worker that does the day's work.",
            f"- The {purged} send jobs the recorded emails enqueued were purged from the broker (no worker of this "
            "part sends them; their messages were in the copy).",
        ]
    )


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])
