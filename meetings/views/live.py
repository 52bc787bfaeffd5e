"""The live run of show: the page every member follows, its polled state, the big screen, and the buttons.

Every viewer's page polls `live_state_fragment` about once a second (static/js/live.js) with the ETag it
last got, which is the meeting's revision: an unchanged meeting answers 304 after one query that checks
the membership and reads the revision together, so a member removed meanwhile gets 404 at once. A changed
meeting answers the fragment (templates/meetings/_live_state.html). The state lives in the database,
so any number of workers serve it and no worker is held per viewer. The live page and the big screen
are kept per reader by the page cache until the alliance's version moves (every run-of-show write
renews it); the changed fragment is built once per revision for every reader of the same kind (what they
may do, their language) and shared by them. Their clocks are moments that live.js counts from with the
server's clock, so a kept copy never shows an old time.

The facilitator's and stewards' buttons are plain POST forms that redirect back to the live page with a
message; live.js sends them with fetch instead (header `X-Live-Action`) and gets the message as JSON,
so that the note taker's text around them is never reloaded away. Each carries the step (or turn) the
page showed, so that a double click cannot move the meeting twice (meetings/run.py).
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliances import versions
from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page, render_alliance
from meetings import attendance, live, round_robins, run, steps
from meetings.live import LiveState
from meetings.models import Apology, Attendance, Meeting, Proposal, Reflection, RoundRobin, Stance
from meetings.services import MeetingError
from meetings.views.record import record_context
from roundtable.errors import DomainError
from roundtable.http import AuthenticatedHttpRequest

# The header live.js sends with a button's form: the answer is then JSON instead of a redirect.
ACTION_HEADER = "X-Live-Action"


def _get_meeting(member: Member, pk: int) -> Meeting:
    meetings = Meeting.objects.filter(alliance=member.alliance).select_related("facilitator__user", "note_taker__user")
    meeting = get_object_or_404(meetings, pk=pk)
    meeting.alliance = member.alliance
    return meeting


def clock(seconds: int | None) -> str:
    """Seconds as a clock ("4:05", "1:02:03"); a negative time (running over) gets a minus sign."""
    if seconds is None:
        return ""
    sign = "\u2212" if seconds < 0 else ""  # a minus sign, as wide as the digits
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02}:{secs:02}" if hours else f"{sign}{minutes}:{secs:02}"


@dataclass(frozen=True)
class StepRow:
    key: str
    title: str
    minutes: int
    is_current: bool
    is_done: bool


@dataclass(frozen=True)
class StanceCount:
    """The consensus check under way on the current decision item, counted for everyone to follow."""

    number: int
    outcome: str
    outcome_label: str
    agree: int
    stand_aside: int
    block: int
    present: int

    @property
    def recorded(self) -> int:
        return self.agree + self.stand_aside + self.block


def _step_title(step: steps.Step | None, run_steps: list[steps.Step]) -> str:
    """What the step is called for everyone: "Agenda item 2 — Library hours" or the segment's name."""
    if step is None:
        return ""
    if not step.is_item:
        return step.title
    number = [s.key for s in run_steps if s.is_item].index(step.key) + 1
    return _("Agenda item %(number)s — %(title)s") % {"number": number, "title": step.title}


def _stance_count(meeting: Meeting, step: steps.Step | None) -> StanceCount | None:
    """The latest proposal of the decision item the meeting is on, with its stances counted (2 queries)."""
    if step is None or not step.is_decision:
        return None
    proposal = (
        Proposal.objects.filter(item=step.item)
        .annotate(
            agree=Count("stances", filter=Q(stances__kind=Stance.Kind.AGREE)),
            stand_aside=Count("stances", filter=Q(stances__kind=Stance.Kind.STAND_ASIDE)),
            block=Count("stances", filter=Q(stances__kind=Stance.Kind.BLOCK)),
        )
        .order_by("-number")
        .first()
    )
    if proposal is None:
        return None
    present = Attendance.objects.filter(
        meeting=meeting, status=Attendance.Status.PRESENT, member__is_active=True
    ).count()
    return StanceCount(
        number=proposal.number,
        outcome=proposal.outcome,
        outcome_label=proposal.get_outcome_display(),
        agree=proposal.agree,
        stand_aside=proposal.stand_aside,
        block=proposal.block,
        present=present,
    )


