"""Where one page's time goes: cProfile over in-process requests on the data set `make bench` left behind.

    make bench                                   # once: creates the database and the static files
    .venv/bin/python bench/profile_page.py "members (400, steward)" [requests]

It reads the page with the benchmark's settings (production, DEBUG=false) in this process, signed in as
the page's reader, and prints the functions with the most cumulative time, then the most own time.
"""

import cProfile
import os
import pstats
import sys

import run


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ.update(run.bench_environment(port=8000))
    sys.path.insert(0, str(run.ROOT))
    import django

    django.setup()
    listed = {page.name: page for page in run.pages()}
    if name not in listed:
        run.fail(f"name a page: {', '.join(repr(known) for known in listed)}")
    page = listed[name]
    client = run.in_process_client(page)
    profiler = cProfile.Profile()
    profiler.enable()
    headers = run.request_headers(page)  # the unchanged live state sends its If-None-Match
    for _ in range(count):
        client.get(page.path, headers=headers)
    profiler.disable()
    print(f"{name} ({page.path}), {count} requests")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
