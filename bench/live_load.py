"""The live meeting under load (issue 12): members follow a meeting as its page does while it moves.

One meeting of the large alliance (seed_bench: `bench_live_meeting`) is followed by FOLLOWERS members, each
polling the live state as static/js/live.js does: every POLL_MS after the previous answer, with
If-None-Match set to the revision it holds; a 200 gives the new revision (the fragment's data-revision) and,
as static/js/autosave.js does on the page's `live:changed`, a refresh of the recording part (record_step);
a 404 or a redirect stops it. The followers start spread over the interval, as browsers opened at
different moments are. Meanwhile the facilitator, signed in through the real form, makes a change every
CHANGE_EVERY seconds through the real endpoints, with the CSRF token of its live page: a stance recorded
for someone present (the recording part's form, as the note taker or facilitator sends it), the step
before, the decision again (a decision without consensus cannot be passed), and so on; after each, it
polls at once as live.js does, which gives the revision the change made.

For every change it reports the time from the change's POST being sent until every follower had received
an answer carrying that revision or a newer one, and the polls' latency. Run 1 is one gunicorn with
WORKERS sync workers; run 2 is two separate gunicorn instances of one worker each on two ports (the same 2
workers in all), sharing PostgreSQL and Redis, with the followers split between them and every change made
through the first: what an operator does to scale out, and the proof that no state lives in a process.

`scenario(env)` runs after bench/run.py has prepared the database and called django.setup() (it creates
the followers' sessions in this process, in the database gunicorn reads). Run alone:
`BENCH_REUSE=1 .venv/bin/python bench/live_load.py` (after one run that seeded the database).
"""

import asyncio
import os
import random
import re
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    ROOT,
    SMOKE,
    VAR,
    WORKERS,
    Section,
    bench_environment,
    check_requirements,
    fail,
    fetch,
    free_port,
    machine,
    sign_in,
    start_server,
)

# The page's own interval, read from the script the browsers run, so that the benchmark follows it.
POLL_MS = int(re.search(r"const POLL_MS = (\d+);", (ROOT / "static/js/live.js").read_text()).group(1))
GIVE_UP_SECONDS = 10  # live.js aborts a poll that has not answered within 10 s
FOLLOWERS = int(os.environ.get("BENCH_FOLLOWERS") or (10 if SMOKE else 200))
RUN_SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS") or (6 if SMOKE else 48))
CHANGE_EVERY = 2.0 if SMOKE else 3.0
WARM_UP_SECONDS = 1.0 if SMOKE else 3.0  # polling before the first change, not measured
DRAIN_SECONDS = 10.0  # after the last change: how long the followers may take to see it
# Issue 12: every change seen by every follower within 2 s (p95 over the changes), on 2 workers.
TARGET_SEEN_SECONDS = 2.0
USER_AGENT = "round-table-bench/live"

REVISION = re.compile(rb'class="live-state-root" data-revision="(\d+)"[^>]* data-step="([^"]*)"')
RECORD_REVISION = re.compile(rb'id="record-step"[^>]* data-revision="(\d+)"')
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- HTTP -------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Answer:
    """One HTTP/1.1 request on a connection of its own (gunicorn's sync workers close each one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"User-Agent: {USER_AGENT}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding", "").lower() == "chunked":
        payload = _unchunk(payload)
    return Answer(int(status_line.split()[1]), parsed, payload)


def _unchunk(data: bytes) -> bytes:
    out, position = bytearray(), 0
    while True:
        end = data.index(b"\r\n", position)
        size = int(data[position:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2 : end + 2 + size]
        position = end + 2 + size + 2


def form_body(fields: dict[str, str]) -> bytes:
    return urllib.parse.urlencode(fields).encode()


# --- CPU -----------------------------------------------------------------------------------------------------


def workers_of(pids: list[int]) -> list[int]:
    """The worker processes of these gunicorn masters (their children), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent in pids:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time these processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)
    return total / os.sysconf("SC_CLK_TCK")


# --- Who follows, who drives --------------------------------------------------------------------------------


@dataclass
class Poll:
    started: float
    seconds: float
    status: int  # 0: no answer (a socket error or a timeout)


@dataclass
class Follower:
    number: int
    cookie: str
    port: int
    instance: str  # "A" or "B"
    revision: int
    record_revision: int
    # (when the answer arrived, the revision it carried) for every answer that moved the revision.
    seen: list[tuple[float, int]] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    refreshes: list[Poll] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stopped: bool = False
    refreshing: bool = False
    refresh_again: bool = False


