from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("alliances:alliance_list")
    return render(request, "home.html")


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitors: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# The benchmark's ceiling (bench/run.py): the fastest any signed-in page can be on this server.
CEILING_BODY = b"<!doctype html>\n<title>Round Table</title>\n"


def bench_ceiling(request: HttpRequest) -> HttpResponse:
    """A fixed, tiny page that requires sign-in: it pays for the session and the user lookup and nothing else.

    Every page is benchmarked as a ratio to this one, measured by the same gunicorn through the same
    middleware. It is always present rather than switched on by a setting: the benchmark then runs
    exactly the production configuration (no bench-only setting that could change what it measures),
    and there is nothing to hide — the same constant bytes for every signed-in reader, no data, no
    words to translate, no writes; a signed-out visitor is sent to sign in like everywhere else.
    """
    return HttpResponse(CEILING_BODY, content_type="text/html; charset=utf-8")
