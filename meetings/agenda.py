"""The agenda of a meeting: its items, proposals, segment minutes and the opening reflection.

Every write here is a keyword-only service that owns its transaction, checks who may make it, locks the
meeting row (so two editors reordering at once take turns) and raises `meeting.revision` with an F()
update: the sending part compares that number with the revision that was last emailed.

The reads (`agenda_context`) prepare rows in Python for templates/meetings/_agenda.html and the print
page, in a fixed number of queries whatever the number of items (docs/performance.md).
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from alliances import versions
from alliances.models import Member
from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaItem,
    AgendaSegment,
    Meeting,
    Reflection,
    Segment,
)
from meetings.services import MeetingError
from tasks.models import Todo

# --- Markdown ---------------------------------------------------------------------------------------

# CommonMark with raw HTML off: a "<script>" typed in a description is shown as text, never passed
# through. nh3 then keeps only the tags below, so nothing the parser might emit (or a future option)
# can bring in scripts, event handlers, styles or images from elsewhere (an <img> would let any
# server see who reads the agenda and when).
_markdown = MarkdownIt("commonmark", {"html": False})
_ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def markdown_render(text: str) -> SafeString:
    """Markdown as sanitised HTML: links keep http(s)/mailto only and get rel="nofollow noopener"."""
    if not text.strip():
        return mark_safe("")
    return mark_safe(_markdown_to_clean_html(text))  # noqa: S308 - cleaned by nh3


# The same descriptions are shown on every view of the meeting page: parse and clean each text once per
# process (the result depends only on the text and this code).
@functools.lru_cache(maxsize=2048)
def _markdown_to_clean_html(text: str) -> str:
    return nh3.clean(
        _markdown.render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
        strip_comments=True,
    )


# --- Writes ----------------------------------------------------------------------------------------


def _require_editor(meeting: Meeting, by: Member) -> None:
    if by.alliance_id != meeting.alliance_id or not meeting.can_edit(by):
        raise PermissionDenied(_("Only the meeting's facilitator and the stewards can change its agenda."))


def _lock_for_change(meeting: Meeting, by: Member) -> Meeting:
    """Check the right to edit, lock the meeting row and refuse a cancelled meeting."""
    _require_editor(meeting, by)
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.is_cancelled:
        raise MeetingError(_("This meeting was cancelled: its agenda can no longer change."))
    return locked


def _bump_revision(meeting: Meeting) -> None:
    # F() so that two changes committed one after the other each count, whatever copy each one held.
    Meeting.objects.filter(pk=meeting.pk).update(revision=F("revision") + 1)
    # update() and bulk_update() send no signal: the alliance's pages learn of the change here.
    versions.bump(meeting.alliance_id)
    meeting.refresh_from_db(fields=["revision"])


def _check_presenter(meeting: Meeting, presenter: Member | None) -> None:
    if presenter is not None and (presenter.alliance_id != meeting.alliance_id or not presenter.is_active):
        raise MeetingError(_("The presenter must be an active member of the alliance."))


def _check_item_fields(title: str, minutes: int, kind: str) -> None:
    # The forms say this first; the services hold it for every other caller (commands, the shell).
    if not title.strip():
        raise MeetingError(_("Give the item a title."))
    if len(title) > AgendaItem.TITLE_MAX_LENGTH:
        raise MeetingError(_("The title is too long."))
    if minutes < 1:
        raise MeetingError(_("The time box must be at least one minute."))
    if kind not in AgendaItem.Kind.values:
        raise MeetingError(_("Choose whether the item is for information, discussion or a decision."))


def _next_position(meeting: Meeting) -> int:
    last = AgendaItem.objects.filter(meeting=meeting).on_agenda().aggregate(last=Max("position"))["last"]
    return (last or 0) + 1


@transaction.atomic
def agenda_item_add(
    *,
    meeting: Meeting,
    by: Member,
    title: str,
    minutes: int,
    description: str = "",
    kind: str = AgendaItem.Kind.DISCUSSION,
    presenter: Member | None = None,
) -> AgendaItem:
    """Add an item at the end of the agenda."""
    meeting = _lock_for_change(meeting, by)
    _check_item_fields(title, minutes, kind)
    _check_presenter(meeting, presenter)
    item = AgendaItem.objects.create(
        meeting=meeting,
        title=title,
        description=description,
        kind=kind,
        presenter=presenter,
        minutes=minutes,
        position=_next_position(meeting),
        status=AgendaItem.Status.ACCEPTED,
        proposed_by=by,
        decided_by=by,
    )
    _bump_revision(meeting)
    return item


@transaction.atomic
def agenda_item_edit(
    *,
    item: AgendaItem,
    by: Member,
    title: str,
    minutes: int,
    description: str,
    kind: str,
    presenter: Member | None,
) -> AgendaItem:
    meeting = _lock_for_change(item.meeting, by)
    _check_item_fields(title, minutes, kind)
    _check_presenter(meeting, presenter)
    changed = AgendaItem.objects.filter(pk=item.pk, meeting=meeting).update(
        title=title, description=description, kind=kind, presenter=presenter, minutes=minutes
    )
    if not changed:
        raise MeetingError(_("This item is no longer on the agenda."))
    _bump_revision(meeting)
    item.refresh_from_db()
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by: Member) -> None:
    meeting = _lock_for_change(item.meeting, by)
    AgendaItem.objects.filter(pk=item.pk, meeting=meeting).delete()
    _renumber(AgendaItem.objects.filter(meeting=meeting).on_agenda())
    _bump_revision(meeting)


def _renumber(items: Iterable[AgendaItem]) -> None:
    changed = []
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            changed.append(item)
    AgendaItem.objects.bulk_update(changed, ["position"])


@transaction.atomic
def agenda_item_move(*, item: AgendaItem, direction: str, by: Member) -> AgendaItem:
    """Move an item one place up or down; at either end it stays where it is."""
    if direction not in ("up", "down"):
        raise MeetingError(_("Choose up or down."))
    meeting = _lock_for_change(item.meeting, by)
    items = list(AgendaItem.objects.filter(meeting=meeting).on_agenda())
    index = next((i for i, other in enumerate(items) if other.pk == item.pk), None)
    if index is None:
        raise MeetingError(_("This item is not on the agenda."))
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        _renumber(items)
        _bump_revision(meeting)
    item.refresh_from_db()
    return item


@transaction.atomic
def agenda_items_reorder(*, meeting: Meeting, order: list[int], by: Member) -> Meeting:
    """Put the agenda's items in `order` (every item's id once), as drag and drop leaves them.

    A partial or foreign list is refused whole: it means the page was stale (someone added or removed
    an item meanwhile) or was tampered with, and guessing would silently misplace items.
    """
    meeting = _lock_for_change(meeting, by)
    items = {item.pk: item for item in AgendaItem.objects.filter(meeting=meeting).on_agenda()}
    if len(order) != len(items) or set(order) != set(items):
        raise MeetingError(_("The agenda changed meanwhile: reload the page and move the items again."))
    before = list(items)
    if order != before:
        _renumber(items[pk] for pk in order)
        _bump_revision(meeting)
    return meeting


@transaction.atomic
def agenda_segments_set(*, meeting: Meeting, minutes: dict[str, int], by: Member) -> Meeting:
    """Set the minutes of the standard segments (they are always all there; only their time changes)."""
    meeting = _lock_for_change(meeting, by)
    stored = {s.kind: s.minutes for s in AgendaSegment.objects.filter(meeting=meeting)}
    changed = False
    for kind, value in minutes.items():
        if kind not in Segment.values:
            raise MeetingError(_("There is no such segment."))
        if not 0 <= value <= 24 * 60:
            raise MeetingError(_("A segment's minutes must be between 0 and 1440."))
        if stored.get(kind) != value:
            AgendaSegment.objects.update_or_create(meeting=meeting, kind=kind, defaults={"minutes": value})
            changed = True
    # Saving the form unchanged is not a new version of the agenda (the sent one would look outdated).
    if changed:
        _bump_revision(meeting)
    return meeting


# --- Proposals -------------------------------------------------------------------------------------


@transaction.atomic
def agenda_proposal_submit(
    *,
    meeting: Meeting,
    by: Member,
    title: str,
    minutes: int,
    description: str = "",
    kind: str = AgendaItem.Kind.DISCUSSION,
) -> AgendaItem:
    """Any active member proposes an item; it waits for the facilitator (no revision change: the agenda
    itself is the same until the proposal is accepted)."""
    if by.alliance_id != meeting.alliance_id or not by.is_active:
        raise PermissionDenied
    if meeting.is_cancelled:
        raise MeetingError(_("This meeting was cancelled: its agenda can no longer change."))
    _check_item_fields(title, minutes, kind)
    return AgendaItem.objects.create(
        meeting=meeting,
        title=title,
        description=description,
        kind=kind,
        minutes=minutes,
        status=AgendaItem.Status.PROPOSED,
        proposed_by=by,
    )


@transaction.atomic
def agenda_proposal_accept(*, item: AgendaItem, by: Member) -> AgendaItem:
    """The proposal joins the agenda at the end."""
    meeting = _lock_for_change(item.meeting, by)
    accepted = AgendaItem.objects.filter(pk=item.pk, meeting=meeting, status=AgendaItem.Status.PROPOSED).update(
        status=AgendaItem.Status.ACCEPTED, position=_next_position(meeting), decided_by=by
    )
    if not accepted:
        raise MeetingError(_("This proposal was already decided."))
    _bump_revision(meeting)
    item.refresh_from_db()
    return item


@transaction.atomic
def agenda_proposal_decline(*, item: AgendaItem, by: Member, reason: str = "") -> AgendaItem:
    """Decline a proposal; the proposer sees the reason beside it on the meeting page."""
    meeting = _lock_for_change(item.meeting, by)
    declined = AgendaItem.objects.filter(pk=item.pk, meeting=meeting, status=AgendaItem.Status.PROPOSED).update(
        status=AgendaItem.Status.DECLINED, decline_reason=reason.strip(), decided_by=by
    )
    if not declined:
        raise MeetingError(_("This proposal was already decided."))
    versions.bump(meeting.alliance_id)  # update() sends no signal
    item.refresh_from_db()
    return item


# --- Opening reflection ----------------------------------------------------------------------------


@transaction.atomic
def reflection_set(*, meeting: Meeting, by: Member, kind: str, text: str, source: str, link: str) -> Reflection:
    meeting = _lock_for_change(meeting, by)
    reflection, _created = Reflection.objects.update_or_create(
        meeting=meeting,
        defaults={
            "kind": kind,
            "text": text,
            "source": source,
            "link": link,
            "chosen_by": by,
            "chosen_at": timezone.now(),
        },
    )
    _bump_revision(meeting)
    return reflection


def reflection_history(*, meeting: Meeting, limit: int = 50) -> list[Reflection]:
    """The alliance's other reflections, newest first, with who chose them: inspiration, and no repeats."""
    return list(
        Reflection.objects.filter(meeting__alliance_id=meeting.alliance_id)
        .exclude(meeting=meeting)
        .select_related("chosen_by__user", "meeting")
        .order_by("-chosen_at", "-pk")[:limit]
    )


