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

A kept copy may also carry a *stamp* (`cached_page(stamp=…)`): what the copy was built under, such as the
alliance's version; a copy whose stamp is not the current one is built again and replaces it. Under a key
that holds no version, the key can be known before the version is: the alliance pages' copy is fetched in
the same round trip to the cache as the reader's membership and the version (alliances/access.py), and
handed over with `prefetched()`.
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
_CSRF_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a page is built for the cache, `{% csrf_token %}` prints the placeholder.

    It comes after Django's own csrf processor (always first), so its `csrf_token` wins.
    """
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, "building_cached_page", False) else {}


def page_key(request: HttpRequest, scope: str) -> str:
    """The cache key of this request's page under `scope` (what the page shows beyond every page's key)."""
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


def may_keep(request: HttpRequest) -> bool:
    """Whether this request's page may come from the cache (and go into it)."""
    return bool(settings.PAGE_CACHE_SECONDS) and request.method == "GET" and not len(messages.get_messages(request))


def prefetched(request: HttpRequest, scope: str, key: str, kept: object) -> None:
    """What the cache holds under `key` (`scope`'s key), found by a look-up that fetched it with other keys:
    neither the key is made nor the cache asked again."""
    request.kept_page = (scope, key, kept)  # type: ignore[attr-defined]


def cached_page(
    request: HttpRequest,
    *,
    scope: Callable[[], str],
    build: Callable[[], HttpResponse],
    stamp: Callable[[], str] | None = None,
) -> HttpResponse:
    """The page `build()` makes, from the cache when this reader already got it under the same key.

    `scope()` names what the page shows beyond what every page's key holds; `stamp()`, what the copy must
    have been built under (the alliance's version) when the key does not hold it. Both are asked only
    when the page may be kept (they may cost a look in the cache), and before `build()` reads anything:
    a change made while the page is built gives a new stamp, so the copy is never read.
    """
    # The key carries the minute, so a copy is never read after it: PAGE_CACHE_SECONDS a little above a
    # minute lets the cache drop copies on its own.
    if not may_keep(request):
        return build()
    named = scope()
    wanted = stamp() if stamp else ""
    found = getattr(request, "kept_page", None)
    if found is not None and found[0] == named:
        _scope, key, kept = found
    else:
        key = page_key(request, named)
        kept = cache.get(key)
    # (stamp, content as bytes, content type, file name header); anything else (a copy another release kept)
    # is not ours.
    if not (isinstance(kept, tuple) and len(kept) == 4 and kept[0] == wanted):
        request.building_cached_page = True  # type: ignore[attr-defined]
        try:
            response = build()
        finally:
            request.building_cached_page = False  # type: ignore[attr-defined]
        if response.streaming or response.status_code != 200:
            _put_token_back(response, request)
            return response
        # A download (the notes as Markdown) keeps the name it is saved under.
        kept = (wanted, response.content, response["Content-Type"], response.get("Content-Disposition", ""))
        cache.set(key, kept, settings.PAGE_CACHE_SECONDS)
    _stamp, content, content_type, disposition = kept
    # Bytes throughout: the copy is neither decoded nor encoded again on the way out. A copy with no form
    # (a calendar file, the notes as Markdown) asks for no token, so its answer sets no CSRF cookie, as
    # when it is built.
    if _CSRF_PLACEHOLDER_BYTES in content:
        content = content.replace(_CSRF_PLACEHOLDER_BYTES, get_token(request).encode())
    answer = HttpResponse(content, content_type=content_type)
    if disposition:
        answer["Content-Disposition"] = disposition
    return answer


def _put_token_back(response: HttpResponse, request: HttpRequest) -> None:
    if not response.streaming and _CSRF_PLACEHOLDER_BYTES in response.content:
        response.content = response.content.replace(_CSRF_PLACEHOLDER_BYTES, get_token(request).encode())
