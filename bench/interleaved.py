"""Pages against the ceiling under wrk, interleaved, optionally beside another checkout of the code.

    .venv/bin/python bench/interleaved.py [--before DIR] [--rounds 3] [--seconds 2] ["page name" ...]

On the data set `make bench` left (its BENCH_* variables), gunicorn serves this tree, and with `--before`
a second gunicorn serves another checkout (`git archive <commit> | tar -x -C DIR`) on the same database
and Redis. Each round runs wrk on the ceiling and then on the page, for every page and every tree, so
that a busy machine's drift falls on both sides of each ratio: on a shared machine a page's ratio from
one `make bench` moves by ±50 %, and this gives a before/after under the same noise. It prints each
page's median ratio to the ceiling (and median p95) over the rounds, per tree, and beside it the ratio of
CPU time a request costs the server (gunicorn's workers and their PostgreSQL backends, read from /proc):
the ceiling's CPU ms per request over the page's, which other work on the machine moves much less.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

import run
from harness import VAR, bench_environment, free_port, sign_in, start_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="another checkout to serve beside this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    sys.path.insert(0, str(run.ROOT))
    os.environ.update(bench_environment(port=8000))
    import django

    django.setup()
    from alliances.management.commands.seed_bench import BENCH_PASSWORD, MEMBER_EMAIL, STEWARD_EMAIL

    listed = [page for page in run.pages() if page.kind != "ceiling" and (not args.names or page.name in args.names)]
    ceiling = next(page for page in run.pages() if page.kind == "ceiling")
    trees = {"now": run.ROOT} | ({"before": args.before.resolve()} if args.before else {})
    servers, ports, cookies = {}, {}, {}
    try:
        for name, root in trees.items():
            port = free_port()
            env = bench_environment(port)
            env["PYTHONPATH"] = str(root)
            if name == "before":
                # A cache of its own: an older release may read what this one keeps under the same key.
                env["REDIS_URL"] = os.environ.get("BENCH_BEFORE_REDIS_URL", "redis://127.0.0.1:6379/15")
            servers[name] = _start(env, port, root, f"gunicorn-{name}.log")
            ports[name] = port
            cookies[name] = {
                "steward": sign_in(port, STEWARD_EMAIL, BENCH_PASSWORD)[0],
                "member": sign_in(port, MEMBER_EMAIL, BENCH_PASSWORD)[0],
            }
            for page in [ceiling, *listed]:  # warm both workers
                run.load(port, page, cookies[name][page.reader], 1)
        ratios: dict[tuple[str, str], list[float]] = {}
        p95s: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds}", flush=True)
            for page in listed:
                for name in trees:
                    port = ports[name]
                    top, top_cpu = _measured(servers[name], port, ceiling, cookies[name]["steward"], args.seconds)
                    got, got_cpu = _measured(servers[name], port, page, cookies[name][page.reader], args.seconds)
                    ratios.setdefault((page.name, name), []).append(got["rps"] / top["rps"])
                    cpu.setdefault((page.name, name), []).append(top_cpu / got_cpu)
                    p95s.setdefault((page.name, name), []).append(got["p95_us"] / 1000)
        load = os.getloadavg()[0]
        print(f"\nmedian over {args.rounds} rounds of {args.seconds} s (ceiling, then page); load {load:.1f}")
        print(f"{'page':44} " + " ".join(f"{name + ' ratio':>13} {'p95 ms':>7} {'CPU ratio':>9}" for name in trees))
        for page in listed:
            cells = " ".join(
                f"{statistics.median(ratios[page.name, name]):13.2f} {statistics.median(p95s[page.name, name]):7.0f}"
                f" {statistics.median(cpu[page.name, name]):9.2f}"
                for name in trees
            )
            print(f"{page.name[:44]:44} {cells}")
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each process's CPU seconds so far (a process gone meanwhile is left out)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return found


def _server_pids(server) -> list[int]:
    """gunicorn's workers, and the PostgreSQL backends of the bench database (this process's aside)."""
    from django.db import connection

    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.pid:
            workers.append(int(stat.parent.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return workers + backends


def _measured(server, port: int, page, cookie: str, seconds: int) -> tuple[dict, float]:
    """wrk's result, and the server's CPU milliseconds per request during it."""
    pids = _server_pids(server)
    before = _cpu_seconds(pids)
    result = run.load(port, page, cookie, seconds)
    # A backend Django opened during the run (CONN_MAX_AGE renews them) counts whole; one closed, not at all.
    after = _cpu_seconds(_server_pids(server))
    spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    return result, spent * 1000 / max(result["requests"], 1)


def _start(env: dict[str, str], port: int, root: Path, log_name: str):
    if root == run.ROOT:
        return start_server(env, port, log_name=log_name)
    import subprocess
    import time

    from harness import WORKERS, fetch

    log = (VAR / log_name).open("w")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "roundtable.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    for _ in range(150):
        try:
            if fetch(port, "GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn in {root} did not answer; see {VAR / log_name}")


if __name__ == "__main__":
    main()