def _controls(state: LiveState, *, can_drive: bool, speaking: bool) -> list[str]:
    """The groups of buttons this reader sees now (live.js shows and hides the same groups on each poll);
    `speaking`: the reader is the speaker of the round robin under way."""
    meeting = state.meeting
    shown = []
    round_robin_open = state.round_robin is not None
    if can_drive and meeting.status == Meeting.Status.SCHEDULED:
        shown.append("start")
    if can_drive and meeting.status == Meeting.Status.IN_PROGRESS:
        shown.append("steps")
        on_round_robin_step = state.step is not None and (state.step.is_item or state.step.key == steps.LAST)
        if round_robin_open:
            shown.append("round-robin")
        elif on_round_robin_step:
            shown.append("round-robin-start")
        if state.step is not None and state.step.key == steps.LAST and not round_robin_open:
            shown.append("end")
    if not can_drive and speaking:
        shown.append("my-turn")
    return shown


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moments(meeting: Meeting, state: LiveState) -> dict[str, int | None]:
    running = meeting.status == Meeting.Status.IN_PROGRESS
    step_since = meeting.step_started_at if running else None
    before = state.step_seconds
    if step_since is not None:
        before -= max(0, int((state.now - step_since).total_seconds()))
    remaining = state.turn_remaining_seconds
    return {
        "step_since": _ms(step_since) if step_since is not None else None,
        # The time spent on this step on earlier visits (the meeting went back to it).
        "step_before": before,
        "started_since": _ms(meeting.started_at) if running and meeting.started_at is not None else None,
        "turn_until": _ms(state.now) + remaining * 1000 if remaining is not None else None,
    }


def _speaking(state: LiveState, member: Member) -> bool:
    return state.speaker is not None and state.speaker.pk == member.pk


def _state_context(meeting: Meeting, state: LiveState, *, can_drive: bool, speaking: bool, screen: bool) -> dict:
    """What the polled fragment shows, and the data attributes live.js reads from it: nothing of the reader
    but what they may do (`can_drive`, and `speaking` for the speaker's own "pass my turn")."""
    title = _step_title(state.step, state.steps)
    here = state.step_index
    rows = [
        StepRow(
            key=step.key,
            title=_step_title(step, state.steps),
            minutes=step.minutes,
            is_current=here is not None and index == here,
            is_done=(here is not None and index < here) or meeting.status == Meeting.Status.ENDED,
        )
        for index, step in enumerate(state.steps)
    ]
    reflection = None
    if state.step is not None and state.step.key == "reflection":
        reflection = Reflection.objects.filter(meeting=meeting).first()
    stances = _stance_count(meeting, state.step)
    decision = state.latest_decision
    shown = _controls(state, can_drive=can_drive, speaking=speaking)
    status_sentences: dict[str, str] = {
        Meeting.Status.SCHEDULED: _("The meeting has not started yet."),
        Meeting.Status.IN_PROGRESS: _("The meeting has started."),
        Meeting.Status.ENDED: _("The meeting has ended."),
        Meeting.Status.CANCELLED: _("This meeting was cancelled."),
    }
    announce = {
        "status": status_sentences.get(meeting.status, ""),
        "step": _("Now: %(step)s") % {"step": title} if title else "",
        "speaker": (
            _("Speaking now: %(name)s.") % {"name": state.speaker.user.display_name}
            if state.speaker is not None
            else _("No round robin is going.")
        ),
        "stances": (
            _("Stances recorded: %(recorded)s of %(present)s.")
            % {"recorded": stances.recorded, "present": stances.present}
            if stances is not None
            else ""
        ),
        "decision": (
            _("Decision on %(item)s: %(text)s") % {"item": decision.item.title, "text": decision.text}
            if decision is not None
            else ""
        ),
    }
    return {
        "meeting": meeting,
        "state": state,
        "screen": screen,
        "step_title": title,
        "step_rows": rows,
        # The clocks as moments (milliseconds since the epoch): live.js counts from them with the server's
        # clock, so that a fragment or a page kept in the cache still shows the right times.
        **_moments(meeting, state),
        "step_clock": clock(state.step_seconds),
        "step_box_clock": clock(state.step_box_seconds),
        "step_over": state.step_box_seconds is not None and state.step_seconds > state.step_box_seconds,
        "elapsed_clock": clock(state.elapsed_seconds),
        "duration_clock": clock(state.duration_seconds),
        "turn_clock": clock(state.turn_remaining_seconds),
        "reflection": reflection,
        "stances": stances,
        "announce": announce,
        "controls": " ".join(shown),
        "control_groups": shown,
        "speaker_key": (
            f"{state.round_robin.pk}:{state.round_robin.current_position}" if state.round_robin is not None else ""
        ),
        "stances_key": f"{stances.number}:{stances.recorded}:{stances.outcome}" if stances is not None else "",
    }


