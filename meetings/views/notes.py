"""A meeting's notes: the page, Send notes, amendments, the print page and the Markdown export.

Every view fetches the reader's membership first (a non-member gets 404). Sending and amending are for the
note taker, the facilitator and the stewards (403 for another member). Every member reads sent notes;
before they are sent, the draft is shown only to those three, and the print page and the export send
other members back to the notes page, which says the notes are on their way.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page, render_alliance
from meetings import notes as services
from meetings.models import Meeting, NoteAmendment
from meetings.views.agenda import _get_meeting, _meeting_of
from roundtable.actions import attempt
from roundtable.http import AuthenticatedHttpRequest


def _notes_url(meeting: Meeting) -> str:
    return f"{meeting.get_absolute_url()}notes/"


@require_GET
def notes_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _notes_detail(request, member, pk))


def _notes_detail(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk)
    can_manage = services.may_manage(meeting, member)
    readable = meeting.is_ended and services.may_read(meeting, member)
    context = {
        "meeting": meeting,
        "notes": services.notes_build(meeting) if readable else None,
        "can_manage": can_manage,
        "sections": NoteAmendment.Section.choices,
        "text_max_length": NoteAmendment.TEXT_MAX_LENGTH,
    }
    return render_alliance(request, member, "meetings/notes_detail.html", context)


@require_POST
def notes_send(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk)
    if not services.may_manage(meeting, member):
        raise PermissionDenied
    attempt(
        request,
        lambda: services.notes_send(meeting=meeting, by=member),
        success=_("The notes are on their way to every member. From now on, corrections are amendments."),
    )
    return redirect(_notes_url(meeting))


@require_POST
def notes_amend(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk)
    if not services.may_manage(meeting, member):
        raise PermissionDenied
    attempt(
        request,
        lambda: services.notes_amend(
            meeting=meeting,
            by=member,
            text=request.POST.get("text", ""),
            section=request.POST.get("section", ""),
        ),
        success=_("The amendment is recorded, and every member is told of it."),
    )
    return redirect(f"{_notes_url(meeting)}#amendments")


def _readable(member: Member, pk: int) -> Meeting | None:
    meeting = _meeting_of(member, pk)
    return meeting if services.may_read(meeting, member) else None


@require_GET
def notes_print(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)

    def build() -> HttpResponse:
        meeting = _readable(member, pk)
        if meeting is None:
            return redirect(_notes_url(_meeting_of(member, pk)))
        context = {"meeting": meeting, "notes": services.notes_build(meeting)}
        return render_alliance(request, member, "meetings/notes_print.html", context)

    return cached_alliance_page(request, member, build)


@require_GET
def notes_markdown(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    # Kept like the notes' page (a kept copy keeps its file name).
    return cached_alliance_page(request, member, lambda: _notes_markdown(member, pk))


def _notes_markdown(member: Member, pk: int) -> HttpResponse:
    meeting = _readable(member, pk)
    if meeting is None:
        return redirect(_notes_url(_meeting_of(member, pk)))
    notes = services.notes_build(meeting)
    response = HttpResponse(services.notes_markdown(notes), content_type="text/markdown; charset=utf-8")
    day = meeting.starts_at.date().isoformat()
    response["Content-Disposition"] = f'inline; filename="{member.alliance.slug}-notes-{day}.md"'
    return response