# --- The seam for the to-dos app -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTodoRow:
    """An open to-do as the agenda's review segment lists it (templates/meetings/_agenda_todos.html)."""

    title: str
    assignee_name: str
    due_text: str


def open_todos(meeting: Meeting) -> list[Any] | None:
    """The open to-dos to review in the "Review of decisions and to-dos" segment: every open to-do of the
    alliance, soonest due first, in one query.

    None for a meeting that has ended or was cancelled: its agenda is history, and today's open to-dos
    are not what that meeting reviewed (its notes list its own). [] means "known, and none are open".
    """
    if meeting.status in (Meeting.Status.ENDED, Meeting.Status.CANCELLED):
        return None
    rows = (
        Todo.objects.open()
        .filter(alliance_id=meeting.alliance_id)
        .order_by("due_on", "pk")
        .values_list("text", "owner__user__display_name", "due_on")
    )
    days: dict[Any, str] = {}
    return [
        OpenTodoRow(
            title=text,
            assignee_name=name,
            # Dates formatted once per day (docs/performance.md), in the reader's language.
            due_text=days.setdefault(due_on, formats.date_format(due_on, "DATE_FORMAT")),
        )
        for text, name, due_on in rows
    ]


# --- Reads for the pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRow:
    kind: str
    label: str
    minutes: int
    starts_text: str = ""  # the wall-clock time it starts at if the agenda runs to plan, in the meeting's zone


