from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alliances.access import get_stewardship
from alliances.pages import render_alliance
from outbox import services
from outbox.models import Delivery


def _staff_only(view):
    """Site operators only; anyone else gets 404, as if the page did not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@_staff_only
def delivery_list(request: HttpRequest) -> HttpResponse:
    """Every email the site has recorded, newest first: where `make run` users read what was sent."""
    deliveries = Delivery.objects.select_related("message", "message__alliance")  # newest first (Meta)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    return render(request, "outbox/delivery_list.html", {"page": page})


@_staff_only
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("message"), pk=pk)
    attachments = delivery.message.attachments.only("filename", "mimetype")
    return render(request, "outbox/delivery_detail.html", {"delivery": delivery, "attachments": attachments})


@_staff_only
def delivery_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part as the recipient's mail client gets it, sandboxed: no script, no forms."""
    delivery = get_object_or_404(Delivery, pk=pk)
    response = HttpResponse(delivery.body_html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


def alliance_delivery_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Stewards: the alliance's emails that could not be delivered, with a way to try again."""
    member = get_stewardship(request, slug)
    deliveries = (
        Delivery.objects.for_alliance(member.alliance).filter(status=Delivery.Status.FAILED).select_related("recipient")
    )
    return render_alliance(request, member, "outbox/alliance_delivery_list.html", {"deliveries": deliveries})


@require_POST
def alliance_delivery_retry(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    delivery = get_object_or_404(Delivery.objects.for_alliance(member.alliance), pk=pk)
    services.delivery_retry(delivery=delivery, alliance=member.alliance)
    messages.success(request, _("The email to %(email)s will be sent again.") % {"email": delivery.to_email})
    return redirect("alliances:delivery_list", slug=slug)