@dataclass(frozen=True)
class AttendanceRow:
    member_id: int
    name: str
    status: str
    status_label: str
    late: bool


def _attendance_rows(meeting: Meeting) -> list[AttendanceRow]:
    """Every active member with their mark (three queries, whatever the alliance's size).

    Before the start, a member nobody has marked yet shows "excused" when they sent apologies, as the
    start will mark them (meetings/run.py).
    """
    marks = {
        row["member_id"]: row
        for row in Attendance.objects.filter(meeting=meeting).values("member_id", "status", "arrived_at")
    }
    excused = set()
    if meeting.status == Meeting.Status.SCHEDULED:
        excused = set(Apology.objects.filter(meeting=meeting).values_list("member_id", flat=True))
    members = (
        Member.objects.active()
        .filter(alliance_id=meeting.alliance_id)
        .select_related("user")
        .only("joined_at", "user__display_name")
        .order_by("joined_at", "pk")
    )
    labels = dict(Attendance.Status.choices)
    rows = []
    for member in members:
        mark = marks.get(member.pk)
        status = mark["status"] if mark else (Attendance.Status.EXCUSED if member.pk in excused else "")
        rows.append(
            AttendanceRow(
                member_id=member.pk,
                name=member.user.display_name,
                status=status,
                status_label=str(labels.get(status, _("not marked yet"))),
                late=bool(mark and mark["arrived_at"]),
            )
        )
    return rows


# --- Pages ------------------------------------------------------------------------------------------------


def live_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    # Kept for this reader until anything in the alliance changes: every write of the run of show renews
    # the alliance's version (run.bump), and the clocks count from moments (live.js), not from the page's age.
    return cached_alliance_page(request, member, lambda: _live_detail(request, member, pk))


