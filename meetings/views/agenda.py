"""The agenda's pages and actions: items, their order, proposals, segment minutes, reflection, print.

Every view fetches the reader's membership first (a non-member gets 404), then the meeting through the
alliance. Changing the agenda is for the meeting's facilitator and the stewards (403 for other
members); reading it and proposing items is for every member. Moves answer htmx with the agenda's
items fragment and a plain post with a redirect to the meeting page, so they work without JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page, render_alliance
from meetings import agenda
from meetings.agenda_forms import AgendaItemForm, DeclineForm, ProposalForm, ReflectionForm, SegmentsForm
from meetings.models import DEFAULT_SEGMENT_MINUTES, AgendaItem, AgendaSegment, Meeting, Reflection
from meetings.services import MeetingError
from roundtable.actions import attempt
from roundtable.http import AuthenticatedHttpRequest


def _get_meeting(request: HttpRequest, slug: str, pk: int, *, edit: bool = False) -> tuple[Member, Meeting]:
    member = get_membership(request, slug)
    return member, _meeting_of(member, pk, edit=edit)


def _meeting_of(member: Member, pk: int, *, edit: bool = False) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.filter(alliance=member.alliance), pk=pk)
    meeting.alliance = member.alliance  # already loaded with the membership
    if edit and not meeting.can_edit(member):
        raise PermissionDenied
    return meeting


def _get_item(meeting: Meeting, item: int, status: str) -> AgendaItem:
    found = get_object_or_404(AgendaItem.objects.filter(meeting=meeting, status=status), pk=item)
    found.meeting = meeting
    return found


def _agenda_url(meeting: Meeting) -> str:
    return f"{meeting.get_absolute_url()}#agenda"


def _items_fragment(request: HttpRequest, member: Member, meeting: Meeting, *, status: int = 200) -> HttpResponse:
    # Only the fragment: no page around it, so no tabs to build (render_alliance would reverse each).
    context = {"alliance": member.alliance, "member": member, **agenda.agenda_context(meeting=meeting, member=member)}
    return render(request, "meetings/_agenda.html#agenda-items", context, status=status)


def agenda_item_create(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    # The empty form lists every active member as a presenter: kept until the alliance changes.
    return cached_alliance_page(request, member, lambda: _agenda_item_create(request, member, pk))


def _agenda_item_create(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk, edit=True)
    form = AgendaItemForm(request.POST or None, alliance_id=member.alliance_id)
    if form.is_valid():
        try:
            agenda.agenda_item_add(meeting=meeting, by=member, **form.cleaned_data)
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The item has been added to the agenda."))
            return redirect(_agenda_url(meeting))
    return render_alliance(request, member, "meetings/agenda_item_form.html", {"form": form, "meeting": meeting})


def agenda_item_edit(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member = get_membership(request, slug)
    # The empty form shows the item and every active member as a presenter: kept until the alliance changes.
    return cached_alliance_page(request, member, lambda: _agenda_item_edit(request, member, pk, item))


def _agenda_item_edit(request: HttpRequest, member: Member, pk: int, item: int) -> HttpResponse:
    meeting = _meeting_of(member, pk, edit=True)
    agenda_item = _get_item(meeting, item, AgendaItem.Status.ACCEPTED)
    initial = {
        "title": agenda_item.title,
        "description": agenda_item.description,
        "kind": agenda_item.kind,
        "presenter": agenda_item.presenter_id,
        "minutes": agenda_item.minutes,
    }
    form = AgendaItemForm(request.POST or None, initial=initial, alliance_id=member.alliance_id)
    if form.is_valid():
        try:
            agenda.agenda_item_edit(item=agenda_item, by=member, **form.cleaned_data)
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The item has been saved."))
            return redirect(_agenda_url(meeting))
    context = {"form": form, "meeting": meeting, "item": agenda_item}
    return render_alliance(request, member, "meetings/agenda_item_form.html", context)


@require_POST
def agenda_item_remove(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    agenda_item = _get_item(meeting, item, AgendaItem.Status.ACCEPTED)
    attempt(
        request,
        lambda: agenda.agenda_item_remove(item=agenda_item, by=member),
        success=_("The item has been removed from the agenda."),
    )
    if request.htmx:
        # 200 either way: htmx 2 swaps no 4xx answer, and the fragment carries the message.
        return _items_fragment(request, member, meeting)
    return redirect(_agenda_url(meeting))


@require_POST
def agenda_item_move(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    agenda_item = _get_item(meeting, item, AgendaItem.Status.ACCEPTED)
    try:
        agenda.agenda_item_move(item=agenda_item, direction=request.POST.get("direction", ""), by=member)
    except MeetingError as error:
        # Shown with the fragment htmx swaps in, or on the meeting page after the redirect.
        messages.error(request, str(error))
    if request.htmx:
        return _items_fragment(request, member, meeting)
    return redirect(_agenda_url(meeting))


@require_POST
def agenda_reorder(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The whole order at once, as static/js/agenda.js posts it after a drag and drop."""
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    try:
        order = [int(value) for value in request.POST.getlist("order")]
        agenda.agenda_items_reorder(meeting=meeting, order=order, by=member)
    except ValueError:
        messages.error(request, _("The agenda changed meanwhile: reload the page and move the items again."))
        ok = False
    except MeetingError as error:
        messages.error(request, str(error))
        ok = False
    else:
        ok = True
    if request.htmx:
        return _items_fragment(request, member, meeting, status=200 if ok else 400)
    return redirect(_agenda_url(meeting))


