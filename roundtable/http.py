"""Request types for views, so that type checking knows what the middleware adds."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """What a view behind LoginRequiredMiddleware receives: a signed-in `User` (never AnonymousUser)
    and django-htmx's `request.htmx`. Only an annotation: Django still passes its own HttpRequest."""

    user: "User"  # narrower than HttpRequest's `User | AnonymousUser`, on purpose
    htmx: "HtmxDetails"