@dataclass(frozen=True)
class ItemRow:
    pk: int
    number: int
    title: str
    description_html: SafeString
    kind_label: str
    presenter_name: str
    minutes: int
    edit_url: str
    move_url: str
    remove_url: str
    starts_text: str = ""


@dataclass(frozen=True)
class ProposalRow:
    pk: int
    title: str
    description_html: SafeString
    kind_label: str
    minutes: int
    proposer_name: str
    status: str
    status_label: str
    decline_reason: str
    accept_url: str
    decline_url: str


@dataclass
class Agenda:
    opening: list[SegmentRow]
    items: list[ItemRow]
    closing: list[SegmentRow]
    proposals: list[ProposalRow] = field(default_factory=list)
    my_proposals: list[ProposalRow] = field(default_factory=list)
    reflection: Reflection | None = None
    todos: list[Any] | None = None
    planned_minutes: int = 0
    duration_minutes: int = 0

    @property
    def over_minutes(self) -> int:
        return max(self.planned_minutes - self.duration_minutes, 0)


def _url_for(name: str, meeting: Meeting, slug: str, **kwargs: object) -> str:
    # The slug comes from the reader's membership (already loaded), not meeting.alliance (a query).
    return reverse(f"meetings:{name}", kwargs={"slug": slug, "pk": meeting.pk, **kwargs})


