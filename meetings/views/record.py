"""What can be recorded at the live meeting's current step, and the endpoints that record it.

The live page (meetings/views/live.py) includes `templates/meetings/_record_step.html` outside its polled
region, with `record_context()`. static/js/autosave.js refreshes that part when the meeting's revision
moves (the live page's `live:changed` event) by fetching `record_step`, and keeps every field that has
focus or unsaved text as it is: nothing typed is ever reloaded away.

The texts typed live (a turn's thought, a takeaway, an item's discussion, an open proposal's text) are
autosaved: each save sends the text and the version of the record the page started from; a save made on
a stale version answers 409 with both texts and a merge form (meetings/texts.py), never a silent
overwrite. The other actions (proposal, stance, check, deferral, to-dos, next meeting) are forms.

Every endpoint answers a request from the page's script (`HX-Request`) with a fragment, and a plain form
post with a redirect back to the live page (or, when something must be corrected, the page again with
the error on the form), so that everything works without JavaScript.

Who may is the services' rule, checked here first as well so that every refusal is a clear 403:
texts are the facilitator's and the note taker's (a takeaway also its member's own); proposals, the
check and deferral also the stewards'; a stance is each present member's own, or anyone's for the note
taker and the facilitator; to-dos are the facilitator's, the note taker's and the stewards'.
"""

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import time_zones
from alliances import versions
from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page, render_alliance
from meetings import consensus, live, rotation, run, services, steps, texts
from meetings.consensus import Review
from meetings.forms import MeetingForm
from meetings.live import LiveState
from meetings.models import AgendaItem, Attendance, Meeting, Proposal, RoundRobin, Segment, Stance, Turn
from meetings.next_meeting import next_meeting_schedule
from meetings.record_forms import (
    RATING_CHOICES,
    ProposalForm,
    StanceForm,
    TakeawayForm,
    TextForm,
    TodoCorrectForm,
    TodoForm,
)
from meetings.scheduling import next_slot
from meetings.texts import TextConflict
from roundtable.errors import DomainError
from roundtable.http import AuthenticatedHttpRequest
from tasks import services as todos
from tasks.models import Todo
from tasks.services import TodoConflict

# The response header that gives the autosave script the record's version after a save or a conflict.
VERSION_HEADER = "X-Record-Version"


# --- What the page shows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextField:
    """One autosaved text: its DOM id, its key in the browser's storage, where it is saved, what it holds."""

    id: str
    key: str
    url: str
    label: str
    text: str
    version: int
    rows: int = 3
    is_takeaway: bool = False
    rating: int | None = None


@dataclass(frozen=True)
class TurnRow:
    name: str
    position: int
    is_current: bool
    passed: bool
    thought: str
    rating: int | None
    # None when the reader may only read it.
    field: TextField | None


@dataclass(frozen=True)
class StanceRow:
    name: str
    kind: str
    label: str
    reason: str


@dataclass(frozen=True)
class ProposalRow:
    proposal: Proposal
    outcome_label: str
    stances: list[StanceRow]
    # The open proposal's text, autosaved while nobody has taken a stance on it.
    field: TextField | None


@dataclass
class ConsensusPart:
    proposals: list[ProposalRow]
    open: Proposal | None
    # The proposal that reached consensus: the decision's text is its text (meetings/consensus.py).
    decision: Proposal | None
    deferred: bool
    present: list[str]
    missing: list[str]
    # The forms the reader may use (None: not theirs, or not now).
    write_form: ProposalForm | None = None
    amending: Proposal | None = None
    own_form: StanceForm | None = None
    own_stance: StanceRow | None = None
    others_form: StanceForm | None = None
    can_check: bool = False
    can_defer: bool = False
    not_present: bool = False


@dataclass(frozen=True)
class TodoRow:
    todo: Todo
    owner: str
    due: date
    correct_form: TodoCorrectForm | None = None


@dataclass
class ItemPart:
    item: AgendaItem
    round_robin: RoundRobin | None
    turns: list[TurnRow]
    discussion: TextField | None
    consensus: ConsensusPart | None
    todos: list[TodoRow]
    todo_form: TodoForm | None


@dataclass
class Recording:
    """Everything `_record_step.html` shows for the current step."""

    kind: str
    revision: int
    url: str
    live_url: str
    step_title: str = ""
    notice: str = ""
    notice_is_error: bool = False
    item: ItemPart | None = None
    review: Review | None = None
    review_todos: list[TodoRow] = field(default_factory=list)
    next_meeting: Meeting | None = None
    next_form: MeetingForm | None = None
    may_schedule: bool = False
    evaluation: list[TurnRow] = field(default_factory=list)
    evaluation_started: bool = False
    rating_choices: list[tuple[str, Any]] = field(default_factory=list)