def _live_detail(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _get_meeting(member, pk)
    state = live.live_state(meeting)
    can_drive = run.may_drive(meeting, member)
    can_mark = run.may_mark_attendance(meeting, member)
    context = {
        **_state_context(meeting, state, can_drive=can_drive, speaking=_speaking(state, member), screen=False),
        "can_drive": can_drive,
        "can_record": run.may_record(meeting, member),
        "can_mark_attendance": can_mark,
        "attendance_rows": _attendance_rows(meeting) if can_mark else [],
        "attendance_choices": Attendance.Status.choices,
        "live_urls": _urls(meeting),
        "max_turn_seconds": round_robins.MAX_TURN_SECONDS,
    }
    context.update(record_context(request, member, meeting, state))
    return render_alliance(request, member, "meetings/live.html", context)


def live_screen(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """For a shared screen in the room: the current step, speaker, countdown and latest decision, large."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _live_screen(request, member, pk))


def _live_screen(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _get_meeting(member, pk)
    state = live.live_state(meeting)
    context = {
        **_state_context(meeting, state, can_drive=False, speaking=False, screen=True),
        "alliance": member.alliance,
        "live_urls": _urls(meeting),
    }
    return render(request, "meetings/live_screen.html", context)


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _matches(request: HttpRequest, etag: str) -> bool:
    # A compressing proxy may have weakened the tag it passed on (W/"12"): the revision is what counts.
    sent = request.headers.get("If-None-Match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in sent.split(","))


def _no_cache(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache, private"
    return response


@require_GET
def live_state_fragment(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The polled state: 304 after one query when the revision is the one the page holds.

    That query checks the membership (active now: a member removed meanwhile gets 404 at once) and reads
    the revision, the alliance and what the reader may do at the meeting together. A changed meeting's
    fragment is then shared by every reader of the same kind (`_shared_state`).
    """
    reader = live.poll(meeting_pk=pk, slug=slug, user_id=request.user.pk)
    if reader is None:
        raise Http404
    # The revision read first: the fragment, built from a second read, is as new or newer, so the ETag
    # never claims more than the page got (at worst the next poll gets the same fragment again).
    etag = _etag(reader.revision)
    if _matches(request, etag):
        return _no_cache(HttpResponseNotModified(), etag)
    screen = request.GET.get("screen") == "1"
    return _no_cache(HttpResponse(_shared_state(request, slug, pk, reader, screen=screen)), etag)


# How long a shared fragment is kept: every viewer asks within a second or two of a change.
SHARED_STATE_SECONDS = 120


def _shared_state(request: HttpRequest, slug: str, pk: int, reader: live.Poll, *, screen: bool) -> str:
    """The changed fragment, built once per revision for every reader of the same kind.

    After a change every viewer asks for the new state within a second: built for each of them, 200
    followers cost 200 builds on the same workers that must answer them. What the fragment shows depends
    on the reader only through what they may do (drive the meeting, mark attendance) and whether they are
    the speaker, and on their language; it shows no local time (its clocks are moments that live.js counts
    from). So one copy serves every reader of a kind (the big screen is a kind), kept with the speaker it
    was built for: the speaker, who alone is offered "pass my turn", gets a copy of their own. The key
    holds the alliance's version (a role handed on) and the minute (as the page cache's keys do).
    """
    kind = "screen" if screen else f"drive={reader.may_drive}:mark={reader.may_mark_attendance}"
    key = ":".join(
        (
            "live-state",
            str(pk),
            str(reader.revision),
            versions.version_of(reader.alliance_id),
            kind,
            translation.get_language() or "",
            str(int(time.time() // 60)),
        )
    )
    kept = cache.get(key)
    if isinstance(kept, tuple) and len(kept) == 2:
        speaker_pk, content = kept
        if screen or reader.may_drive or speaker_pk != reader.member_pk:
            return content
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    state = live.live_state(meeting)
    speaker_pk = state.speaker.pk if state.speaker is not None else None
    shared = _render_state(member, meeting, state, reader, screen=screen, speaking=False)
    cache.set(key, (speaker_pk, shared), SHARED_STATE_SECONDS)
    if not screen and not reader.may_drive and speaker_pk == reader.member_pk:
        return _render_state(member, meeting, state, reader, screen=screen, speaking=True)
    return shared


def _render_state(
    member: Member, meeting: Meeting, state: LiveState, reader: live.Poll, *, screen: bool, speaking: bool
) -> str:
    """The fragment for a reader of this kind (rendered without the request: nothing of one reader's own
    request, such as a CSRF token, may go into a copy others get)."""
    can_drive = not screen and reader.may_drive
    context = _state_context(meeting, state, can_drive=can_drive, speaking=speaking, screen=screen)
    if not screen and reader.may_mark_attendance:
        # Only the marks and who arrived late: the attendance panel's rows (and their names) are on the page.
        marks = list(Attendance.objects.filter(meeting=meeting).values_list("member_id", "status", "arrived_at"))
        context["attendance_json"] = json.dumps({member_id: status for member_id, status, _at in marks})
        context["attendance_late_json"] = json.dumps([member_id for member_id, _status, at in marks if at])
    return render_to_string("meetings/_live_state.html", {**context, "alliance": member.alliance})


def _urls(meeting: Meeting) -> dict[str, str]:
    kwargs = {"slug": meeting.alliance.slug, "pk": meeting.pk}
    return {name: reverse(f"meetings:live_{name}", kwargs=kwargs) for name in URL_NAMES}


URL_NAMES = (
    "detail",
    "screen",
    "state",
    "start",
    "next_step",
    "previous_step",
    "end",
    "round_robin_start",
    "next_speaker",
    "pass",
    "round_robin_end",
    "attendance",
)


# --- Buttons -----------------------------------------------------------------------------------------------


def _respond(request: HttpRequest, meeting: Meeting, action: Callable[[], object], *, success: str) -> HttpResponse:
    """Run `action`; answer live.js with JSON, a plain form with a redirect back and a message."""
    try:
        action()
    except DomainError as error:
        ok, text = False, str(error)
    else:
        ok, text = True, success
    if request.headers.get(ACTION_HEADER):
        return JsonResponse({"ok": ok, "message": text}, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, text)
    return redirect("meetings:live_detail", slug=meeting.alliance.slug, pk=meeting.pk)


def _driver(request: HttpRequest, slug: str, pk: int) -> tuple[Member, Meeting]:
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    run.require_driver(meeting, member)
    return member, meeting


def _expected_step(request: HttpRequest) -> str | None:
    return request.POST.get("expected_step")


def _number(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise MeetingError(_("That is not a whole number.")) from None


@require_POST
def live_start(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)
    return _respond(
        request,
        meeting,
        lambda: run.start_meeting(meeting=meeting, by=member),
        success=_("The meeting has started. Take attendance as people arrive."),
    )


@require_POST
def live_next_step(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)
    return _respond(
        request,
        meeting,
        lambda: run.go_to_next_step(meeting=meeting, by=member, expected_step=_expected_step(request)),
        success=_("Moved to the next step."),
    )


@require_POST
def live_previous_step(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)
    return _respond(
        request,
        meeting,
        lambda: run.go_to_previous_step(meeting=meeting, by=member, expected_step=_expected_step(request)),
        success=_("Moved back to the previous step."),
    )


@require_POST
def live_end(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)
    return _respond(
        request,
        meeting,
        lambda: run.end_meeting(meeting=meeting, by=member, expected_step=_expected_step(request)),
        success=_("The meeting has ended. Thank you all."),
    )


@require_POST
def live_round_robin_start(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)

    def start() -> None:
        turn_seconds = _number(request, "turn_seconds")
        expected = _expected_step(request)
        if expected is not None and expected != meeting.current_step:
            raise MeetingError(_("The meeting has already moved on: look at the current step and try again."))
        item_pk = steps.item_pk(meeting.current_step)
        item = meeting.items.filter(pk=item_pk).first() if item_pk is not None else None
        round_robins.start_round_robin(
            meeting=meeting,
            by=member,
            item=item,
            evaluation=item is None and meeting.current_step == steps.LAST,
            turn_seconds=turn_seconds,
        )

    return _respond(request, meeting, start, success=_("The round robin has started."))


def _open_round_robin(request: HttpRequest, meeting: Meeting) -> RoundRobin:
    """The meeting's round robin under way, and the one the page showed (when it says which)."""
    round_robin = RoundRobin.objects.filter(meeting=meeting, ended_at__isnull=True).first()
    if round_robin is None:
        raise MeetingError(_("No round robin is going."))
    shown = _number(request, "round_robin")
    if shown is not None and shown != round_robin.pk:
        raise MeetingError(_("The round robin has already moved on to the next speaker."))
    return round_robin


@require_POST
def live_next_speaker(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)

    def advance() -> None:
        round_robins.next_speaker(
            round_robin=_open_round_robin(request, meeting),
            by=member,
            expected_position=_number(request, "expected_position"),
        )

    return _respond(request, meeting, advance, success=_("Next speaker."))


@require_POST
def live_pass(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The facilitator passes the turn for the speaker, or the speaker passes from their own device."""
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    if not run.may_drive(meeting, member):
        speaking = RoundRobin.objects.filter(
            meeting=meeting,
            ended_at__isnull=True,
            turns__member=member,
            turns__started_at__isnull=False,
            turns__ended_at__isnull=True,
        ).exists()
        if not speaking:
            raise PermissionDenied(_("Only the speaker, the facilitator and the stewards can pass a turn."))

    def pass_turn() -> None:
        round_robins.pass_turn(
            round_robin=_open_round_robin(request, meeting),
            by=member,
            expected_position=_number(request, "expected_position"),
        )

    return _respond(request, meeting, pass_turn, success=_("The turn was passed."))


@require_POST
def live_round_robin_end(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member, meeting = _driver(request, slug, pk)
    return _respond(
        request,
        meeting,
        lambda: round_robins.end_round_robin(round_robin=_open_round_robin(request, meeting), by=member),
        success=_("The round robin has ended."),
    )


@require_POST
def live_attendance(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Mark one member present, absent or excused: the button pressed says whom and what ("12:present")."""
    member = get_membership(request, slug)
    meeting = _get_meeting(member, pk)
    if not run.may_mark_attendance(meeting, member):
        raise PermissionDenied(_("Only the note taker, the facilitator and the stewards can take attendance."))
    who, _sep, status = request.POST.get("mark", "").partition(":")
    marked = (
        Member.objects.filter(alliance=member.alliance, pk=int(who)).select_related("user").first()
        if (who.isdigit())
        else None
    )

    def mark() -> None:
        if marked is None:
            raise MeetingError(_("Choose a member and whether they are present, absent or excused."))
        attendance.mark_attendance(meeting=meeting, member=marked, status=status, by=member)

    label = dict(Attendance.Status.choices).get(status, "")
    name = marked.user.display_name if marked is not None else ""
    return _respond(request, meeting, mark, success=_("%(name)s: %(status)s.") % {"name": name, "status": label})