_ITEM_PLACEHOLDER = 987654321


def _item_url(name: str, meeting: Meeting, slug: str) -> Callable[[int], str]:
    # One reverse() per list; each row's URL is the template with its id put in (docs/performance.md).
    template = _url_for(name, meeting, slug, item=_ITEM_PLACEHOLDER)
    return lambda pk: template.replace(f"/{_ITEM_PLACEHOLDER}/", f"/{int(pk)}/")


def _name(member: Member | None) -> str:
    return member.user.display_name if member is not None else ""


Row = TypeVar("Row", SegmentRow, ItemRow)


def _with_start_times(
    meeting: Meeting, opening: list[SegmentRow], items: list[ItemRow], closing: list[SegmentRow]
) -> tuple[list[SegmentRow], list[ItemRow], list[SegmentRow]]:
    """Each row with the time it starts at if everything before it keeps its time box.

    Shown in the meeting's own zone (the time on the room's clock), as the meeting page and the email
    state it; a zone that no longer exists falls back to UTC rather than failing the page.
    """
    try:
        zone = ZoneInfo(meeting.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    start = meeting.starts_at.astimezone(zone)
    elapsed = 0

    def timed(rows: list[Row]) -> list[Row]:
        nonlocal elapsed
        result = []
        for row in rows:
            moment = start + timedelta(minutes=elapsed)
            result.append(replace(row, starts_text=formats.time_format(moment, "TIME_FORMAT")))
            elapsed += row.minutes
        return result

    return timed(opening), timed(items), timed(closing)


def agenda_build(*, meeting: Meeting, member: Member) -> Agenda:
    """The whole agenda as `member` may see it, in three queries whatever its size."""
    slug = member.alliance.slug
    stored = {s.kind: s.minutes for s in AgendaSegment.objects.filter(meeting=meeting)}

    def segment_rows(kinds: list[Segment]) -> list[SegmentRow]:
        # A meeting made before its segments were (or by a factory) still shows all six, at the defaults.
        return [
            SegmentRow(kind=kind.value, label=str(kind.label), minutes=stored.get(kind, DEFAULT_SEGMENT_MINUTES[kind]))
            for kind in kinds
        ]

    all_items = list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("presenter__user", "proposed_by__user")
        .order_by("position", "created_at", "pk")
    )
    edit_url = _item_url("agenda_item_edit", meeting, slug)
    move_url = _item_url("agenda_item_move", meeting, slug)
    remove_url = _item_url("agenda_item_remove", meeting, slug)
    accept_url = _item_url("agenda_proposal_accept", meeting, slug)
    decline_url = _item_url("agenda_proposal_decline", meeting, slug)
    kinds = dict(AgendaItem.Kind.choices)
    statuses = dict(AgendaItem.Status.choices)

    items: list[ItemRow] = []
    proposals: list[ProposalRow] = []
    mine: list[ProposalRow] = []
    can_edit = meeting.can_edit(member)
    for item in all_items:
        if item.status == AgendaItem.Status.ACCEPTED:
            items.append(
                ItemRow(
                    pk=item.pk,
                    number=len(items) + 1,
                    title=item.title,
                    description_html=markdown_render(item.description),
                    kind_label=str(kinds.get(item.kind, item.kind)),
                    presenter_name=_name(item.presenter),
                    minutes=item.minutes,
                    edit_url=edit_url(item.pk),
                    move_url=move_url(item.pk),
                    remove_url=remove_url(item.pk),
                )
            )
            continue
        is_mine = item.proposed_by_id == member.pk
        pending = item.status == AgendaItem.Status.PROPOSED
        if not (is_mine or (can_edit and pending)):
            continue
        row = ProposalRow(
            pk=item.pk,
            title=item.title,
            description_html=markdown_render(item.description),
            kind_label=str(kinds.get(item.kind, item.kind)),
            minutes=item.minutes,
            proposer_name=_name(item.proposed_by),
            status=item.status,
            status_label=str(statuses[item.status]),
            decline_reason=item.decline_reason,
            accept_url=accept_url(item.pk),
            decline_url=decline_url(item.pk),
        )
        if can_edit and pending:
            proposals.append(row)
        if is_mine:
            mine.append(row)

    opening, closing = segment_rows(OPENING_SEGMENTS), segment_rows(CLOSING_SEGMENTS)
    opening, items, closing = _with_start_times(meeting, opening, items, closing)
    planned = sum(s.minutes for s in opening + closing) + sum(i.minutes for i in items)
    reflection = Reflection.objects.filter(meeting=meeting).select_related("chosen_by__user").first()
    return Agenda(
        opening=opening,
        items=items,
        closing=closing,
        proposals=proposals,
        my_proposals=mine,
        reflection=reflection,
        todos=open_todos(meeting),
        planned_minutes=planned,
        duration_minutes=meeting.duration_minutes,
    )


def agenda_context(*, meeting: Meeting, member: Member) -> dict[str, Any]:
    """What templates/meetings/_agenda.html needs, merged into the meeting page's context."""
    slug = member.alliance.slug
    return {
        "meeting": meeting,
        "agenda": agenda_build(meeting=meeting, member=member),
        "can_edit_agenda": meeting.can_edit(member) and not meeting.is_cancelled,
        "agenda_urls": {
            "item_create": _url_for("agenda_item_create", meeting, slug),
            "reorder": _url_for("agenda_reorder", meeting, slug),
            "segments": _url_for("agenda_segments_edit", meeting, slug),
            "propose": _url_for("agenda_proposal_create", meeting, slug),
            "reflection": _url_for("reflection_edit", meeting, slug),
            "print": _url_for("agenda_print", meeting, slug),
        },
    }