def _name(member: Member) -> str:
    return member.user.display_name


def _urls(meeting: Meeting) -> tuple[str, str]:
    kwargs = {"slug": meeting.alliance.slug, "pk": meeting.pk}
    return reverse("meetings:record_step", kwargs=kwargs), reverse("meetings:live_detail", kwargs=kwargs)


def _url(name: str, meeting: Meeting, **kwargs: int) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": meeting.alliance.slug, "pk": meeting.pk, **kwargs})


def _active_members(meeting: Meeting) -> list[Member]:
    members = Member.objects.active().filter(alliance_id=meeting.alliance_id).select_related("user")
    return list(members.order_by("joined_at", "pk"))


def _may_record(meeting: Meeting, member: Member) -> bool:
    return run.may_record(meeting, member)


def _may_run_check(meeting: Meeting, member: Member) -> bool:
    return run.may_record(meeting, member) or run.may_drive(meeting, member)


def _turn_field(meeting: Meeting, turn: Turn, *, takeaway: bool) -> TextField:
    name = "turn_takeaway_save" if takeaway else "turn_thought_save"
    label = _("Takeaway of %(name)s") if takeaway else _("What %(name)s said")
    return TextField(
        id=f"record-turn-{turn.pk}",
        key=f"m{meeting.pk}:turn-{turn.pk}:thought",
        url=_url(name, meeting, turn=turn.pk),
        label=label % {"name": _name(turn.member)},
        text=turn.thought,
        version=turn.version,
        rows=2,
        is_takeaway=takeaway,
        rating=turn.rating,
    )


def _turn_rows(meeting: Meeting, member: Member, round_robin: RoundRobin | None) -> list[TurnRow]:
    if round_robin is None:
        return []
    may_record = _may_record(meeting, member)
    turns = Turn.objects.filter(round_robin=round_robin).select_related("member__user").order_by("position")
    rows = []
    for turn in turns:
        own = round_robin.is_evaluation and turn.member_id == member.pk
        writable = (may_record or own) and not turn.passed
        rows.append(
            TurnRow(
                name=_name(turn.member),
                position=turn.position + 1,
                is_current=round_robin.is_open and turn.position == round_robin.current_position,
                passed=turn.passed,
                thought=turn.thought,
                rating=turn.rating,
                field=_turn_field(meeting, turn, takeaway=round_robin.is_evaluation) if writable else None,
            )
        )
    # The reader's own takeaway first: on a phone, it is what they came to write.
    if round_robin.is_evaluation and not may_record:
        rows.sort(key=lambda row: row.field is None)
    return rows


def _stance_row(stance: Stance) -> StanceRow:
    return StanceRow(_name(stance.member), stance.kind, str(stance.get_kind_display()), stance.reason)


def _proposals(item: AgendaItem) -> list[Proposal]:
    """Every version put to the check on the item, with its stances, in two queries."""
    stances = Stance.objects.select_related("member__user").order_by("member__joined_at", "member_id")
    proposals = Proposal.objects.filter(item=item).order_by("number")
    return list(proposals.prefetch_related(Prefetch("stances", queryset=stances)))


def _consensus(
    meeting: Meeting,
    member: Member,
    item: AgendaItem,
    proposals: list[Proposal],
    present: list[Member],
    bound: dict[str, Form],
) -> ConsensusPart:
    decision = next((p for p in proposals if p.outcome == Proposal.Outcome.CONSENSUS), None)
    open_proposal = next((p for p in proposals if p.outcome == Proposal.Outcome.OPEN), None)
    may_record = _may_record(meeting, member)
    rows = []
    for proposal in proposals:
        editable = proposal is open_proposal and may_record and not proposal.stances.all()
        text_field = None
        if editable:
            text_field = TextField(
                id=f"record-proposal-{proposal.pk}",
                key=f"m{meeting.pk}:proposal-{proposal.pk}:text",
                url=_url("proposal_text_save", meeting, proposal=proposal.pk),
                label=_("Text of the proposal (version %(number)s)") % {"number": proposal.number},
                text=proposal.text,
                version=proposal.version,
                rows=3,
            )
        rows.append(
            ProposalRow(
                proposal=proposal,
                outcome_label=str(proposal.get_outcome_display()),
                stances=[_stance_row(s) for s in proposal.stances.all()],
                field=text_field,
            )
        )
    taken = {s.member_id for s in open_proposal.stances.all()} if open_proposal else set()
    part = ConsensusPart(
        proposals=rows,
        open=open_proposal,
        decision=decision,
        deferred=item.deferred_at is not None,
        present=[_name(m) for m in present],
        missing=[_name(m) for m in present if m.pk not in taken] if open_proposal else [],
    )
    undecided = decision is None and item.deferred_at is None and meeting.is_in_progress
    may_run = _may_run_check(meeting, member)
    if undecided and may_run and open_proposal is None:
        latest = proposals[-1] if proposals else None
        part.amending = latest
        initial = {"text": latest.text} if latest else None
        part.write_form = bound.get("proposal") or ProposalForm(initial=initial)  # type: ignore[assignment]
    if undecided and open_proposal is not None:
        is_present = any(m.pk == member.pk for m in present)
        own = next((s for s in open_proposal.stances.all() if s.member_id == member.pk), None)
        part.own_stance = _stance_row(own) if own else None
        part.not_present = not is_present
        if is_present:
            part.own_form = bound.get("stance") or StanceForm(members=[], for_others=False)  # type: ignore[assignment]
        if may_record:
            part.others_form = bound.get("stance-others") or StanceForm(members=present, for_others=True)  # type: ignore[assignment]
        part.can_check = may_run
    part.can_defer = undecided and may_run
    return part