def agenda_segments_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _agenda_segments_edit(request, member, pk))


def _agenda_segments_edit(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk, edit=True)
    stored = {s.kind: s.minutes for s in AgendaSegment.objects.filter(meeting=meeting)}
    initial = {kind.value: stored.get(kind.value, minutes) for kind, minutes in DEFAULT_SEGMENT_MINUTES.items()}
    form = SegmentsForm(request.POST or None, initial_minutes=initial)
    if form.is_valid():
        try:
            agenda.agenda_segments_set(meeting=meeting, minutes=form.cleaned_data, by=member)
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The segments' minutes have been saved."))
            return redirect(_agenda_url(meeting))
    return render_alliance(request, member, "meetings/agenda_segments_form.html", {"form": form, "meeting": meeting})


def agenda_proposal_create(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _agenda_proposal_create(request, member, pk))


def _agenda_proposal_create(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk)
    form = ProposalForm(request.POST or None)
    if form.is_valid():
        try:
            agenda.agenda_proposal_submit(meeting=meeting, by=member, **form.cleaned_data)
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your proposal has been sent to the facilitator."))
            return redirect(_agenda_url(meeting))
    return render_alliance(request, member, "meetings/agenda_proposal_form.html", {"form": form, "meeting": meeting})


@require_POST
def agenda_proposal_accept(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    proposal = get_object_or_404(AgendaItem.objects.filter(meeting=meeting), pk=item)
    proposal.meeting = meeting
    attempt(
        request,
        lambda: agenda.agenda_proposal_accept(item=proposal, by=member),
        success=_("The proposal has joined the agenda, at the end."),
    )
    return redirect(_agenda_url(meeting))


def agenda_proposal_decline(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    proposal = get_object_or_404(AgendaItem.objects.filter(meeting=meeting), pk=item)
    proposal.meeting = meeting
    form = DeclineForm(request.POST or None)
    if form.is_valid():
        try:
            agenda.agenda_proposal_decline(item=proposal, by=member, reason=form.cleaned_data["reason"])
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The proposal has been declined."))
            return redirect(_agenda_url(meeting))
    context = {"form": form, "meeting": meeting, "proposal": proposal}
    return render_alliance(request, member, "meetings/agenda_decline_form.html", context)


def reflection_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    # The empty form shows the reflections of earlier meetings: kept until the alliance changes.
    return cached_alliance_page(request, member, lambda: _reflection_edit(request, member, pk))


def _reflection_edit(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk, edit=True)
    current = Reflection.objects.filter(meeting=meeting).first()
    form = ReflectionForm(request.POST or None, instance=current)
    if form.is_valid():
        try:
            agenda.reflection_set(meeting=meeting, by=member, **form.cleaned_data)
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The opening reflection has been saved."))
            return redirect(_agenda_url(meeting))
    context = {"form": form, "meeting": meeting, "history": agenda.reflection_history(meeting=meeting)}
    return render_alliance(request, member, "meetings/reflection_form.html", context)


def agenda_print(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The agenda on paper, ending with an attendance sheet of every active member to sign."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _agenda_print(request, member, pk))


def _agenda_print(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk)
    context = agenda.agenda_context(meeting=meeting, member=member)
    context["attendees"] = list(
        Member.objects.active()
        .filter(alliance=member.alliance)
        .select_related("user")
        .order_by("user__display_name", "pk")
        .only("organisation", "user__display_name")
    )
    context["roles"] = (
        Meeting.objects.filter(pk=meeting.pk).select_related("facilitator__user", "note_taker__user").get()
    )
    return render_alliance(request, member, "meetings/agenda_print.html", context)
