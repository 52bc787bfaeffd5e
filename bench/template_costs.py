"""What one use of each template construct costs, in microseconds: the price list behind docs/performance.md.

    .venv/bin/python bench/template_costs.py

Renders each construct 400 times in a loop (a 400-row list), in English, and prints the cost of one use
beyond a bare `{{ variable }}`. Needs no database: the development settings are enough.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROWS = 400
CONSTRUCTS = {
    "{{ variable }} (the baseline)": "{{ m.name }}",
    "{% url %} with two arguments": "{% url 'alliances:member_steward' slug m.pk %}",
    "a URL the view built from one reverse() (a variable)": "{{ m.steward_url }}",
    "{% csrf_token %}": "{% csrf_token %}",
    "{% translate %}": '{% translate "Make steward" %}',
    '{{ date|date:"DATE_FORMAT" }}': '{{ m.joined|date:"DATE_FORMAT" }}',
    "{% blocktranslate %} with a date": (
        '{% blocktranslate with date=m.joined|date:"DATE_FORMAT" %}since {{ date }}{% endblocktranslate %}'
    ),
    "{% include %} of a one-line template": '{% include "bench_row.html" %}',
}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roundtable.settings")
    import django

    django.setup()
    from django.template import engines
    from django.test import RequestFactory
    from django.utils import timezone, translation

    translation.activate("en")
    engine = engines["django"].engine
    # The included template lives in memory: the point is the cost of the include, not of a file read.
    engine.template_loaders  # noqa: B018 - builds the loaders before the locmem one is added
    from django.template.loaders.locmem import Loader

    engine.template_loaders.insert(0, Loader(engine, {"bench_row.html": "{{ m.name }}"}))
    request = RequestFactory().get("/")
    rows = [
        {"name": f"Person {i}", "pk": i, "joined": timezone.now(), "steward_url": f"/alliances/x/members/{i}/steward/"}
        for i in range(ROWS)
    ]
    costs = {}
    for label, construct in CONSTRUCTS.items():
        template = engines["django"].from_string("{% load i18n %}{% for m in rows %}" + construct + "{% endfor %}")
        template.render({"rows": rows, "slug": "x"}, request)  # compile and warm
        timings = []
        for _ in range(15):
            started = time.perf_counter()
            template.render({"rows": rows, "slug": "x"}, request)
            timings.append(time.perf_counter() - started)
        costs[label] = statistics.median(timings) / ROWS * 1e6
    base = costs["{{ variable }} (the baseline)"]
    print(f"| construct | µs per use | µs beyond a variable | ms for {ROWS} rows |")
    print("| --- | ---: | ---: | ---: |")
    for label, cost in costs.items():
        print(f"| {label} | {cost:.1f} | {cost - base:.1f} | {cost * ROWS / 1000:.1f} |")


if __name__ == "__main__":
    main()
