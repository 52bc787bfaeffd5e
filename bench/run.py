"""The benchmark: every page of Round Table under load, as a ratio to a bare signed-in page (the ceiling).

`make bench` runs it (README, "Benchmark"). In order, it
1. checks what it needs (wrk, gunicorn, PostgreSQL, Redis) and says what is missing;
2. recreates its own PostgreSQL database, migrates it, fills it with `seed_bench` and collects the
   static files into its own folder under var/;
3. starts gunicorn (2 sync workers, production settings, DEBUG=false) on a free port;
4. signs in through the real sign-in form (its CSRF token and the session cookie), as a steward and as a
   member;
5. fetches every page once and checks it answered 200 with something only that page shows;
6. drives each page with wrk for BENCH_SECONDS at BENCH_CONNECTIONS, the ceiling first and last (their
   drift shows how noisy the machine was), counting every answer that is not 2xx;
7. counts each page's queries with one in-process request against the same database;
8. writes the table to bench/RESULTS.md, between its markers.
With BENCH_SMOKE=1 (CI) it seeds a tiny data set, spends a second a page, fails unless every page answered
200, and writes nothing: it never judges a speed.
"""

# It runs fixed local programs (manage.py, gunicorn, wrk, git) with arguments of its own making:
# ruff: noqa: S603

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import live_load
import notes_send
import scheduled_jobs
from harness import (
    BENCH,
    CONNECTIONS,
    ONLY,
    REUSE,
    ROOT,
    SECONDS,
    SMOKE,
    VAR,
    WORKERS,
    Section,
    analyze_database,
    bench_environment,
    check_requirements,
    commit,
    database_name,
    empty_redis,
    fail,
    fetch,
    free_port,
    machine,
    recreate_database,
    run,
    sign_in,
    start_server,
)

RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- bench/run.py: begin -->", "<!-- bench/run.py: end -->"
# Issue 12: every page at half the ceiling, the 400-member lists included (paginated where a user wants it).
TARGET_RATIO, TARGET_P95_MS = 0.50, 50
# The live state a page polls every second, when nothing changed: a 304 after one small query.
TARGET_UNCHANGED_RATIO = 0.70


@dataclass
class Page:
    name: str
    url_name: str
    reader: str  # "steward" or "member": whose session cookie reads it
    markers: tuple[str, ...]  # what only this page shows, all of it
    slug: str = ""
    absent: str = ""  # what this page must not show (a member's members page has no invitation form)
    kind: str = "page"  # "ceiling" or "page": whether a target applies
    pk: int = 0  # the object of a page under the alliance (a meeting), if any
    headers: tuple[str, ...] = ()  # more request headers, "Name: value" (a conditional request's If-None-Match)
    status: int = 200  # the answer expected (304: a conditional request answered "not modified")
    etag: str = ""  # the ETag the answer must carry, if any
    target: float = TARGET_RATIO  # the share of the ceiling's req/s this page must reach
    query: str = ""  # a list's filters, "status=open&owner=12"
    path: str = ""
    result: dict = field(default_factory=dict)


