"""What every benchmark scenario shares (bench/run.py, bench/live_load.py, bench/background.py): the
settings of a run, its database and Redis, a production-like gunicorn, requests as a browser makes them and
signing in through the real form.
"""

# It runs fixed local programs (manage.py, gunicorn, git) with arguments of its own making:
# ruff: noqa: S603, S607

import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SMOKE = os.environ.get("BENCH_SMOKE", "").lower() in {"1", "true", "yes"}
SECONDS = int(os.environ.get("BENCH_SECONDS") or (1 if SMOKE else 15))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS") or 10)
WORKERS = 2
# The smoke run has a database and a folder of its own, so that CI never wipes a full run's data set.
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or (
    f"postgres://postgres@127.0.0.1:5432/roundtable_bench{'_smoke' if SMOKE else ''}"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/10"
# BENCH_VAR: another folder (two runs side by side must not share gunicorn's logs and static files).
VAR = Path(os.environ.get("BENCH_VAR") or ROOT / "var" / ("bench-smoke" if SMOKE else "bench"))
# BENCH_REUSE=1: keep the database a previous run seeded (for working on one scenario; a real run reseeds).
REUSE = os.environ.get("BENCH_REUSE", "").lower() in {"1", "true", "yes"}
# BENCH_ONLY=live,background: run only these parts ("pages", "live", "background"); all of them by default.
ONLY = {part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()}


@dataclass
class Section:
    """What one scenario of the benchmark reports: its part of bench/RESULTS.md and what went wrong.

    `problems` fails the run (an error answer, a follower that never saw a change, a wrong digest); a speed
    target missed is shown in `markdown` as "missed" and does not fail it, as for the pages.
    """

    title: str
    markdown: str
    problems: list[str] = field(default_factory=list)


def fail(message: str, code: int = 1) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(code)


def run(*command: str, env: dict | None = None) -> None:
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def check_requirements() -> None:
    import psycopg
    import redis

    missing = []
    if not shutil.which("wrk"):
        missing.append("wrk is not installed: apt-get install -y wrk")
    if not (Path(sys.executable).parent / "gunicorn").exists():
        missing.append(f"gunicorn is not installed next to {sys.executable}: make install")
    try:
        psycopg.connect(maintenance_url(), connect_timeout=3).close()
    except psycopg.Error as error:
        missing.append(f"PostgreSQL does not answer at {maintenance_url()} (set BENCH_DATABASE_URL): {error}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        missing.append(f"Redis does not answer at {REDIS_URL} (set BENCH_REDIS_URL): {error}")
    if missing:
        fail("missing what the benchmark needs:\n  " + "\n  ".join(missing), code=2)


def database_name() -> str:
    return urllib.parse.urlsplit(DATABASE_URL).path.lstrip("/")


def maintenance_url() -> str:
    return urllib.parse.urlsplit(DATABASE_URL)._replace(path="/postgres").geturl()


def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    name = database_name()
    # The database is dropped on every run: a typo in BENCH_DATABASE_URL must not cost a real one.
    if "bench" not in name:
        fail(f"the benchmark drops and recreates its database; {name!r} has no 'bench' in its name")
    with psycopg.connect(maintenance_url(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    empty_redis()


def empty_redis() -> None:
    """What the cache holds may describe another database (kept memberships and pages, versions under the
    same alliance ids: the smoke data set after a full one), and its queue another run's jobs: a run starts
    with none of it."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def analyze_database() -> None:
    """Fresh statistics for the planner: right after the bulk inserts PostgreSQL would plan on default
    estimates until autovacuum got to the tables, possibly in the middle of the run."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute("ANALYZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_environment(port: int) -> dict[str, str]:
    """Production settings, for a local run over plain http with no proxy in front."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "roundtable.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "VAR_DIR": str(VAR),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def fetch(port: int, method: str, path: str, cookie: str = "", form: dict | None = None, extra: tuple[str, ...] = ()):
    """One request, redirects not followed: a 302 to the sign-in page must show as a 302. `extra`: more
    headers, "Name: value"."""
    headers = {"Cookie": cookie} if cookie else {}
    headers |= dict(line.split(": ", 1) for line in extra)
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        # What a browser sends with a form: Django checks the Origin against the host.
        headers |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def cookies_of(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(port: int, email: str, password: str) -> tuple[str, float]:
    """Sign in through the form as a browser does; return the Cookie header and the POST's milliseconds."""
    status, headers, body = fetch(port, "GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    csrf = cookies_of(headers).get("csrftoken")
    if status != 200 or not token or not csrf:
        fail(f"the sign-in page answered {status} without a CSRF token and cookie")
    form = {"csrfmiddlewaretoken": token.group(1).decode(), "username": email, "password": password, "next": ""}
    started = time.perf_counter()
    status, headers, _ = fetch(port, "POST", "/accounts/login/", cookie=f"csrftoken={csrf}", form=form)
    elapsed = (time.perf_counter() - started) * 1000
    session = cookies_of(headers).get("sessionid")
    if status != 302 or not session:
        fail(f"signing in as {email} answered {status} without a session cookie")
    return f"csrftoken={csrf}; sessionid={session}", elapsed


def start_server(
    env: dict[str, str], port: int, workers: int = WORKERS, log_name: str = "gunicorn.log"
) -> subprocess.Popen:
    """gunicorn with `workers` sync workers on `port`, once it answers /healthz; its log goes to VAR/log_name."""
    log = (VAR / log_name).open("w")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "roundtable.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"gunicorn stopped at start; see {VAR / log_name}")
        try:
            if fetch(port, "GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    fail(f"gunicorn did not answer /healthz within 30 s; see {VAR / log_name}")


def stop(process: subprocess.Popen | None) -> None:
    """Ask a process we started to stop (gunicorn and Celery finish what they are doing), then make sure."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    load_average = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}), load average {load_average} when the run started"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    described = git("rev-parse", "--short", "HEAD") or "unknown"
    return described + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")
