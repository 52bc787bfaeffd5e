"""Sending the agenda (facilitator or steward) and downloading the meeting's calendar event (members)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page
from meetings import calendar, sending
from meetings.models import Meeting
from meetings.views.agenda import _get_meeting
from roundtable.actions import attempt
from roundtable.http import AuthenticatedHttpRequest


@require_POST
def agenda_send(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _get_meeting(request, slug, pk, edit=True)
    attempt(
        request,
        lambda: sending.meeting_send_agenda(meeting=meeting, sent_by=member),
        success=_("The agenda is on its way to every member, with a calendar invitation."),
    )
    return redirect(meeting)


@require_GET
def agenda_ics(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The meeting as a calendar file to import (PUBLISH: no attendee, nobody is asked to reply)."""
    member = get_membership(request, slug)
    # Kept like the meeting's page (a kept copy keeps its file name).
    return cached_alliance_page(request, member, lambda: _agenda_ics(member, pk))


def _agenda_ics(member: Member, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        Meeting.objects.filter(alliance=member.alliance).select_related(
            "alliance", "facilitator__user", "note_taker__user"
        ),
        pk=pk,
    )
    response = HttpResponse(
        calendar.meeting_calendar(meeting=meeting, method=calendar.PUBLISH),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
