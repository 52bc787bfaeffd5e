"""The calendar feed's URL (/calendar/<token>.ics): open without signing in, the token is the credential."""

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from accounts.models import User
from alliances import versions
from meetings.feed import calendar_feed as build_feed
from roundtable import page_cache


@login_not_required
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Whoever holds the token reads its owner's feed; an unknown or replaced token gets 404."""
    user = User.objects.for_calendar_token(token)
    if user is None:
        raise Http404
    # Kept per person like *My to-dos*: stamped with the versions of the alliances they belong to (every
    # meeting, to-do and membership the feed shows renews its alliance's version, and joining or leaving one
    # changes the list), keyed on what the feed shows of the person. The token is in the path, so a replaced
    # one finds no copy: it got 404 above.
    scope = ":".join(["calendar-feed", str(user.pk), user.display_name, user.language])

    def stamp() -> str:
        # The list of their alliances comes with the copy, in one round trip (as cached_reader_page does).
        key = page_cache.page_key(request, scope)
        found = cache.get_many([versions.user_alliances_key(user.pk), key])
        page_cache.prefetched(request, scope, key, found.get(key))
        tokens = versions.versions_of(versions.alliances_of_user(user.pk, found=found))
        return ",".join(f"{pk}={token}" for pk, token in sorted(tokens.items()))

    response = page_cache.cached_page(
        request,
        scope=lambda: scope,
        stamp=stamp,
        build=lambda: HttpResponse(build_feed(user), content_type="text/calendar; charset=utf-8"),
    )
    response["Content-Disposition"] = 'inline; filename="roundtable.ics"'
    # The feed is one person's: never kept by a shared cache, and the secret URL never indexed.
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
