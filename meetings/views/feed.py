"""The calendar feed's URL (/calendar/<token>.ics): open without signing in, the token is the credential."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from accounts.models import User
from meetings.feed import calendar_feed as build_feed


@login_not_required
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Whoever holds the token reads its owner's feed; an unknown or replaced token gets 404."""
    user = User.objects.for_calendar_token(token)
    if user is None:
        raise Http404
    response = HttpResponse(build_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="roundtable.ics"'
    # The feed is one person's: never kept by a shared cache, and the secret URL never indexed.
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
