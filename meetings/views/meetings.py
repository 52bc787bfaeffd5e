"""The meetings of an alliance: list, schedule, meeting page, reschedule, cancel, apologies, turns, roles."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import time_zones
from alliances.access import get_membership
from alliances.models import Alliance, Member
from alliances.pages import cached_alliance_page, date_text, render_alliance, row_url
from meetings import agenda, rotation, sending, services
from meetings.forms import MeetingForm, SwapForm
from meetings.models import Apology, Meeting, Role, RoleTurnChange
from meetings.scheduling import next_slot, utc_to_local
from meetings.services import MeetingError
from meetings.views.decisions import search_text
from roundtable.actions import attempt
from roundtable.http import AuthenticatedHttpRequest

# The past meetings the list shows, newest first; older ones stay in the history of the roles page.
PAST_MEETINGS_SHOWN = 50


def _active_members(alliance: Alliance) -> list[Member]:
    # Only what the rotation, the member lists and the role checks read: a large alliance's whole users
    # (their timestamps parsed row by row) made the roles page of 400 slow (bench/RESULTS.md).
    members = (
        Member.objects.active()
        .filter(alliance=alliance)
        .select_related("user")
        .only("alliance_id", "is_active", "is_steward", "joined_at", "user_id", "user__display_name")
        .order_by("joined_at", "pk")
    )
    return list(members)


def _get_meeting(member: Member, pk: int) -> Meeting:
    meetings = Meeting.objects.filter(alliance=member.alliance).select_related("facilitator__user", "note_taker__user")
    meeting = get_object_or_404(meetings, pk=pk)
    meeting.alliance = member.alliance
    return meeting


def _require_editor(meeting: Meeting, member: Member) -> None:
    if not meeting.can_edit(member):
        raise PermissionDenied(_("Only the meeting's facilitator and the stewards can change the meeting."))


@dataclass(frozen=True)
class MeetingRow:
    url: str
    when: str
    facilitator: str
    note_taker: str
    is_cancelled: bool


def _rows(meetings: list[Meeting], *, slug: str) -> list[MeetingRow]:
    nobody = _("not chosen yet")
    url = row_url("meetings:meeting_detail", slug=slug)  # one reverse for the list (docs/performance.md)
    return [
        MeetingRow(
            url=url(meeting.pk),
            when=meeting.when_display,
            facilitator=meeting.facilitator.user.display_name if meeting.facilitator else nobody,
            note_taker=meeting.note_taker.user.display_name if meeting.note_taker else nobody,
            is_cancelled=meeting.is_cancelled,
        )
        for meeting in meetings
    ]


def meeting_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _meeting_list(request, member))


def _meeting_list(request: HttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    now = timezone.now()
    meetings = Meeting.objects.for_alliance(alliance).select_related("facilitator__user", "note_taker__user")
    # A cancelled meeting stays in the list, marked, so that nobody wonders where it went.
    # A meeting already started or held is past, even when it began before its scheduled time.
    held = [Meeting.Status.IN_PROGRESS, Meeting.Status.ENDED]
    upcoming = list(meetings.filter(starts_at__gte=now).exclude(status__in=held).order_by("starts_at"))
    past = list(meetings.past(now)[:PAST_MEETINGS_SHOWN])
    context = {
        "upcoming": _rows(upcoming, slug=alliance.slug),
        "past": _rows(past, slug=alliance.slug),
        "may_schedule": services.may_schedule(member),
    }
    return render_alliance(request, member, "meetings/meeting_list.html", context)


def _proposal(alliance: Alliance, members: list[Member], latest: Meeting | None) -> dict:
    """The form's first values: the next slot of the charter's cadence and the fairest member per role."""
    now = timezone.now()
    slot = next_slot(
        alliance=alliance,
        latest=latest.starts_at if latest else None,
        latest_duration=latest.duration_minutes if latest else None,
        now=now,
    )
    facilitator, note_taker = rotation.suggest_roles(candidates=members, turns=rotation.role_history(alliance=alliance))
    return {
        "date": slot.day,
        "start_time": slot.start,
        "duration_minutes": slot.duration_minutes,
        "venue_address": alliance.venue_address,
        "video_link": alliance.video_link,
        "facilitator": facilitator.pk if facilitator else None,
        "note_taker": note_taker.pk if note_taker else None,
    }


def meeting_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)
    # The empty form proposes the next slot and the fairest members: kept until the alliance changes (or
    # the minute does).
    return cached_alliance_page(request, member, lambda: _meeting_create(request, member))


def _meeting_create(request: HttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    latest = services.latest_meeting(alliance)
    if not services.may_schedule(member, latest=latest):
        raise PermissionDenied(_("Only a steward or the facilitator of the latest meeting can schedule a meeting."))
    members = _active_members(alliance)
    zone_label = time_zones.label(alliance.time_zone)
    if request.method == "POST":
        form = MeetingForm(request.POST, members=members, zone=alliance.time_zone, zone_label=zone_label)
    else:
        form = MeetingForm(
            initial=_proposal(alliance, members, latest),
            members=members,
            zone=alliance.time_zone,
            zone_label=zone_label,
        )
    if form.is_valid():
        try:
            meeting = services.meeting_schedule(alliance=alliance, by=member, **_meeting_fields(form))
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The meeting has been scheduled."))
            return redirect(meeting)
    context = {"form": form, "heading": _("Schedule the next meeting"), "submit": _("Schedule the meeting")}
    return render_alliance(request, member, "meetings/meeting_form.html", context)


def _meeting_fields(form: MeetingForm) -> dict:
    data = form.cleaned_data
    return {
        "starts_at": form.starts_at,
        "duration_minutes": data["duration_minutes"],
        "facilitator": data["facilitator"],
        "note_taker": data["note_taker"],
        "venue_address": data["venue_address"],
        "video_link": data["video_link"],
        "support_offered": data["support_offered"],
    }


def meeting_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    # The empty form shows the meeting and the members it may name: kept until the alliance changes (or the
    # minute does: a meeting that has started is refused, and that refusal, a redirect, is never kept).
    return cached_alliance_page(request, member, lambda: _meeting_edit(request, member, pk))


def _meeting_edit(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _get_meeting(member, pk)
    _require_editor(meeting, member)
    if meeting.is_cancelled or meeting.starts_at <= timezone.now():
        messages.error(request, _("Only an upcoming meeting can be changed."))
        return redirect(meeting)
    members = _active_members(member.alliance)
    local = utc_to_local(meeting.starts_at, meeting.time_zone)
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        initial={
            "date": local.date(),
            "start_time": local.time(),
            "duration_minutes": meeting.duration_minutes,
            "venue_address": meeting.venue_address,
            "video_link": meeting.video_link,
            "support_offered": meeting.support_offered,
            "facilitator": meeting.facilitator_id,
            "note_taker": meeting.note_taker_id,
        },
        members=members,
        zone=meeting.time_zone,
        zone_label=time_zones.label(meeting.time_zone),
    )
    if form.is_valid():
        try:
            services.meeting_reschedule(meeting=meeting, by=member, **_meeting_fields(form))
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The meeting has been changed."))
            return redirect(meeting)
    context = {"form": form, "meeting": meeting, "heading": _("Change the meeting"), "submit": _("Save the meeting")}
    return render_alliance(request, member, "meetings/meeting_form.html", context)


def _your_time(meeting: Meeting) -> str:
    """The start in the reader's own zone, when it is not the meeting's ("" when it is)."""
    if time_zones.canonical(timezone.get_current_timezone_name()) == time_zones.canonical(meeting.time_zone):
        return ""
    local = timezone.localtime(meeting.starts_at)
    if local.utcoffset() == meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)).utcoffset():
        return ""
    return formats.date_format(local, "DATETIME_FORMAT")


def meeting_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _meeting_detail(request, member, pk))


def _meeting_detail(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _get_meeting(member, pk)
    apologies = list(Apology.objects.filter(meeting=meeting).select_related("member__user").order_by("created_at"))
    changes = list(
        RoleTurnChange.objects.filter(meeting=meeting).select_related("from_member__user", "to_member__user")
    )
    is_upcoming = not meeting.is_cancelled and meeting.starts_at > timezone.now()
    holds_a_role = member.pk in (meeting.facilitator_id, meeting.note_taker_id)
    can_edit = meeting.can_edit(member)
    swap_form = None
    if is_upcoming and (can_edit or holds_a_role):
        swap_form = SwapForm(members=_active_members(member.alliance))
    context = {
        "meeting": meeting,
        "when": meeting.when_display,
        "your_time": _your_time(meeting),
        "apologies": apologies,
        "sent_apologies": any(a.member_id == member.pk for a in apologies),
        "changes": changes,
        "is_upcoming": is_upcoming,
        "can_edit": can_edit and is_upcoming,
        # The live run of show (meetings/views/live.py): its driver starts it from here or from the live page.
        "can_start": can_edit and meeting.status == Meeting.Status.SCHEDULED,
        "may_skip": {role: is_upcoming and _may_change_turn(meeting, role, member) for role in Role.values},
        "swap_form": swap_form,
        **agenda.agenda_context(meeting=meeting, member=member),
        **sending.sending_context(meeting=meeting, member=member),
    }
    return render_alliance(request, member, "meetings/meeting_detail.html", context)


@require_POST
def meeting_cancel(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    _require_editor(meeting, member)
    attempt(
        request,
        lambda: services.meeting_cancel(meeting=meeting, by=member),
        success=_("The meeting has been cancelled. Whoever got the agenda is told."),
    )
    return redirect(meeting)


@require_POST
def apology_send(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    attempt(
        request,
        lambda: services.apology_send(meeting=meeting, member=member),
        success=_("Your apologies have been sent."),
    )
    return redirect(meeting)


@require_POST
def apology_withdraw(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    attempt(
        request,
        lambda: services.apology_withdraw(meeting=meeting, member=member),
        success=_("Your apologies have been taken back."),
    )
    return redirect(meeting)


def _may_change_turn(meeting: Meeting, role: str, member: Member) -> bool:
    """The member whose turn it is, the facilitator and the stewards skip or swap a turn."""
    holder = meeting.holder(role)
    return holder is not None and (meeting.can_edit(member) or holder.pk == member.pk)


def _role(role: str) -> str:
    if role not in Role.values:
        raise Http404
    return role


@require_POST
def role_turn_skip(request: AuthenticatedHttpRequest, slug: str, pk: int, role: str) -> HttpResponse:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    role = _role(role)
    if not _may_change_turn(meeting, role, member):
        raise PermissionDenied
    attempt(
        request,
        lambda: services.role_turn_skip(meeting=meeting, role=role, by=member),
        success=_("The turn has passed to the next member in the rotation; it stays theirs next time."),
    )
    return redirect(meeting)


@require_POST
def role_turn_swap(request: AuthenticatedHttpRequest, slug: str, pk: int, role: str) -> HttpResponse:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    role = _role(role)
    if not _may_change_turn(meeting, role, member):
        raise PermissionDenied
    form = SwapForm(request.POST, members=_active_members(member.alliance))
    if not form.is_valid():
        messages.error(request, _("Choose an active member of the alliance."))
        return redirect(meeting)
    attempt(
        request,
        lambda: services.role_turn_swap(
            meeting=meeting, role=role, with_member=form.cleaned_data["with_member"], by=member
        ),
        success=_("The turns have been swapped."),
    )
    return redirect(meeting)


@dataclass(frozen=True)
class RoleRow:
    name: str
    is_reader: bool
    # Text, ready to print: the template would localise each of 2,000 values on a page of 400 members.
    facilitator_count: str
    facilitator_last: str
    note_taker_count: str
    note_taker_last: str


def _last(moment: datetime | None, never: str) -> str:
    return date_text(moment) if moment else never


# A large alliance's rotation is 400 lines: what a member wants is who comes next, where they stand, and
# anyone's line on request (a search), so the table shows 50 a page like the members page.
ROLES_PER_PAGE = 50
NEXT_IN_LINE = 3


def roles(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Who is next in line for each role, the reader's place, and everyone's counts, 50 a page."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _roles(request, member))


def _roles(request: HttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    members = _active_members(alliance)
    turns = rotation.role_history(alliance=alliance)
    facilitators = rotation.in_turn(members=members, turns=turns, role=Role.FACILITATOR)
    note_takers = rotation.in_turn(members=members, turns=turns, role=Role.NOTE_TAKER)
    query = search_text(request)
    listed = [m for m in members if query.casefold() in m.user.display_name.casefold()] if query else members
    # The active members are loaded whole for the line anyway: the page is cut from that list, no query.
    page = Paginator(listed, ROLES_PER_PAGE).get_page(request.GET.get("page"))
    standings = rotation.role_standings(members=list(page.object_list), turns=turns)
    never = _("never")
    rows = [
        RoleRow(
            name=s.member.user.display_name,
            is_reader=s.member.pk == member.pk,
            facilitator_count=str(s.facilitator.count),
            facilitator_last=_last(s.facilitator.last, never),
            note_taker_count=str(s.note_taker.count),
            note_taker_last=_last(s.note_taker.last, never),
        )
        for s in standings
    ]

    def place(line: list[Member]) -> int:
        return next(number for number, m in enumerate(line, 1) if m.pk == member.pk)

    changes = list(
        RoleTurnChange.objects.filter(meeting__alliance=alliance)
        .select_related("meeting", "from_member__user", "to_member__user")
        .order_by("-changed_at", "-pk")[:20]
    )
    context = {
        "rows": rows,
        "page": page,
        "query": query,
        "next_facilitators": [m.user.display_name for m in facilitators[:NEXT_IN_LINE]],
        "next_note_takers": [m.user.display_name for m in note_takers[:NEXT_IN_LINE]],
        "reader_place": _(
            "You are number %(facilitator)s of %(count)s in line to facilitate, "
            "and number %(note_taker)s to take notes."
        )
        % {"facilitator": place(facilitators), "note_taker": place(note_takers), "count": len(members)},
        "changes": changes,
    }
    return render_alliance(request, member, "meetings/roles.html", context)