def _todo_rows(meeting: Meeting, member: Member, todos_: list[Todo], bound: dict[str, Form], members: list[Member]):
    rows = []
    for todo in todos_:
        form = None
        if members and todos.may_change(todo, member, note_taker_id=meeting.note_taker_id):
            key = f"todo-{todo.pk}"
            initial = {"text": todo.text, "owner": todo.owner_id, "due_on": todo.due_on, "version": todo.version}
            form = bound.get(key) or TodoCorrectForm(initial=initial, members=members, prefix=key)
        rows.append(TodoRow(todo=todo, owner=_name(todo.owner), due=todo.due_on, correct_form=form))  # type: ignore[arg-type]
    return rows


def _item_part(meeting: Meeting, member: Member, item: AgendaItem, bound: dict[str, Form]) -> ItemPart:
    may_record = _may_record(meeting, member)
    may_run = _may_run_check(meeting, member)
    round_robin = RoundRobin.objects.filter(meeting=meeting, item=item).order_by("-started_at", "-pk").first()
    discussion = None
    if may_record:
        discussion = TextField(
            id=f"record-item-{item.pk}-discussion",
            key=f"m{meeting.pk}:item-{item.pk}:discussion",
            url=_url("item_discussion_save", meeting, item=item.pk),
            label=_("Discussion notes"),
            text=item.discussion,
            version=item.discussion_version,
            rows=5,
        )
    present = list(
        Member.objects.filter(attendance__meeting=meeting, attendance__status=Attendance.Status.PRESENT, is_active=True)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    proposals = _proposals(item)
    part_consensus = None
    if item.kind == AgendaItem.Kind.DECISION or proposals or item.deferred_at is not None:
        part_consensus = _consensus(meeting, member, item, proposals, present, bound)
    todo_list = list(Todo.objects.filter(item=item).select_related("owner__user").order_by("created_at", "pk"))
    todo_form = None
    if may_run and meeting.is_in_progress:
        members = _active_members(meeting)
        due = todos.default_due_on(alliance=meeting.alliance, meeting=meeting)
        bound_form = bound.get(f"todo-new-{item.pk}")
        todo_form = (
            bound_form
            if isinstance(bound_form, TodoForm)
            else TodoForm(initial={"due_on": due}, members=members, prefix=f"todo-new-{item.pk}")
        )
    return ItemPart(
        item=item,
        round_robin=round_robin,
        turns=_turn_rows(meeting, member, round_robin),
        discussion=discussion,
        consensus=part_consensus,
        todos=[TodoRow(todo=t, owner=_name(t.owner), due=t.due_on) for t in todo_list],
        todo_form=todo_form,
    )


def _next_proposal(meeting: Meeting, members: list[Member]) -> dict[str, Any]:
    """The form's first values: the charter's next slot after this meeting and the rotation's suggestions."""
    alliance = meeting.alliance
    slot = next_slot(
        alliance=alliance, latest=meeting.starts_at, latest_duration=meeting.duration_minutes, now=timezone.now()
    )
    facilitator, note_taker = rotation.suggest_roles(candidates=members, turns=rotation.role_history(alliance=alliance))
    return {
        "date": slot.day,
        "start_time": slot.start,
        "duration_minutes": slot.duration_minutes,
        "venue_address": meeting.venue_address or alliance.venue_address,
        "video_link": meeting.video_link or alliance.video_link,
        "facilitator": facilitator.pk if facilitator else None,
        "note_taker": note_taker.pk if note_taker else None,
    }


def _next_form(meeting: Meeting, members: list[Member], data: Any = None) -> MeetingForm:
    alliance = meeting.alliance
    return MeetingForm(
        data,
        initial=None if data is not None else _next_proposal(meeting, members),
        members=members,
        zone=alliance.time_zone,
        zone_label=time_zones.label(alliance.time_zone),
        prefix="next",
    )


def _fill_next_meeting(recording: Recording, meeting: Meeting, member: Member, bound: dict[str, Form]) -> None:
    if meeting.next_meeting_id is not None:
        recording.next_meeting = (
            Meeting.objects.filter(pk=meeting.next_meeting_id)
            .select_related("facilitator__user", "note_taker__user")
            .first()
        )
        return
    recording.may_schedule = services.may_schedule(member)
    if recording.may_schedule:
        form = bound.get("next")
        recording.next_form = form if isinstance(form, MeetingForm) else _next_form(meeting, _active_members(meeting))


def _fill_review(recording: Recording, meeting: Meeting, member: Member, bound: dict[str, Form]) -> None:
    recording.review = consensus.review(meeting)
    may_correct = any(todos.may_change(t, member, note_taker_id=meeting.note_taker_id) for t in recording.review.todos)
    members = _active_members(meeting) if may_correct else []
    recording.review_todos = _todo_rows(meeting, member, recording.review.todos, bound, members)


def _recording(
    member: Member,
    meeting: Meeting,
    step: steps.Step | None,
    *,
    bound: dict[str, Form] | None = None,
    notice: str = "",
) -> Recording:
    bound = bound or {}
    url, live_url = _urls(meeting)
    recording = Recording(kind="", revision=meeting.revision, url=url, live_url=live_url, notice=notice)
    if step is None:
        return recording
    recording.step_title = step.title
    if step.item is not None:
        recording.kind = "item"
        recording.item = _item_part(meeting, member, step.item, bound)
    elif step.kind == Segment.DECISIONS_REVIEW:
        recording.kind = "review"
        _fill_review(recording, meeting, member, bound)
    elif step.kind == Segment.NEXT_MEETING:
        recording.kind = "next_meeting"
        _fill_next_meeting(recording, meeting, member, bound)
    elif step.kind == Segment.EVALUATION:
        recording.kind = "evaluation"
        round_robin = (
            RoundRobin.objects.filter(meeting=meeting, is_evaluation=True).order_by("-started_at", "-pk").first()
        )
        recording.evaluation_started = round_robin is not None
        recording.evaluation = _turn_rows(meeting, member, round_robin)
        recording.rating_choices = RATING_CHOICES
    return recording


def record_context(request: HttpRequest, member: Member, meeting: Meeting, state: LiveState) -> dict:
    """What the live page needs to include `meetings/_record_step.html` (keys all start with `record`)."""
    return {"record": _recording(member, meeting, state.step)}


def _current_step(meeting: Meeting) -> steps.Step | None:
    """The step the meeting is on, in two queries (the live state's other reads are not needed here)."""
    if meeting.status != Meeting.Status.IN_PROGRESS or not meeting.current_step:
        return None
    run_steps = steps.for_meeting(meeting)
    return run_steps[steps.index_of(run_steps, meeting.current_step)]


# --- Answers ---------------------------------------------------------------------------------------------


def _get(request: AuthenticatedHttpRequest, slug: str, pk: int) -> tuple[Member, Meeting]:
    member = get_membership(request, slug)
    return member, _meeting_of(member, pk)


def _meeting_of(member: Member, pk: int) -> Meeting:
    meetings = Meeting.objects.filter(alliance=member.alliance).select_related("facilitator__user", "note_taker__user")
    meeting = get_object_or_404(meetings, pk=pk)
    meeting.alliance = member.alliance
    return meeting


def _step_response(
    request: AuthenticatedHttpRequest,
    member: Member,
    meeting: Meeting,
    *,
    bound: dict[str, Form] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The current step's recording part: a fragment for the page's script, else the page around it."""
    # Read again: the service just changed the meeting (its revision, maybe its step).
    member, meeting = _get(request, member.alliance.slug, meeting.pk)
    recording = _recording(member, meeting, _current_step(meeting), bound=bound, notice=notice)
    recording.notice_is_error = bool(notice) and status >= 400
    context = {"meeting": meeting, "record": recording}
    if request.htmx:
        return render(
            request,
            "meetings/_record_step.html",
            {**context, "alliance": member.alliance, "member": member},
            status=status,
        )
    return render_alliance(request, member, "meetings/_record_page.html", context)


def _done(request: AuthenticatedHttpRequest, member: Member, meeting: Meeting, notice: str) -> HttpResponse:
    if request.htmx:
        return _step_response(request, member, meeting, notice=notice)
    messages.success(request, notice)
    return redirect("meetings:live_detail", slug=member.alliance.slug, pk=meeting.pk)


def _refused(
    request: AuthenticatedHttpRequest, member: Member, meeting: Meeting, bound: dict[str, Form]
) -> HttpResponse:
    """The step again with the form's errors: 422 to the script, the page (200) to a plain post."""
    return _step_response(request, member, meeting, bound=bound, status=422 if request.htmx else 200)


def _error(request: AuthenticatedHttpRequest, member: Member, meeting: Meeting, error: DomainError) -> HttpResponse:
    """A refusal that belongs to no field (the check is over, nobody present…)."""
    if request.htmx:
        return _step_response(request, member, meeting, notice=str(error), status=422)
    messages.error(request, str(error))
    return redirect("meetings:live_detail", slug=member.alliance.slug, pk=meeting.pk)


@require_GET
def record_step(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The recording part of the current step, for the page's script to merge in when the meeting moved.

    Every viewer's page asks for it within a second or two of each change: a bystander's part (`_bystander`)
    is built once per revision and language and shared; anyone else's is built for them.
    """
    reader = live.part_reader(meeting_pk=pk, slug=slug, user_id=request.user.pk)
    if reader is None:
        raise Http404
    if _bystander(reader):
        response = HttpResponse(_shared_part(request, slug, pk, reader.poll))
    else:
        member, meeting = _get(request, slug, pk)
        context = {
            "alliance": member.alliance,
            "member": member,
            "meeting": meeting,
            "record": _recording(member, meeting, _current_step(meeting)),
        }
        response = render(request, "meetings/_record_step.html", context)
    response["Cache-Control"] = "no-store"
    return response


# Steps whose recording part shows a bystander nothing of their own: the opening segments show only the
# step, an item its round robin, stances and to-dos; the closing round its takeaways (a member's own turn
# there is theirs to write). The review (to-dos their owners may correct) and the next meeting's form
# (whoever may schedule) are always built for the reader.
_SHAREABLE_STEPS = {kind.value for kind in Segment} - {Segment.DECISIONS_REVIEW.value, Segment.NEXT_MEETING.value}

# How long a bystanders' part is kept: every viewer asks within a second or two of a change.
SHARED_PART_SECONDS = 120


def _bystander(reader: live.PartReader) -> bool:
    """Whether the reader's part of the current step is every bystander's.

    A bystander holds no role at the meeting (facilitator, note taker, steward: their part has the forms)
    and takes no part in it: not marked present (no stance form), no stance (theirs is shown to them) and no
    turn (their takeaway is theirs to write, even once gone). To-dos are listed alike for everyone but on
    the review, which is never shared.
    """
    if reader.poll.may_drive or reader.poll.may_mark_attendance or reader.takes_part:
        return False
    key = reader.current_step if reader.status == Meeting.Status.IN_PROGRESS else ""
    return not key or steps.item_pk(key) is not None or key in _SHAREABLE_STEPS


def _shared_part(request: AuthenticatedHttpRequest, slug: str, pk: int, reader: live.Poll) -> str:
    """The bystanders' part of this revision of the meeting, in the reader's language, built by the first.

    Built for a stand-in member who holds no role and takes no part, so that what is kept is the same
    whoever builds it (even one marked present meanwhile), and rendered without the request: nothing of
    one reader's request (a CSRF token) may go into what others get; a bystander's part has no form. It
    shows no local time (to-dos show their due day). The key holds the alliance's version and the minute,
    as the page cache's keys do.
    """
    key = ":".join(
        (
            "record-step",
            str(pk),
            str(reader.revision),
            versions.version_of(reader.alliance_id),
            translation.get_language() or "",
            str(int(time.time() // 60)),
        )
    )
    content = cache.get(key)
    if not isinstance(content, str):
        member, meeting = _get(request, slug, pk)
        # pk 0: no membership has it, so it is nobody's facilitator, note taker, stance, turn or to-do.
        bystander = Member(pk=0, alliance=member.alliance, is_active=True, is_steward=False)
        context = {
            "alliance": member.alliance,
            "member": bystander,
            "meeting": meeting,
            "record": _recording(bystander, meeting, _current_step(meeting)),
        }
        content = render_to_string("meetings/_record_step.html", context)
        cache.set(key, content, SHARED_PART_SECONDS)
    return content


# --- Autosaved texts --------------------------------------------------------------------------------------


def _text_saved(request: AuthenticatedHttpRequest, meeting: Meeting, version: int) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(_("Saved"), content_type="text/plain; charset=utf-8")
        response[VERSION_HEADER] = str(version)
        return response
    messages.success(request, _("Saved."))
    return redirect("meetings:live_detail", slug=meeting.alliance.slug, pk=meeting.pk)


def _text_refused(request: AuthenticatedHttpRequest, meeting: Meeting, message: str) -> HttpResponse:
    if request.htmx:
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return redirect("meetings:live_detail", slug=meeting.alliance.slug, pk=meeting.pk)


def _text_forbidden(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    """403: the page's script shows the reason beside the field; a plain post gets the 403 page."""
    if request.htmx:
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    raise PermissionDenied(message)


def _conflict(
    request: AuthenticatedHttpRequest,
    member: Member,
    meeting: Meeting,
    text_field: TextField,
    conflict: TextConflict,
    rating: str | None = None,
) -> HttpResponse:
    """409: both texts, and a form to save the merged one against the version stored now."""
    theirs = conflict.theirs
    context = {
        "alliance": member.alliance,
        "member": member,
        "meeting": meeting,
        "field": text_field,
        "theirs": theirs,
        "yours": conflict.yours,
        "version": conflict.version,
        "rating": rating,
        "message": str(conflict),
    }
    if request.htmx:
        response = render(request, "meetings/_record_conflict.html", context, status=409)
    else:
        context["record_live_url"] = _urls(meeting)[1]
        response = render_alliance(request, member, "meetings/_record_merge_page.html", context, status=409)
    response[VERSION_HEADER] = str(conflict.version)
    return response


def _save_text(
    request: AuthenticatedHttpRequest,
    member: Member,
    meeting: Meeting,
    text_field: TextField,
    save: Any,
    *,
    field_name: str,
    form_class: type[TextForm] = TextForm,
) -> HttpResponse:
    form = form_class(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _text_refused(request, meeting, message or _("The text could not be read: reload the page."))
    try:
        stored = save(form)
    except TextConflict as conflict:
        rating = request.POST.get("rating") if "rating" in request.POST else None
        return _conflict(request, member, meeting, text_field, conflict, rating)
    except DomainError as error:
        return _text_refused(request, meeting, str(error))
    except PermissionDenied as error:  # a role handed on since the check above
        return _text_forbidden(request, str(error))
    return _text_saved(request, meeting, getattr(stored, texts.version_field(stored, field_name)))


def _get_turn(meeting: Meeting, pk: int) -> Turn:
    turns = Turn.objects.filter(round_robin__meeting=meeting).select_related("round_robin", "member__user")
    return get_object_or_404(turns, pk=pk)


@require_POST
def turn_thought_save(request: AuthenticatedHttpRequest, slug: str, pk: int, turn: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    the_turn = _get_turn(meeting, turn)
    if not _may_record(meeting, member):
        return _text_forbidden(request, _("Only the meeting's facilitator and note taker can record this."))
    return _save_text(
        request,
        member,
        meeting,
        _turn_field(meeting, the_turn, takeaway=False),
        lambda form: texts.record_thought(
            turn=the_turn, text=form.cleaned_data["text"], expected_version=form.cleaned_data["version"], by=member
        ),
        field_name="thought",
    )


@require_POST
def turn_takeaway_save(request: AuthenticatedHttpRequest, slug: str, pk: int, turn: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    the_turn = _get_turn(meeting, turn)
    if not (_may_record(meeting, member) or the_turn.member_id == member.pk):
        return _text_forbidden(
            request, _("Each member records their own takeaway; the note taker can record anyone's.")
        )

    def save(form: TakeawayForm) -> Turn:
        data = form.cleaned_data
        rating = form.rating_value()
        if rating == "keep":
            return texts.record_takeaway(turn=the_turn, text=data["text"], expected_version=data["version"], by=member)
        return texts.record_takeaway(
            turn=the_turn,
            text=data["text"],
            expected_version=data["version"],
            by=member,
            rating=rating,  # type: ignore[arg-type]
        )

    text_field = _turn_field(meeting, the_turn, takeaway=True)
    return _save_text(request, member, meeting, text_field, save, field_name="thought", form_class=TakeawayForm)


def _get_item(meeting: Meeting, pk: int) -> AgendaItem:
    item = get_object_or_404(AgendaItem.objects.filter(meeting=meeting, status=AgendaItem.Status.ACCEPTED), pk=pk)
    item.meeting = meeting
    return item


@require_POST
def item_discussion_save(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    agenda_item = _get_item(meeting, item)
    if not _may_record(meeting, member):
        return _text_forbidden(request, _("Only the meeting's facilitator and note taker can record this."))
    text_field = TextField(
        id=f"record-item-{agenda_item.pk}-discussion",
        key=f"m{meeting.pk}:item-{agenda_item.pk}:discussion",
        url=_url("item_discussion_save", meeting, item=agenda_item.pk),
        label=_("Discussion notes"),
        text=agenda_item.discussion,
        version=agenda_item.discussion_version,
    )
    return _save_text(
        request,
        member,
        meeting,
        text_field,
        lambda form: texts.record_discussion(
            item=agenda_item, text=form.cleaned_data["text"], expected_version=form.cleaned_data["version"], by=member
        ),
        field_name="discussion",
    )


def _get_proposal(meeting: Meeting, pk: int) -> Proposal:
    return get_object_or_404(Proposal.objects.filter(item__meeting=meeting).select_related("item"), pk=pk)


@require_POST
def proposal_text_save(request: AuthenticatedHttpRequest, slug: str, pk: int, proposal: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    the_proposal = _get_proposal(meeting, proposal)
    if not _may_record(meeting, member):
        return _text_forbidden(request, _("Only the meeting's facilitator and note taker can record this."))
    text_field = TextField(
        id=f"record-proposal-{the_proposal.pk}",
        key=f"m{meeting.pk}:proposal-{the_proposal.pk}:text",
        url=_url("proposal_text_save", meeting, proposal=the_proposal.pk),
        label=_("Text of the proposal (version %(number)s)") % {"number": the_proposal.number},
        text=the_proposal.text,
        version=the_proposal.version,
    )
    return _save_text(
        request,
        member,
        meeting,
        text_field,
        lambda form: texts.save_text(
            obj=the_proposal,
            field="text",
            text=form.cleaned_data["text"],
            expected_version=form.cleaned_data["version"],
            by=member,
        ),
        field_name="text",
    )


# --- Consensus --------------------------------------------------------------------------------------------


def _require_check_runner(meeting: Meeting, member: Member) -> None:
    if not _may_run_check(meeting, member):
        raise PermissionDenied(
            _("Only the meeting's facilitator, its note taker and the stewards can run the consensus check.")
        )


@require_POST
def proposal_write(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    """Put a proposal to the check; after a block, this writes the amended version (the old one is kept)."""
    member, meeting = _get(request, slug, pk)
    agenda_item = _get_item(meeting, item)
    _require_check_runner(meeting, member)
    form = ProposalForm(request.POST)
    if form.is_valid():
        try:
            proposal = consensus.write_proposal(item=agenda_item, text=form.cleaned_data["text"], by=member)
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            notice = _("Proposal version %(number)s is put to the consensus check.") % {"number": proposal.number}
            return _done(request, member, meeting, notice)
    return _refused(request, member, meeting, {"proposal": form})


def _present_members(meeting: Meeting) -> list[Member]:
    return list(
        Member.objects.filter(
            attendance__meeting=meeting, attendance__status=Attendance.Status.PRESENT, is_active=True
        ).select_related("user")
    )


@require_POST
def stance_record(request: AuthenticatedHttpRequest, slug: str, pk: int, proposal: int) -> HttpResponse:
    """A member's own stance, or (note taker, facilitator) the stance of the member chosen on the form."""
    member, meeting = _get(request, slug, pk)
    the_proposal = _get_proposal(meeting, proposal)
    # The note taker's form for anyone present says so; a participant's own form has no member to choose.
    for_others = request.POST.get("whose") == "others"
    if for_others and not _may_record(meeting, member):
        raise PermissionDenied(_("Only the note taker and the facilitator can record someone else's stance."))
    form = StanceForm(request.POST, members=_present_members(meeting) if for_others else [], for_others=for_others)
    slot = "stance-others" if for_others else "stance"
    if form.is_valid():
        whose = form.cleaned_data["member"] if for_others else member
        try:
            stance = consensus.record_stance(
                proposal=the_proposal,
                member=whose,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                by=member,
            )
        except DomainError as error:
            # Both of the service's field rules are about the reason; any other is the form's.
            form.add_error("reason" if form.cleaned_data["kind"] != Stance.Kind.AGREE else None, str(error))
        else:
            notice = _("Stance recorded: %(name)s — %(stance)s.") % {
                "name": _name(whose),
                "stance": stance.get_kind_display(),
            }
            return _done(request, member, meeting, notice)
    return _refused(request, member, meeting, {slot: form})


@require_POST
def proposal_check(request: AuthenticatedHttpRequest, slug: str, pk: int, proposal: int) -> HttpResponse:
    """Resolve the consensus check: consensus records the decision; a block waits for an amendment or a deferral."""
    member, meeting = _get(request, slug, pk)
    the_proposal = _get_proposal(meeting, proposal)
    _require_check_runner(meeting, member)
    try:
        resolved = consensus.resolve_check(proposal=the_proposal, by=member)
    except DomainError as error:
        return _error(request, member, meeting, error)
    if resolved.outcome == Proposal.Outcome.CONSENSUS:
        notice = _("Consensus: the decision is recorded.")
    else:
        notice = _("The proposal is blocked: amend it and check again, or defer the item to the next meeting.")
    return _done(request, member, meeting, notice)


@require_POST
def item_defer(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    agenda_item = _get_item(meeting, item)
    _require_check_runner(meeting, member)
    try:
        consensus.defer_item(item=agenda_item, by=member)
    except DomainError as error:
        return _error(request, member, meeting, error)
    return _done(request, member, meeting, _("The item is deferred: it goes on the next meeting's agenda."))


# --- To-dos -----------------------------------------------------------------------------------------------


@require_POST
def todo_capture(request: AuthenticatedHttpRequest, slug: str, pk: int, item: int) -> HttpResponse:
    member, meeting = _get(request, slug, pk)
    agenda_item = _get_item(meeting, item)
    _require_check_runner(meeting, member)
    key = f"todo-new-{agenda_item.pk}"
    form = TodoForm(request.POST, members=_active_members(meeting), prefix=key)
    if form.is_valid():
        data = form.cleaned_data
        try:
            todo = todos.capture_todo(
                alliance=member.alliance,
                meeting=meeting,
                item=agenda_item,
                text=data["text"],
                owner=data["owner"],
                due_on=data["due_on"],
                by=member,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            notice = _("To-do added for %(name)s.") % {"name": _name(todo.owner)}
            return _done(request, member, meeting, notice)
    return _refused(request, member, meeting, {key: form})


@require_POST
def todo_correct(request: AuthenticatedHttpRequest, slug: str, pk: int, todo: int) -> HttpResponse:
    """A correction in the review: a to-do's text, owner or due date, on the version the page showed."""
    member, meeting = _get(request, slug, pk)
    the_todo = get_object_or_404(Todo.objects.filter(meeting=meeting), pk=todo)
    if not todos.may_change(the_todo, member, note_taker_id=meeting.note_taker_id):
        raise PermissionDenied(_("Only the owner of a to-do, its meeting's note taker and the stewards can change it."))
    key = f"todo-{the_todo.pk}"
    form = TodoCorrectForm(request.POST, members=_active_members(meeting), prefix=key)
    if form.is_valid():
        data = form.cleaned_data
        try:
            todos.update_todo(
                todo=the_todo,
                by=member,
                expected_version=data["version"],
                text=data["text"],
                owner=data["owner"],
                due_on=data["due_on"],
            )
        except TodoConflict as conflict:
            form = TodoCorrectForm(
                {**request.POST.dict(), f"{key}-version": str(conflict.version)},
                members=_active_members(meeting),
                prefix=key,
            )
            form.is_valid()
            form.add_error(
                "text",
                _("%(message)s Saved now: “%(theirs)s” (%(owner)s, due %(due)s).")
                % {
                    "message": conflict,
                    "theirs": conflict.theirs.text,
                    "owner": _name(conflict.theirs.owner),
                    "due": conflict.theirs.due_on.isoformat(),
                },
            )
            response = _step_response(request, member, meeting, bound={key: form}, status=409)
            response[VERSION_HEADER] = str(conflict.version)
            return response
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            if not request.htmx and not meeting.is_in_progress:
                messages.success(request, _("The to-do is corrected."))
                return redirect("meetings:meeting_review", slug=member.alliance.slug, pk=meeting.pk)
            return _done(request, member, meeting, _("The to-do is corrected."))
    return _refused(request, member, meeting, {key: form})


# --- The review and the next meeting ----------------------------------------------------------------------


@require_GET
def meeting_review(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The meeting's decisions and to-dos on a page of their own (also after the meeting, for corrections)."""
    member = get_membership(request, slug)
    # Read after the meeting far more often than it changes: kept until the alliance changes (everything
    # that raises the meeting's revision renews the alliance's version too).
    return cached_alliance_page(request, member, lambda: _meeting_review(request, member, pk))


def _meeting_review(request: HttpRequest, member: Member, pk: int) -> HttpResponse:
    meeting = _meeting_of(member, pk)
    recording = Recording(kind="review", revision=meeting.revision, url=_urls(meeting)[0], live_url=_urls(meeting)[1])
    _fill_review(recording, meeting, member, {})
    return render_alliance(request, member, "meetings/review.html", {"meeting": meeting, "record": recording})


def next_meeting_set(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Schedule the next meeting from the logistics step (the form is on the live page; GET shows it alone)."""
    member, meeting = _get(request, slug, pk)
    if not services.may_schedule(member):
        raise PermissionDenied(_("Only a steward or the facilitator of the latest meeting can schedule a meeting."))
    members = _active_members(meeting)
    form = _next_form(meeting, members, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            following = next_meeting_schedule(
                meeting=meeting,
                by=member,
                starts_at=form.starts_at,
                duration_minutes=data["duration_minutes"],
                facilitator=data["facilitator"],
                note_taker=data["note_taker"],
                venue_address=data["venue_address"],
                video_link=data["video_link"],
                support_offered=data["support_offered"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            notice = _("The next meeting is set: %(when)s.") % {"when": following.when_display}
            return _done(request, member, meeting, notice)
    if request.method == "POST" and request.htmx:
        return _refused(request, member, meeting, {"next": form})
    context = {"meeting": meeting, "form": form, "record_live_url": _urls(meeting)[1]}
    return render_alliance(request, member, "meetings/next_meeting_form.html", context)