def pages() -> list[Page]:
    from django.urls import reverse

    from accounts.models import User
    from alliances.management.commands.seed_bench import (
        LARGE_NAME,
        LARGE_SLUG,
        MEMBER_EMAIL,
        STEWARD_EMAIL,
        TYPICAL_NAME,
        TYPICAL_SLUG,
    )
    from alliances.models import Member, Norm
    from meetings.models import Meeting
    from tasks.models import Todo

    def title(text: str) -> str:
        return f"<title>{text} · Round Table</title>"

    next_meeting = Meeting.objects.upcoming().get(alliance__slug=TYPICAL_SLUG)
    # seed_bench runs one through the real services, up to a decision item with its round robin under way.
    in_progress = Meeting.objects.get(alliance__slug=TYPICAL_SLUG, status=Meeting.Status.IN_PROGRESS)
    revision = f'"{in_progress.revision}"'
    # The latest meeting held, with what its run of show left; its notes were sent (meetings/bench.py).
    held = Meeting.objects.filter(alliance__slug=TYPICAL_SLUG, status=Meeting.Status.ENDED).order_by("-starts_at")[0]
    large_membership = Member.objects.get(alliance__slug=LARGE_SLUG, user__email=MEMBER_EMAIL).pk
    invite = reverse("alliances:invitation_create", kwargs={"slug": LARGE_SLUG})
    invite_typical = reverse("alliances:invitation_create", kwargs={"slug": TYPICAL_SLUG})
    # The objects of the pages that edit one thing: a current norm, an item of the upcoming meeting's agenda,
    # a to-do of the steward's in the typical alliance (theirs, so the edit form is theirs to open).
    norm = Norm.objects.filter(alliance__slug=TYPICAL_SLUG).current().order_by("pk")[0]
    item = next_meeting.items.order_by("pk")[0]
    todo = Todo.objects.filter(alliance__slug=TYPICAL_SLUG, owner__user__email=STEWARD_EMAIL).order_by("pk")[0]
    steward = User.objects.get(email=STEWARD_EMAIL)
    item_edit = reverse(
        "meetings:agenda_item_edit", kwargs={"slug": TYPICAL_SLUG, "pk": next_meeting.pk, "item": item.pk}
    )
    todo_edit = reverse("tasks:todo_edit", kwargs={"slug": TYPICAL_SLUG, "pk": todo.pk})
    listed = [
        Page("ceiling (first)", "bench_ceiling", "steward", ("<title>Round Table</title>",), kind="ceiling"),
        Page("my alliances", "alliances:alliance_list", "steward", (title("My alliances"), TYPICAL_NAME, LARGE_NAME)),
        Page("alliance home (40)", "alliances:alliance_detail", "steward", (title(TYPICAL_NAME),), TYPICAL_SLUG),
        Page("charter", "alliances:charter_detail", "steward", (title(f"Charter of {TYPICAL_NAME}"),), TYPICAL_SLUG),
        Page(
            "charter history",
            "alliances:charter_history",
            "steward",
            (title(f"Charter history of {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
        ),
        Page(
            "members (40, steward)",
            "alliances:member_list",
            "steward",
            (title(f"Members · {TYPICAL_NAME}"), invite_typical),
            TYPICAL_SLUG,
        ),
        Page(
            "members (400, steward)",
            "alliances:member_list",
            "steward",
            (title(f"Members · {LARGE_NAME}"), invite),
            LARGE_SLUG,
            # Paginated, 50 a page: what a steward scanning 400 names wants (and the page stays small).
        ),
        Page(
            "members (400, member)",
            "alliances:member_list",
            "member",
            (title(f"Members · {LARGE_NAME}"),),
            LARGE_SLUG,
            absent=invite,
            # Paginated too.
        ),
        Page(
            "meetings (50 held)",
            "meetings:meeting_list",
            "steward",
            (title(f"Meetings · {TYPICAL_NAME}"), "Schedule next meeting"),
            TYPICAL_SLUG,
        ),
        Page(
            "meeting page (8 items)",
            "meetings:meeting_detail",
            "steward",
            (title(f"Meeting · {TYPICAL_NAME}"), "Frederick Douglass"),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "printable agenda (8 items, 40 members)",
            "meetings:agenda_print",
            "steward",
            (title(f"Agenda of {TYPICAL_NAME}"), "Attendance sheet"),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "meeting notes (held)",
            "meetings:notes_detail",
            "steward",
            (title(f"Notes · {TYPICAL_NAME}"), 'id="notes-attendance"', 'id="notes-takeaways"'),
            TYPICAL_SLUG,
            pk=held.pk,
        ),
        Page(
            "reflection form (50 earlier)",
            "meetings:reflection_edit",
            "steward",
            (title(f"Opening reflection · {TYPICAL_NAME}"), "Earlier reflections of the alliance"),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "agenda item form (40 presenters)",
            "meetings:agenda_item_create",
            "steward",
            (title(f"Add an agenda item · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "schedule form",
            "meetings:meeting_create",
            "steward",
            (title(f"Schedule the next meeting · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
        ),
        Page("roles (40)", "meetings:roles", "steward", (title(f"Roles and rotation · {TYPICAL_NAME}"),), TYPICAL_SLUG),
        Page(
            "roles (400)",
            "meetings:roles",
            "member",
            (title(f"Roles and rotation · {LARGE_NAME}"),),
            LARGE_SLUG,
        ),
        Page("profile", "accounts:profile", "steward", (title("Your profile"),)),
        Page(
            "live page (in progress)",
            "meetings:live_detail",
            "steward",
            (title(f"Live meeting · {TYPICAL_NAME}"), 'id="live-controls"', 'data-status="in_progress"'),
            TYPICAL_SLUG,
            pk=in_progress.pk,
        ),
        Page(
            "live state, changed path",
            "meetings:live_state",
            "steward",
            ('class="live-state-root"', 'data-status="in_progress"'),
            TYPICAL_SLUG,
            pk=in_progress.pk,
            etag=revision,
        ),
        Page(
            "live state, unchanged path (304)",
            "meetings:live_state",
            "steward",
            (),
            TYPICAL_SLUG,
            pk=in_progress.pk,
            headers=(f"If-None-Match: {revision}",),
            status=304,
            etag=revision,
            target=TARGET_UNCHANGED_RATIO,
        ),
        Page(
            "big screen (in progress)",
            "meetings:live_screen",
            "steward",
            (f"<title>Big screen · {TYPICAL_NAME} · Round Table</title>", "live-screen-step"),
            TYPICAL_SLUG,
            pk=in_progress.pk,
        ),
        # To-dos: 40,000 in all; the steward owns some in six alliances, the large alliance holds about 1,900.
        Page("my to-dos (6 alliances)", "tasks:my_todos", "steward", (title("My to-dos"), "Mark done")),
        Page("alliance to-dos (190)", "tasks:todo_list", "steward", (title(f"To-dos · {TYPICAL_NAME}"),), TYPICAL_SLUG),
        Page(
            "alliance to-dos (1,900, member)",
            "tasks:todo_list",
            "member",
            (title(f"To-dos · {LARGE_NAME}"), "Page 1 of"),
            LARGE_SLUG,
        ),
        Page(
            "alliance to-dos (1,900, member, own open)",
            "tasks:todo_list",
            "member",
            (title(f"To-dos · {LARGE_NAME}"), '<option value="open" selected>', "Mark done"),
            LARGE_SLUG,
            query=f"status=open&owner={large_membership}",
        ),
        # Decisions: one per meeting held, 50 in each measured alliance; a quarter were amended ("budget").
        Page(
            "decision log (50)",
            "meetings:decision_list",
            "steward",
            (title(f"Decisions · {TYPICAL_NAME}"), "decisions, newest first."),
            TYPICAL_SLUG,
        ),
        Page(
            "decision log (50, member, search)",
            "meetings:decision_list",
            "member",
            (title(f"Decisions · {LARGE_NAME}"), "“budget”", "The budget is capped at $400"),
            LARGE_SLUG,
            query="q=budget",
        ),
        # Every other page a signed-in member reads: the forms (an unbound GET form is a page like any other),
        # the steward's pages, the exports and the calendar feed.
        Page(
            "former members",
            "alliances:former_member_list",
            "steward",
            (title(f"Former members · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
        ),
        Page(
            "your details (member form)",
            "alliances:member_edit",
            "steward",
            (title(f"Your details · {TYPICAL_NAME}"), "Your details in this alliance"),
            TYPICAL_SLUG,
        ),
        Page(
            "shared purpose form",
            "alliances:charter_purpose_edit",
            "steward",
            (title(f"Shared purpose · {TYPICAL_NAME}"), "Save the purpose"),
            TYPICAL_SLUG,
        ),
        Page(
            "logistics form",
            "alliances:charter_logistics_edit",
            "steward",
            (title(f"Logistics · {TYPICAL_NAME}"), "Save the logistics"),
            TYPICAL_SLUG,
        ),
        Page(
            "norm form (new)",
            "alliances:norm_create",
            "steward",
            (title(f"Add a norm · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
        ),
        Page(
            "norm form (edit)",
            "alliances:norm_edit",
            "steward",
            (title(f"Edit a norm · {TYPICAL_NAME}"), "Save the norm"),
            TYPICAL_SLUG,
            pk=norm.pk,
        ),
        Page(
            "undelivered emails (steward)",
            "alliances:delivery_list",
            "steward",
            (title(f"Undelivered emails · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
        ),
        Page("new alliance form", "alliances:alliance_create", "steward", (title("Establish an alliance"),)),
        Page(
            "meeting form (edit)",
            "meetings:meeting_edit",
            "steward",
            (title(f"Change the meeting · {TYPICAL_NAME}"), "Save the meeting"),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "agenda item form (edit)",
            "meetings:agenda_item_edit",
            "steward",
            (title(f"Edit an agenda item · {TYPICAL_NAME}"),),
            path=item_edit,
        ),
        Page(
            "standard segments form",
            "meetings:agenda_segments_edit",
            "steward",
            (title(f"Minutes of the standard segments · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "agenda proposal form",
            "meetings:agenda_proposal_create",
            "steward",
            (title(f"Propose an agenda item · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "meeting calendar file (.ics)",
            "meetings:agenda_ics",
            "steward",
            ("BEGIN:VCALENDAR", "METHOD:PUBLISH"),
            TYPICAL_SLUG,
            pk=next_meeting.pk,
        ),
        Page(
            "printable notes (held)",
            "meetings:notes_print",
            "steward",
            (f"<title>Notes of {TYPICAL_NAME} · Round Table</title>",),
            TYPICAL_SLUG,
            pk=held.pk,
        ),
        Page(
            "notes as Markdown (held)",
            "meetings:notes_markdown",
            "steward",
            (f"# Notes of {TYPICAL_NAME}",),
            TYPICAL_SLUG,
            pk=held.pk,
        ),
        Page(
            "review of decisions and to-dos (held)",
            "meetings:meeting_review",
            "steward",
            (title(f"Review of decisions and to-dos · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
            pk=held.pk,
        ),
        Page(
            "to-do page",
            "tasks:todo_detail",
            "steward",
            (title(f"To-do · {TYPICAL_NAME}"), todo_edit),
            TYPICAL_SLUG,
            pk=todo.pk,
        ),
        Page(
            "to-do form (new)", "tasks:todo_create", "steward", (title(f"Add a to-do · {TYPICAL_NAME}"),), TYPICAL_SLUG
        ),
        Page(
            "to-do form (edit)",
            "tasks:todo_edit",
            "steward",
            (title(f"Edit the to-do · {TYPICAL_NAME}"),),
            TYPICAL_SLUG,
            pk=todo.pk,
        ),
        Page(
            "calendar feed (6 alliances)",
            "calendar_feed",
            "steward",
            ("BEGIN:VCALENDAR", "X-WR-CALNAME:Round Table"),
            path=reverse("calendar_feed", kwargs={"token": steward.calendar_token}),
        ),
        Page("password change form", "accounts:password_change", "steward", (title("Change your password"),)),
        Page("ceiling (last)", "bench_ceiling", "steward", ("<title>Round Table</title>",), kind="ceiling"),
    ]
    for page in listed:
        if page.path:  # a URL with more than a slug and a pk (an agenda item of a meeting, a token)
            continue
        kwargs = {"slug": page.slug, **({"pk": page.pk} if page.pk else {})} if page.slug else None
        page.path = reverse(page.url_name, kwargs=kwargs) + (f"?{page.query}" if page.query else "")
    return listed


def check_page(port: int, page: Page, cookie: str) -> str:
    """Why this answer is not the page (a redirect to sign-in, an error page, another page), or ''."""
    status, headers, body = fetch(port, "GET", page.path, cookie=cookie, extra=page.headers)
    text = body.decode("utf-8", errors="replace")
    page.result["kb"] = len(body) / 1024
    if status != page.status:
        return f"{page.name}: {page.path} answered {status} {headers.get('Location', '')}".rstrip()
    if page.etag and headers.get("ETag") != page.etag:
        return f"{page.name}: {page.path} answered with the ETag {headers.get('ETag')!r}, not {page.etag!r}"
    missing = [marker for marker in page.markers if marker not in text]
    if missing:
        return f"{page.name}: {page.path} answered 200 without {missing}"
    if page.absent and page.absent in text:
        return f"{page.name}: {page.path} shows {page.absent!r}, which this reader must not see"
    return ""


def load(port: int, page: Page, cookie: str, seconds: int) -> dict:
    command = [
        "wrk",
        f"--threads={min(2, CONNECTIONS)}",
        f"--connections={CONNECTIONS}",
        f"--duration={seconds}s",
        "--timeout=10s",  # the slowest pages take seconds at 10 connections; a timeout would drop them
        f"--script={BENCH / 'wrk.lua'}",
        f"--header=Cookie: {cookie}",
        *(f"--header={header}" for header in page.headers),
        f"http://127.0.0.1:{port}{page.path}",
        # wrk.lua counts every answer but this one (a 304 page expects its 304; the others any 2xx).
        "--",
        str(page.status),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_RESULT "))
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    # When wrk stops, the requests its connections left queued are still served, a slow page's for
    # seconds: wait for them (a request queued behind them returns after them), so that the next page
    # starts on idle workers.
    for _ in range(WORKERS + 1):
        fetch(port, "GET", "/healthz")
    return result


def in_process_client(page: Page):
    """A test client in this process, signed in as the page's reader, after one warm-up request."""
    from django.test import Client

    from accounts.models import User
    from alliances.management.commands.seed_bench import MEMBER_EMAIL, STEWARD_EMAIL

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=STEWARD_EMAIL if page.reader == "steward" else MEMBER_EMAIL))
    client.get(page.path, headers=request_headers(page))  # a process's first request loads templates and translations
    return client


def request_headers(page: Page) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in page.headers)


def count_queries(listed: list[Page]) -> None:
    """Queries and wall time of one request per page, in this process, on the bench database: for the page
    as built (the page cache off: a reader's first visit, or the first after a change) and as the page cache
    hands it back (what wrk measures: the same readers read the same pages)."""
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    for page in listed:
        client = in_process_client(page)
        headers = request_headers(page)
        for path, setting in (("built", 0), ("kept", None)):
            with override_settings(**({} if setting is None else {"PAGE_CACHE_SECONDS": setting})):
                client.get(page.path, headers=headers)
                with CaptureQueriesContext(connection) as queries:
                    client.get(page.path, headers=headers)
                page.result[f"queries_{path}"] = len(queries)
                timings = []
                for _ in range(1 if SMOKE else 5):
                    started = time.perf_counter()
                    client.get(page.path, headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                page.result[f"in_process_ms_{path}"] = statistics.median(timings)


def verdict(page: Page, ceiling_rps: float) -> str:
    if SMOKE:
        return "not judged (smoke)"
    if page.kind == "ceiling":
        return "—"
    ratio, p95 = page.result["rps"] / ceiling_rps, page.result["p95_us"] / 1000
    missed = [f"ratio < {page.target:.2f}"] * (ratio < page.target) + [f"p95 > {TARGET_P95_MS} ms"] * (
        p95 > TARGET_P95_MS
    )
    return "met" if not missed else "missed (" + ", ".join(missed) + ")"


def table(listed: list[Page], ceiling_rps: float) -> str:
    rows = [
        "| page | req/s | p50 ms | p95 ms | p99 ms | ratio to the ceiling | queries, kept / built "
        "| in-process ms, kept / built "
        "| non-2xx | KB | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for page in listed:
        r = page.result
        rows.append(
            f"| {page.name} | {r['rps']:.0f} | {r['p50_us'] / 1000:.0f} | {r['p95_us'] / 1000:.0f} "
            f"| {r['p99_us'] / 1000:.0f} | {r['rps'] / ceiling_rps:.2f} | {r['queries_kept']} / {r['queries_built']} "
            f"| {r['in_process_ms_kept']:.1f} / {r['in_process_ms_built']:.1f} "
            f"| {r['non2xx'] + r['socket_errors']} | {r['kb']:.0f} | {verdict(page, ceiling_rps)} |"
        )
    return "\n".join(rows)


def report(listed: list[Page], sign_in_ms: float, started: str, machine_line: str) -> str:
    first, last = listed[0].result["rps"], listed[-1].result["rps"]
    ceiling_rps = (first + last) / 2
    return "\n".join(
        [
            f"Run of {started} UTC, commit {commit()}, on {machine_line}.",
            "",
            f"gunicorn {WORKERS} sync workers, production settings (DEBUG=false), PostgreSQL, Redis cache; "
            f"wrk {CONNECTIONS} connections for {SECONDS} s a page, signed in through the sign-in form. "
            f"Data: `seed_bench`{' --smoke' if SMOKE else ''}.",
            "",
            table(listed, ceiling_rps),
            "",
            f"- Ceiling: {first:.0f} req/s first, {last:.0f} req/s last: a drift of {(last - first) / first:+.0%} "
            f"(the ratios use their mean, {ceiling_rps:.0f} req/s).",
            f"- Signing in (one POST through the form, the default PBKDF2 hasher): {sign_in_ms:.0f} ms.",
            f"- Targets: every page ≥ {TARGET_RATIO:.0%} of the ceiling's req/s and p95 ≤ {TARGET_P95_MS} ms, "
            "the 400-member lists included; "
            f"the live state's unchanged path (a conditional request answered 304) ≥ {TARGET_UNCHANGED_RATIO:.0%}.",
            "- The live pages read a meeting in progress (seed_bench runs it to a decision item, round robin and "
            "consensus check under way); its revision does not move during the run, so the unchanged path "
            "(If-None-Match: its revision) answers 304 every time and the changed path (no If-None-Match) renders "
            "the state every time.",
            "- non-2xx counts every answer that was not 2xx (for the unchanged live state: not its 304), and every "
            "socket error or timeout, during the run. "
            "Queries and in-process ms: one request in the runner's own process (median of five for the time), "
            "for the copy the page cache keeps for a reader (what wrk measures: the same readers read the same "
            "pages) and for the page built afresh (a reader's first visit, or the first after a change).",
        ]
    )


def markers(part: str) -> tuple[str, str]:
    """The markers around a part's block in RESULTS.md (the pages keep the first run's plain markers)."""
    if part == "pages":
        return BEGIN, END
    return f"<!-- bench/run.py: {part} begin -->", f"<!-- bench/run.py: {part} end -->"


def write_results(part: str, text: str) -> None:
    """Replace this part's block in RESULTS.md, or add it after the last block; the rest is written by hand."""
    begin, end = markers(part)
    block = f"{begin}\n{text}\n{end}"
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n## Latest run\n\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1]
    elif "<!-- bench/run.py:" in current:
        last = current.rindex(" end -->") + len(" end -->")
        current = current[:last] + "\n\n" + block + current[last:]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(current)


def prepare(env: dict[str, str]) -> None:
    """A fresh database with the benchmark's data set, and the static files (BENCH_REUSE=1 keeps the last)."""
    print(f"bench: database {database_name()}, {'smoke' if SMOKE else 'full'} data set")
    if REUSE:
        empty_redis()
    else:
        recreate_database()
        run(sys.executable, "manage.py", "migrate", "--noinput", "-v0", env=env)
        run(sys.executable, "manage.py", "seed_bench", *(["--smoke"] if SMOKE else []), env=env)
        analyze_database()
    run(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", env=env)


def run_pages(env: dict[str, str], port: int, started: str, machine_line: str) -> Section:
    """Every page under wrk against the ceiling, then each page's queries in this process."""
    from alliances.management.commands.seed_bench import BENCH_PASSWORD, MEMBER_EMAIL, STEWARD_EMAIL

    listed = pages()
    server = start_server(env, port)
    try:
        steward, sign_in_ms = sign_in(port, STEWARD_EMAIL, BENCH_PASSWORD)
        member, _ = sign_in(port, MEMBER_EMAIL, BENCH_PASSWORD)
        cookies = {"steward": steward, "member": member}
        problems = [problem for page in listed if (problem := check_page(port, page, cookies[page.reader]))]
        if problems:
            fail("not every page answered 200 with its own content:\n  " + "\n  ".join(problems))
        if not SMOKE:
            print("bench: warming up both workers on every page")
            for page in listed[:-1]:
                load(port, page, cookies[page.reader], 2)
        for page in listed:
            print(f"bench: {page.name} ({page.path}) for {SECONDS} s")
            page.result |= load(port, page, cookies[page.reader], SECONDS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    count_queries(listed)
    failed = [page.name for page in listed if page.result["non2xx"] or page.result["socket_errors"]]
    failed += [page.name for page in listed if not page.result["requests"]]
    problems = [f"answers that were not 2xx, or none at all, during the run: {', '.join(failed)}"] if failed else []
    return Section("pages", report(listed, sign_in_ms, started, machine_line), problems)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    check_requirements()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    machine_line = machine()  # before our own processes add to the load
    VAR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = bench_environment(port)
    prepare(env)

    os.environ.update(env)  # this process reads the same database, for the page paths and the queries
    import django

    django.setup()

    sections = []
    if not ONLY or "pages" in ONLY:
        sections.append(run_pages(env, port, started, machine_line))
    # After the pages: it moves the large alliance's meeting (and so its version) back and forth.
    if not ONLY or "live" in ONLY:
        sections.append(live_load.scenario(env))
    if not ONLY or "jobs" in ONLY:
        sections.append(scheduled_jobs.scenario(env))
    # Last: it adds an alliance of 500 to the data set and empties the benchmark's job queue first.
    if not ONLY or "notes" in ONLY:
        sections.append(notes_send.scenario(env))
    for section in sections:
        print(section.markdown)
        if not SMOKE:
            write_results(section.title, section.markdown)
            print(f"bench: {section.title} written to {RESULTS.relative_to(ROOT)}")
    problems = [problem for section in sections for problem in section.problems]
    if problems:
        fail("\n  ".join(["what went wrong:", *problems]))
    print("bench: every part ran without an error" + (" (smoke run: no speed is judged)" if SMOKE else ""))


if __name__ == "__main__":
    main()
