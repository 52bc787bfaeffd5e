"""Whole pages cached for one reader, under a key that changes whenever what the page shows may change.

A page of an alliance costs 5-20 ms to build (its queries, then its template) and is read far more often
than the alliance changes. `cached_page()` keeps the page a reader got and hands it back to the same
reader until the key moves on. The caller names what the page depends on (`scope`: for an alliance page,
the reader's membership and the alliance's version, alliances/versions.py); this module adds what every
page depends on:
- the path with its query string, and whether htmx asked for it (a fragment is not the page);
- the reader's language and time zone;
- the current minute: what a page shows can change with time alone (an invitation expires, a meeting
  starts), so no copy is served for longer than a minute or two.

A page is never cached with the one-time parts of a response: a request that has flash messages to show
renders afresh, and the CSRF token, which belongs to one browser, is rendered as a placeholder that each
reader's own token replaces (the context processor below), so the copy of one browser serves another.
Only complete 200 answers to GET are kept.
"""

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

# Stands for the CSRF token in a cached page; replaced by the reader's own token on the way out.
CSRF_PLACEHOLDER = "csrf-token-of-the-reader"


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a page is built for the cache, `{% csrf_token %}` prints the placeholder.

    It comes after Django's own csrf processor (always first), so its `csrf_token` wins.
    """
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, "building_cached_page", False) else {}


def _key(request: HttpRequest, scope: str) -> str:
    parts = "|".join(
        (
            scope,
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            str(int(time.time() // 60)),
            "htmx" if request.headers.get("HX-Request") else "page",
            request.get_full_path(),
        )
    )
    return "page:" + hashlib.sha256(parts.encode()).hexdigest()


def cached_page(request: HttpRequest, *, scope: Callable[[], str], build: Callable[[], HttpResponse]) -> HttpResponse:
    """The page `build()` makes, from the cache when this reader already got it under the same key.

    `scope()` names what the page shows beyond what every page's key holds; it is asked only when the page
    may be kept (it may cost a look in the cache, or a query).
    """
    # The key carries the minute, so a copy is never read after it: PAGE_CACHE_SECONDS a little above a
    # minute lets the cache drop copies on its own.
    if not settings.PAGE_CACHE_SECONDS or request.method != "GET" or len(messages.get_messages(request)):
        return build()
    key = _key(request, scope())
    cached = cache.get(key)
    if cached is None:
        request.building_cached_page = True  # type: ignore[attr-defined]
        try:
            response = build()
        finally:
            request.building_cached_page = False  # type: ignore[attr-defined]
        if response.streaming or response.status_code != 200:
            _put_token_back(response, request)
            return response
        cached = (response.content.decode(response.charset), response["Content-Type"])
        cache.set(key, cached, settings.PAGE_CACHE_SECONDS)
    content, content_type = cached
    return HttpResponse(content.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)


def _put_token_back(response: HttpResponse, request: HttpRequest) -> None:
    if not response.streaming:
        response.content = response.content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
