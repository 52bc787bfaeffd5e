"""The outbox for site operators: every recorded email, with single-use links redacted.

Only someone given the permission "Can view delivery" (or a superuser) sees these pages; anyone else,
staff included, gets 404 as if they did not exist. Bodies are shown through
`Delivery.text_for_operators`/`html_for_operators`, never as stored.
"""

from functools import wraps

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from outbox.models import Attachment, Delivery

PERMISSION = "outbox.view_delivery"


def _operators_only(view):
    """Readers of the outbox only; anyone else gets 404. Never cached: the pages hold people's email."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@_operators_only
def delivery_list(request: HttpRequest) -> HttpResponse:
    """Every email the site has recorded, newest first."""
    deliveries = Delivery.objects.select_related("message")  # newest first (Meta)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    return render(request, "outbox/delivery_list.html", {"page": page})


@_operators_only
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("message"), pk=pk)
    attachments = Attachment.objects.sent_with(delivery.message_id, [delivery.pk]).only("filename", "mimetype")
    return render(request, "outbox/delivery_detail.html", {"delivery": delivery, "attachments": attachments})


@_operators_only
def delivery_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part as the recipient's mail client gets it, sandboxed (no script, no forms), links redacted."""
    delivery = get_object_or_404(Delivery.objects.select_related("message"), pk=pk)
    response = HttpResponse(delivery.html_for_operators, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response
