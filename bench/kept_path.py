"""What a page's kept copy costs beside the ceiling: in-process ms, Python calls, queries and cache trips.

    .venv/bin/python bench/kept_path.py [requests] ["page name" ...]

On the data set `make bench` left (its BENCH_* variables), each page is read `requests` times (200 by
default) in this process as its reader, interleaved with the ceiling, after a warm-up that fills the
page cache. It prints, for each page, the median ms of a read (and the ceiling's in the same rounds), the
Python function calls of one read (cProfile's count: what noise cannot move), its SQL queries, its trips
to the cache and the bytes it answers. What issue 12 asks of a page is what it costs beyond the ceiling:
the "extra" columns.
"""

import cProfile
import os
import pstats
import statistics
import sys
import time

import run


def calls_of(client, path: str, headers: dict[str, str]) -> int:
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path, headers=headers)
    profiler.disable()
    return pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]


def cache_trips(client, path: str, headers: dict[str, str]) -> int:
    """Round trips to the cache (Redis) of one read: each get/get_many/set/add of the cache client."""
    from django.core.cache import cache

    backend = cache._cache  # type: ignore[attr-defined]  # django.core.cache.backends.redis.RedisCacheClient
    counted = []
    originals = {name: getattr(backend, name) for name in ("get", "get_many", "set", "add", "set_many", "delete")}

    def counting(name):
        def call(*args, **kwargs):
            counted.append(name)
            return originals[name](*args, **kwargs)

        return call

    for name in originals:
        setattr(backend, name, counting(name))
    try:
        client.get(path, headers=headers)
    finally:
        for name, original in originals.items():
            setattr(backend, name, original)
    return len(counted)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    names = set(sys.argv[2:])
    os.environ.update(run.bench_environment(port=8000))
    sys.path.insert(0, str(run.ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    listed = [page for page in run.pages() if page.kind != "ceiling" and (not names or page.name in names)]
    ceiling = next(page for page in run.pages() if page.kind == "ceiling")
    ceiling_client = run.in_process_client(ceiling)
    print(f"{count} reads a page, interleaved with the ceiling; median ms")
    print(f"{'page':44} {'ms':>6} {'ceil':>6} {'extra':>6} {'calls':>7} {'extra':>6} {'SQL':>4} {'trips':>5} {'KB':>5}")
    ceiling_calls = calls_of(ceiling_client, ceiling.path, {})
    for page in [ceiling, *listed]:
        client = run.in_process_client(page)
        headers = run.request_headers(page)
        client.get(page.path, headers=headers)
        times, ceiling_times = [], []
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(page.path, headers=headers)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            ceiling_client.get(ceiling.path)
            ceiling_times.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            client.get(page.path, headers=headers)
        query_count = len(queries)  # now: the next request clears the log it reads
        calls = calls_of(client, page.path, headers)
        ms, ceiling_ms = statistics.median(times) * 1000, statistics.median(ceiling_times) * 1000
        print(
            f"{page.name[:44]:44} {ms:6.2f} {ceiling_ms:6.2f} {ms - ceiling_ms:6.2f} {calls:7d} "
            f"{calls - ceiling_calls:6d} {query_count:4d} {cache_trips(client, page.path, headers):5d} "
            f"{len(response.content) / 1024:5.0f}"
        )


if __name__ == "__main__":
    main()