@dataclass
class Change:
    kind: str  # "stance", "previous step", "next step"
    sent: float
    answered: float
    revision: int  # the revision the facilitator's poll right after got


@dataclass
class Meeting:
    """What the run needs to know of the meeting, read in this process before it starts."""

    slug: str
    pk: int
    revision: int
    decision_step: str
    proposal_pk: int
    present: list[int]  # members present (their pks), whose stances the facilitator records
    state_path: str
    record_path: str
    live_path: str
    previous_path: str
    next_path: str
    stance_path: str


def meeting_under_load() -> Meeting:
    """The large alliance's meeting in progress, brought back to its decision item if a run left it elsewhere."""
    from django.urls import reverse

    from alliances.management.commands.seed_bench import LARGE_SLUG, STEWARD_EMAIL
    from meetings import run, steps
    from meetings.models import Attendance, Proposal
    from meetings.models import Meeting as MeetingRow

    meeting = MeetingRow.objects.filter(alliance__slug=LARGE_SLUG, status=MeetingRow.Status.IN_PROGRESS).first()
    if meeting is None:
        fail(f"no meeting in progress in {LARGE_SLUG}: the database was seeded before bench_live_meeting; reseed")
    facilitator = meeting.facilitator
    if facilitator.user.email != STEWARD_EMAIL:
        fail(f"the meeting in progress in {LARGE_SLUG} is not run by {STEWARD_EMAIL}")
    proposal = Proposal.objects.filter(item__meeting=meeting, outcome=Proposal.Outcome.OPEN).select_related("item")
    proposal = proposal.order_by("-number").first()
    if proposal is None:
        fail(f"the meeting in progress in {LARGE_SLUG} has no open proposal: reseed")
    decision_step = steps.item_key(proposal.item)
    run_steps = steps.for_meeting(meeting)
    keys = [step.key for step in run_steps]
    # An interrupted run may have left the meeting on the step before the decision.
    while meeting.current_step != decision_step:
        move = run.go_to_next_step if keys.index(meeting.current_step) < keys.index(decision_step) else None
        move = move or run.go_to_previous_step
        meeting = move(meeting=meeting, by=facilitator, expected_step=meeting.current_step)
    meeting.refresh_from_db()
    present = list(
        Attendance.objects.filter(meeting=meeting, status=Attendance.Status.PRESENT, member__is_active=True)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    slug = meeting.alliance.slug

    def url(name: str, **more: int) -> str:
        return reverse(f"meetings:{name}", kwargs={"slug": slug, "pk": meeting.pk, **more})

    return Meeting(
        slug=slug,
        pk=meeting.pk,
        revision=meeting.revision,
        decision_step=decision_step,
        proposal_pk=proposal.pk,
        present=present,
        state_path=url("live_state"),
        record_path=url("record_step"),
        live_path=url("live_detail"),
        previous_path=url("live_previous_step"),
        next_path=url("live_next_step"),
        stance_path=url("stance_record", proposal=proposal.pk),
    )


def follower_cookies(count: int) -> list[str]:
    """Sessions of `count` active members of the large alliance other than the facilitator, made in this
    process in the database gunicorn reads (signing in through the form costs a PBKDF2 hash each)."""
    from django.test import Client

    from accounts.models import User
    from alliances.management.commands.seed_bench import LARGE_SLUG, STEWARD_EMAIL

    users = list(
        User.objects.filter(memberships__alliance__slug=LARGE_SLUG, memberships__is_active=True)
        .exclude(email=STEWARD_EMAIL)
        .order_by("pk")[:count]
    )
    if len(users) < count:
        fail(f"{LARGE_SLUG} has {len(users)} members besides the facilitator, fewer than {count} followers")
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return cookies


# --- The run ------------------------------------------------------------------------------------------------


async def refresh_record(follower: Follower, meeting: Meeting) -> None:
    """What autosave.js does when the live page moved: fetch the recording part (one at a time)."""
    if follower.refreshing:
        follower.refresh_again = True
        return
    follower.refreshing = True
    try:
        while True:
            follower.refresh_again = False
            started = time.monotonic()
            status = 0
            try:
                answer = await asyncio.wait_for(
                    request(
                        follower.port, "GET", meeting.record_path, {"Cookie": follower.cookie, "HX-Request": "true"}
                    ),
                    GIVE_UP_SECONDS,
                )
                status = answer.status
                found = RECORD_REVISION.search(answer.body)
                if status == 200 and found:
                    follower.record_revision = int(found.group(1))
                else:
                    follower.problems.append(f"the recording part answered {status}")
            except (OSError, TimeoutError) as error:
                follower.problems.append(f"the recording part: {type(error).__name__} {error}")
            follower.refreshes.append(Poll(started, time.monotonic() - started, status))
            if not follower.refresh_again:
                return
    finally:
        follower.refreshing = False


async def follow(follower: Follower, meeting: Meeting, stop: asyncio.Event, tasks: set[asyncio.Task]) -> None:
    """One member's live page: live.js's poll loop."""
    await asyncio.sleep(random.uniform(0, POLL_MS / 1000))
    while not stop.is_set() and not follower.stopped:
        started = time.monotonic()
        headers = {"Cookie": follower.cookie, "If-None-Match": f'"{follower.revision}"'}
        try:
            answer = await asyncio.wait_for(request(follower.port, "GET", meeting.state_path, headers), GIVE_UP_SECONDS)
        except (OSError, TimeoutError) as error:
            follower.polls.append(Poll(started, time.monotonic() - started, 0))
            follower.problems.append(f"poll: {type(error).__name__} {error}")
        else:
            arrived = time.monotonic()
            follower.polls.append(Poll(started, arrived - started, answer.status))
            found = REVISION.search(answer.body) if answer.status == 200 else None
            if answer.status == 200 and found:
                follower.revision = int(found.group(1))
                follower.seen.append((arrived, follower.revision))
                if follower.record_revision != follower.revision:
                    task = asyncio.create_task(refresh_record(follower, meeting))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            elif answer.status == 200:
                follower.problems.append("poll answered 200 without the state's revision")
            elif answer.status in (404, 302):
                # live.js stops asking: no longer a member, or signed out.
                follower.stopped = True
                follower.problems.append(f"poll answered {answer.status}: the follower stopped")
            elif answer.status != 304:
                follower.problems.append(f"poll answered {answer.status}")
        await asyncio.sleep(POLL_MS / 1000)


@dataclass
class Facilitator:
    cookie: str
    token: str
    port: int
    revision: int
    step: str
    problems: list[str] = field(default_factory=list)


async def poll_now(facilitator: Facilitator, meeting: Meeting) -> None:
    """live.js after a button's answer: poll at once; the answer carries the revision the change made."""
    headers = {"Cookie": facilitator.cookie, "If-None-Match": f'"{facilitator.revision}"'}
    answer = await request(facilitator.port, "GET", meeting.state_path, headers)
    found = REVISION.search(answer.body) if answer.status == 200 else None
    if not found:
        facilitator.problems.append(f"the facilitator's poll after a change answered {answer.status}")
        return
    facilitator.revision, facilitator.step = int(found.group(1)), found.group(2).decode()


async def make_change(facilitator: Facilitator, meeting: Meeting, number: int) -> Change | None:
    """The next change of the cycle stance, step before, decision again, through the real endpoints."""
    origin = f"http://127.0.0.1:{facilitator.port}"
    headers = {
        "Cookie": facilitator.cookie,
        "Origin": origin,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    kind = ("stance", "previous step", "next step")[number % 3]
    if kind == "stance":
        # The recording part's form for someone present; a stance recorded again replaces the earlier one.
        member = meeting.present[(number // 3) % len(meeting.present)]
        agree = (number // 3 // len(meeting.present)) % 2 == 0
        fields = {
            "csrfmiddlewaretoken": facilitator.token,
            "whose": "others",
            "stance-others-member": str(member),
            "stance-others-kind": "agree" if agree else "stand_aside",
            "stance-others-reason": "" if agree else "I have doubts about the date, but I won't stand in the way.",
        }
        path, headers = meeting.stance_path, headers | {"HX-Request": "true"}
    else:
        fields = {"csrfmiddlewaretoken": facilitator.token, "expected_step": facilitator.step}
        path = meeting.previous_path if kind == "previous step" else meeting.next_path
        headers |= {"X-Live-Action": "1", "Accept": "application/json"}
    sent = time.monotonic()
    try:
        answer = await request(facilitator.port, "POST", path, headers, form_body(fields))
    except OSError as error:
        facilitator.problems.append(f"{kind}: {type(error).__name__} {error}")
        return None
    answered = time.monotonic()
    refused = answer.status != 200 or (kind != "stance" and b'"ok": true' not in answer.body)
    if kind == "stance" and b"Stance recorded" not in answer.body:
        refused = True
    if refused:
        facilitator.problems.append(f"{kind}: answered {answer.status}: {answer.body[:200]!r}")
        return None
    before = facilitator.revision
    await poll_now(facilitator, meeting)
    if facilitator.revision <= before:
        facilitator.problems.append(f"{kind}: the revision did not move ({before})")
        return None
    return Change(kind, sent, answered, facilitator.revision)


async def drive(facilitator: Facilitator, meeting: Meeting, first_at: float, until: float) -> list[Change]:
    changes, number, at = [], 0, first_at
    while at <= until:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        change = await make_change(facilitator, meeting, number)
        if change is not None:
            changes.append(change)
        number += 1
        at += CHANGE_EVERY
    return changes


async def run_load(
    meeting: Meeting, followers: list[Follower], facilitator: Facilitator
) -> tuple[list[Change], float, float]:
    """Followers poll; the facilitator changes the meeting; returns the changes and the measured window."""
    stop = asyncio.Event()
    tasks: set[asyncio.Task] = set()
    polling = [asyncio.create_task(follow(f, meeting, stop, tasks)) for f in followers]
    begin = time.monotonic() + WARM_UP_SECONDS
    changes = await drive(facilitator, meeting, begin, begin + RUN_SECONDS)
    # Until every follower has seen the last change (or DRAIN_SECONDS).
    last = changes[-1].revision if changes else facilitator.revision
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and any(f.revision < last and not f.stopped for f in followers):
        await asyncio.sleep(0.1)
    end = time.monotonic()
    stop.set()
    await asyncio.gather(*polling)
    await asyncio.gather(*tasks)
    return changes, begin, end


def warm_up(port: int, cookie: str, meeting: Meeting, workers: int) -> None:
    """A worker's first fragment loads the templates and translations: do it before measuring."""
    for _ in range(3 * workers):
        fetch(port, "GET", meeting.state_path, cookie=cookie)
        fetch(port, "GET", meeting.record_path, cookie=cookie, extra=("HX-Request: true",))


def facilitator_on(port: int, meeting: Meeting, cookie: str) -> Facilitator:
    """The facilitator's live page, as their browser loads it: its CSRF token and the state it shows."""
    status, _headers, body = fetch(port, "GET", meeting.live_path, cookie=cookie)
    token = CSRF_FIELD.search(body)
    if status != 200 or not token or b'id="live-controls"' not in body:
        fail(f"the facilitator's live page {meeting.live_path} answered {status} without its controls")
    status, _headers, body = fetch(port, "GET", meeting.state_path, cookie=cookie)
    found = REVISION.search(body)
    if status != 200 or not found:
        fail(f"the live state {meeting.state_path} answered {status} without its revision")
    return Facilitator(cookie, token.group(1).decode(), port, int(found.group(1)), found.group(2).decode())


@dataclass
class Result:
    """One run: where its followers polled and what they saw."""

    label: str
    followers: list[Follower]
    changes: list[Change]
    begin: float
    end: float
    problems: list[str]
    # CPU seconds over the whole load (warm-up and drain included): gunicorn's workers, this process.
    worker_cpu: float = 0.0
    generator_cpu: float = 0.0
    seconds: float = 0.0


def one_run(
    label: str, env: dict[str, str], instances: list[tuple[str, int]], cookies: list[str], steward_password: str
) -> Result:
    """Start `instances` gunicorns [(name, workers)], run the load, stop them."""
    from alliances.management.commands.seed_bench import STEWARD_EMAIL

    meeting = meeting_under_load()
    servers, ports = [], []
    try:
        for name, workers in instances:
            port = free_port()
            log = f"gunicorn-live-{label.split()[0]}-{name}.log"
            servers.append(start_server({**env, "SITE_URL": f"http://127.0.0.1:{port}"}, port, workers, log))
            ports.append(port)
        cookie, _ = sign_in(ports[0], STEWARD_EMAIL, steward_password)
        for port, (_name, workers) in zip(ports, instances, strict=True):
            warm_up(port, cookie, meeting, workers)
        facilitator = facilitator_on(ports[0], meeting, cookie)
        followers = [
            Follower(
                number=index,
                cookie=follower_cookie,
                port=ports[index % len(ports)],
                instance=instances[index % len(ports)][0],
                revision=facilitator.revision,
                record_revision=facilitator.revision,
            )
            for index, follower_cookie in enumerate(cookies)
        ]
        print(
            f"bench: live, {label}: {len(followers)} followers polling every {POLL_MS} ms, a change every "
            f"{CHANGE_EVERY:g} s for {RUN_SECONDS:g} s"
        )
        workers = workers_of([server.pid for server in servers])
        cpu_before, own_before, wall_before = cpu_seconds(workers), time.process_time(), time.monotonic()
        changes, begin, end = asyncio.run(run_load(meeting, followers, facilitator))
        worker_cpu, generator_cpu = cpu_seconds(workers) - cpu_before, time.process_time() - own_before
        seconds = time.monotonic() - wall_before
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    problems = [f"{label}: the facilitator: {problem}" for problem in facilitator.problems]
    # Counted, not listed: a server that went away would give every follower the same error every second.
    counted = Counter((f.instance, p) for f in followers for p in f.problems)
    problems += [f"{label}: {n} x on {instance}: {problem}" for (instance, problem), n in counted.most_common()]
    if not changes:
        problems.append(f"{label}: no change went through")
    for change in changes:
        missed = [f.number for f in followers if first_seen(f, change) is None]
        if missed:
            problems.append(
                f"{label}: {len(missed)} follower(s) never saw the {change.kind} of revision {change.revision}: "
                f"{missed[:10]}"
            )
    return Result(label, followers, changes, begin, end, problems, worker_cpu, generator_cpu, seconds)


# --- Report ---------------------------------------------------------------------------------------------------


def first_seen(follower: Follower, change: Change) -> float | None:
    """Seconds from the change's POST to the first answer this follower got carrying its revision or later."""
    for arrived, revision in follower.seen:
        if revision >= change.revision and arrived >= change.sent:
            return arrived - change.sent
    # Seen before its POST was sent cannot be: the revision only moves with a change.
    return None


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def spread(values: list[float], scale: float = 1000) -> str:
    """p50 / p95 / p99 in ms (values in seconds)."""
    if not values:
        return "—"
    return " / ".join(f"{percentile(values, share) * scale:.0f}" for share in (0.50, 0.95, 0.99))


def seen_by_all(followers: list[Follower], changes: list[Change]) -> tuple[list[float], list[float]]:
    """For each change the time until every one of `followers` had seen it; and every followerxchange time."""
    per_change, pairs = [], []
    for change in changes:
        times = [first_seen(follower, change) for follower in followers]
        known = [t for t in times if t is not None]
        pairs += known
        if known and len(known) == len(times):
            per_change.append(max(known))
    return per_change, pairs


def verdict(per_change: list[float]) -> str:
    if SMOKE:
        return "not judged (smoke)"
    if not per_change:
        return "missed (no change seen by all)"
    return "met" if percentile(per_change, 0.95) <= TARGET_SEEN_SECONDS else "missed"


def poll_row(result: Result, instance: str | None = None) -> str:
    followers = [f for f in result.followers if instance is None or f.instance == instance]
    window = result.end - result.begin
    polls = [p for f in followers for p in f.polls if result.begin <= p.started <= result.end]
    refreshes = [p for f in followers for p in f.refreshes if result.begin <= p.started <= result.end]
    errors = sum(1 for p in polls + refreshes if p.status not in (200, 304))
    name = result.label + (f", followers on {instance}" if instance else "")
    return (
        f"| {name} | {len(followers)} | {len(polls)} | {len(polls) / window:.0f} "
        f"| {(len(polls) + len(refreshes)) / window:.0f} "
        f"| {spread([p.seconds for p in polls])} | {spread([p.seconds for p in polls if p.status == 304])} "
        f"| {spread([p.seconds for p in polls if p.status == 200])} "
        f"| {sum(1 for p in polls if p.status == 200)} | {spread([p.seconds for p in refreshes])} | {errors} |"
    )


def seen_row(result: Result, instance: str | None = None) -> str:
    followers = [f for f in result.followers if instance is None or f.instance == instance]
    per_change, pairs = seen_by_all(followers, result.changes)
    name = result.label + (f", followers on {instance}" if instance else "")
    posts = [c.answered - c.sent for c in result.changes]

    def seconds(values: list[float], share: float) -> str:
        return f"{percentile(values, share):.2f}" if values else "—"

    return (
        f"| {name} | {len(result.changes)} | {seconds(posts, 0.5)} "
        f"| {seconds(per_change, 0.5)} | {seconds(per_change, 0.95)} | {max(per_change, default=float('nan')):.2f} "
        f"| {seconds(pairs, 0.5)} | {seconds(pairs, 0.95)} | {verdict(per_change)} |"
    )


def cpu_line(result: Result) -> str:
    answered = sum(len(f.polls) + len(f.refreshes) for f in result.followers)
    return (
        f"- CPU, {result.label}: gunicorn's workers used {result.worker_cpu:.1f} s in {result.seconds:.0f} s "
        f"({result.worker_cpu / result.seconds / (os.cpu_count() or 1):.0%} of the machine), "
        f"{1000 * result.worker_cpu / max(1, answered):.1f} ms a request for the {answered} polls and refreshes; "
        f"this load generator {result.generator_cpu:.1f} s."
    )


def report(results: list[Result], machine_line: str) -> str:
    single, double = results
    lines = [
        f"Run on {machine_line}.",
        "",
        f"{FOLLOWERS} members of the large alliance follow one meeting, each polling the live state as "
        f"static/js/live.js does ({POLL_MS} ms after each answer, If-None-Match with the revision it holds; on a "
        "200, the recording part refreshed as autosave.js does), started spread over the interval; the "
        f"facilitator, signed in through the form, makes a change every {CHANGE_EVERY:g} s for {RUN_SECONDS:g} s "
        "through the real endpoints (a stance recorded for someone present, the step before, the decision "
        "again, in turn). Followers' sessions are made in the runner's process; requests are HTTP/1.1 from "
        "one asyncio process on the same machine. The first "
        f"{WARM_UP_SECONDS:g} s of polling are not counted.",
        "",
        f"Run 1: one gunicorn, {WORKERS} sync workers. Run 2: two separate gunicorn instances (A and B) of one "
        "sync worker each on two ports (the same 2 workers in all), sharing PostgreSQL and Redis; half the "
        "followers poll A, half B; every change is made through A.",
        "",
        "| run | followers | polls | polls/s | requests/s with the parts | poll ms p50 / p95 / p99 | 304 ms "
        "| 200 ms | 200s | recording part ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        poll_row(single),
        poll_row(double),
        poll_row(double, "A"),
        poll_row(double, "B"),
        "",
        "Each change: the time from its POST being sent until every follower had an answer with its revision "
        "(or a newer one), over the changes; and over every follower x change.",
        "",
        "| run | changes | POST s p50 | seen by all s p50 | p95 | max | follower x change s p50 | p95 | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        seen_row(single),
        seen_row(double),
        seen_row(double, "A"),
        seen_row(double, "B"),
        "",
        f"- Target (issue 12): every change seen by every follower within {TARGET_SEEN_SECONDS:g} s, p95 over the "
        f"changes, on {WORKERS} workers; in run 2 for the followers of each instance (B's see what was done "
        "through A: no state lives in a process).",
        "- After a change, the state and a bystander's recording part are built once per revision for every "
        "reader of a kind and language and shared (meetings/views/live.py, meetings/views/record.py); the "
        "other followers' requests cost the session, the user and one query.",
        f"- No worker is held per viewer: {FOLLOWERS} followers share {WORKERS} sync workers; every poll is a "
        "short request that ends (a 304 after one query), so a worker serves the next follower at once.",
        "- A poll waits for its answer and the next one leaves a second later, so a follower sees a change "
        f"at worst about {POLL_MS / 1000:g} s plus two answers after it was made.",
        cpu_line(single),
        cpu_line(double),
    ]
    return "\n".join(lines)


def scenario(env: dict[str, str]) -> Section:
    """Both runs; callable after django.setup() in a process whose settings read the bench database."""
    from alliances.management.commands.seed_bench import BENCH_PASSWORD

    machine_line = machine()
    cookies = follower_cookies(FOLLOWERS)
    results = [
        one_run(f"1 instance x {WORKERS} workers", env, [("A", WORKERS)], cookies, BENCH_PASSWORD),
        one_run("2 instances x 1 worker", env, [("A", 1), ("B", 1)], cookies, BENCH_PASSWORD),
    ]
    problems = [problem for result in results for problem in result.problems]
    return Section("live", report(results, machine_line), problems)


def main() -> None:
    """What bench/run.py does before its parts, then this one (BENCH_REUSE=1 keeps the seeded database)."""
    sys.path.insert(0, str(ROOT))
    check_requirements()
    VAR.mkdir(parents=True, exist_ok=True)
    env = bench_environment(free_port())
    from run import prepare

    prepare(env)
    os.environ.update(env)
    import django

    django.setup()
    section = scenario(env)
    print(section.markdown)
    if section.problems:
        fail("\n  ".join(["what went wrong:", *section.problems[:50]]))
    print("bench: live ran without an error" + (" (smoke run: no speed is judged)" if SMOKE else ""))


if __name__ == "__main__":
    main()
