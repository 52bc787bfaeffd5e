"""Every change to a to-do: capturing it (in a meeting or between meetings), editing it, and closing it.

Services are keyword-only, own their transaction and raise `TodoError` (or `PermissionDenied`) with a
message written for the person who tried.

Who may:
- capture a to-do in a meeting: the meeting's facilitator and note taker, and the stewards; between
  meetings: any active member of the alliance;
- edit, close, reopen a to-do and add a progress update: its owner, the note taker of the meeting it came
  from, and the stewards.

A to-do captured or changed while its meeting is in progress raises the meeting's revision in the same
transaction, so that every live page shows it within one poll.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from alliances import versions
from alliances.models import Alliance, Member
from meetings import run
from meetings.models import AgendaItem, Meeting
from roundtable.errors import DomainError
from tasks.models import TODO_TEXT_MAX_LENGTH, Todo, TodoUpdate

# With no meeting scheduled, a to-do is due a week from the day it was captured.
DEFAULT_DUE_DAYS = 7
UPDATE_MAX_LENGTH = 2000


class TodoError(DomainError):
    """A rule of to-dos was broken; the message is safe to show to the user."""


class TodoConflict(TodoError):
    """Someone else edited the to-do first: both versions are kept for the person to merge.

    `theirs` is the to-do as saved now (its text, owner and due date); `yours` the text that was refused;
    `version` the one to send with the merged edit.
    """

    def __init__(self, *, theirs: Todo, yours: str) -> None:
        super().__init__(
            _(
                "Someone else changed this to-do while you were editing it. "
                "Both versions are shown: merge them and save."
            )
        )
        self.theirs = theirs
        self.yours = yours
        self.version = theirs.version


# --- Dates --------------------------------------------------------------------------------------------


def today_for(alliance: Alliance, now: datetime | None = None) -> date:
    """The calendar day it is where the alliance meets (due dates are days there)."""
    return (now or timezone.now()).astimezone(ZoneInfo(alliance.time_zone)).date()


def next_meeting_after(alliance: Alliance, *, now: datetime, current: Meeting | None = None) -> Meeting | None:
    """The alliance's next scheduled meeting still to come, other than `current`."""
    upcoming = Meeting.objects.for_alliance(alliance).filter(status=Meeting.Status.SCHEDULED, starts_at__gt=now)
    if current is not None:
        upcoming = upcoming.exclude(pk=current.pk)
    return upcoming.order_by("starts_at", "pk").first()


def default_due_on(*, alliance: Alliance, meeting: Meeting | None = None, now: datetime | None = None) -> date:
    """The day before the next meeting (in that meeting's zone), or a week from today with none scheduled.

    During a meeting, "the next meeting" is the one after it. A next meeting today or tomorrow gives
    today: a default is never a day that has already passed.
    """
    now = now or timezone.now()
    today = today_for(alliance, now)
    following = next_meeting_after(alliance, now=now, current=meeting)
    if following is None:
        return today + timedelta(days=DEFAULT_DUE_DAYS)
    # The meeting's own zone, not the alliance's: a meeting at 00:30 on Tuesday where it is held is on
    # Tuesday, even if the alliance has since moved its zone (or the server reckons in UTC).
    meeting_day = following.starts_at.astimezone(ZoneInfo(following.time_zone)).date()
    return max(meeting_day - timedelta(days=1), today)


# --- Checks -------------------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    # One line: a line break pasted from the notes becomes a space (no word is lost), and the database
    # refuses a to-do with a line break in it (tasks_todo_text_one_line).
    cleaned = " ".join(text.split())
    if not cleaned:
        raise TodoError(_("Say what is to be done."))
    if len(cleaned) > TODO_TEXT_MAX_LENGTH:
        raise TodoError(
            _(
                "A to-do can be at most %(limit)s characters long; this one has %(length)s. "
                "Shorten it, and add the details as a progress update."
            )
            % {"limit": TODO_TEXT_MAX_LENGTH, "length": len(cleaned)}
        )
    return cleaned


def _check_owner(alliance: Alliance, owner: Member) -> None:
    if owner.alliance_id != alliance.pk or not owner.is_active:
        raise TodoError(_("The owner of a to-do must be an active member of the alliance."))


def _check_due(due_on: date, alliance: Alliance, now: datetime) -> None:
    today = today_for(alliance, now)
    if due_on < today:
        raise TodoError(
            _("The due date %(due)s has already passed: choose today (%(today)s) or a later day.")
            % {"due": formats.date_format(due_on, "DATE_FORMAT"), "today": formats.date_format(today, "DATE_FORMAT")}
        )


def _in_alliance(alliance_id: int, member: Member) -> bool:
    return member.is_active and member.alliance_id == alliance_id


def may_change(todo: Todo, member: Member, *, note_taker_id: int | None = None) -> bool:
    """Its owner, the note taker of the meeting it came from, and the stewards change a to-do."""
    if not _in_alliance(todo.alliance_id, member):
        return False
    if member.is_steward or member.pk == todo.owner_id:
        return True
    if note_taker_id is None and todo.meeting_id is not None:
        note_taker_id = Meeting.objects.filter(pk=todo.meeting_id).values_list("note_taker_id", flat=True).first()
    return note_taker_id is not None and member.pk == note_taker_id


def _lock_for_change(todo: Todo, by: Member) -> Todo:
    """The to-do, re-read under a lock, once `by` is known to be allowed to change it."""
    locked = Todo.objects.select_for_update().get(pk=todo.pk)
    if not may_change(locked, by):
        raise PermissionDenied(_("Only the owner of a to-do, its meeting's note taker and the stewards can change it."))
    return locked


def _show_live(todo: Todo) -> None:
    """A to-do of a meeting in progress raises its revision: the live pages then show the change.

    And its alliance's kept pages are renewed (alliances/versions.py): the changes here are update()s, which
    send no signal.
    """
    versions.bump(todo.alliance_id)
    if todo.meeting_id is not None:
        Meeting.objects.filter(pk=todo.meeting_id, status=Meeting.Status.IN_PROGRESS).update(revision=F("revision") + 1)


# --- Capturing ----------------------------------------------------------------------------------------


@transaction.atomic
def capture_todo(
    *,
    alliance: Alliance,
    text: str,
    owner: Member,
    by: Member,
    meeting: Meeting | None = None,
    item: AgendaItem | None = None,
    due_on: date | None = None,
    now: datetime | None = None,
) -> Todo:
    """Write down a to-do: what, who owns it and by when (default: the day before the next meeting).

    Captured in a meeting (at one of its items, so at its decision), the to-do keeps where it came from
    and appears on every live page of the meeting at once.
    """
    now = now or timezone.now()
    if item is not None:
        if meeting is not None and item.meeting_id != meeting.pk:
            raise TodoError(_("This agenda item belongs to another meeting."))
        meeting = item.meeting if meeting is None else meeting
    if not _in_alliance(alliance.pk, by):
        raise PermissionDenied(_("Only members of the alliance can add its to-dos."))
    if meeting is not None:
        if meeting.alliance_id != alliance.pk:
            raise TodoError(_("This meeting belongs to another alliance."))
        # Locked: the to-do and the revision that announces it go out together, after any change
        # another screen is making to the meeting.
        meeting = run.lock(meeting)
        if not (run.may_record(meeting, by) or run.may_drive(meeting, by)):
            raise PermissionDenied(
                _("In a meeting, the facilitator, the note taker and the stewards write down the to-dos.")
            )
        run.require_started(meeting)
    cleaned = _clean_text(text)
    _check_owner(alliance, owner)
    if due_on is None:
        due_on = default_due_on(alliance=alliance, meeting=meeting, now=now)
    else:
        _check_due(due_on, alliance, now)
    todo = Todo.objects.create(
        alliance=alliance,
        meeting=meeting,
        item=item,
        text=cleaned,
        owner=owner,
        due_on=due_on,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    if meeting is not None:
        run.bump(meeting)
    return todo


# --- Editing ------------------------------------------------------------------------------------------


@transaction.atomic
def update_todo(
    *,
    todo: Todo,
    by: Member,
    expected_version: int,
    text: str | None = None,
    owner: Member | None = None,
    due_on: date | None = None,
    now: datetime | None = None,
) -> Todo:
    """Change a to-do's text, owner or due date (None keeps it) if nobody changed it since `expected_version`.

    An edit made on a stale copy raises `TodoConflict` with both versions: never a silent overwrite.
    """
    now = now or timezone.now()
    stored = _lock_for_change(todo, by)
    alliance = Alliance.objects.get(pk=stored.alliance_id)
    new_text = stored.text if text is None else _clean_text(text)
    if stored.version != expected_version:
        raise TodoConflict(theirs=stored, yours=new_text)
    changes: dict[str, object] = {}
    if new_text != stored.text:
        changes["text"] = new_text
    if owner is not None and owner.pk != stored.owner_id:
        _check_owner(alliance, owner)
        changes["owner"] = owner
    # An overdue to-do keeps its due date when only its text changes; a new date must not have passed.
    if due_on is not None and due_on != stored.due_on:
        _check_due(due_on, alliance, now)
        changes["due_on"] = due_on
    if not changes:
        return stored
    # Conditional on the version too: the row lock already serialises these edits; this keeps the rule
    # true for any writer that does not take it.
    updated = Todo.objects.filter(pk=stored.pk, version=expected_version).update(
        **changes, updated_at=now, version=F("version") + 1
    )
    stored.refresh_from_db()
    if not updated:
        raise TodoConflict(theirs=stored, yours=new_text)
    _show_live(stored)
    return stored


@transaction.atomic
def mark_done(*, todo: Todo, by: Member, now: datetime | None = None) -> Todo:
    """The to-do is done. Marking a done to-do done again changes nothing (two clicks, two screens)."""
    now = now or timezone.now()
    stored = _lock_for_change(todo, by)
    if stored.status == Todo.Status.DROPPED:
        raise TodoError(_("This to-do was dropped: reopen it first if it was done after all."))
    if stored.status == Todo.Status.OPEN:
        Todo.objects.filter(pk=stored.pk).update(status=Todo.Status.DONE, done_at=now, updated_at=now)
        stored.refresh_from_db()
        _show_live(stored)
    return stored


@transaction.atomic
def reopen(*, todo: Todo, by: Member, now: datetime | None = None) -> Todo:
    """A done or dropped to-do is open again (the undo of "mark done"); an open one stays as it is."""
    now = now or timezone.now()
    stored = _lock_for_change(todo, by)
    if stored.status != Todo.Status.OPEN:
        Todo.objects.filter(pk=stored.pk).update(status=Todo.Status.OPEN, done_at=None, drop_reason="", updated_at=now)
        stored.refresh_from_db()
        _show_live(stored)
    return stored


@transaction.atomic
def drop(*, todo: Todo, reason: str, by: Member, now: datetime | None = None) -> Todo:
    """The to-do will not be done, and the reason says why (the notes and the note taker see it)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise TodoError(_("Say why the to-do is dropped: the others will read it."))
    stored = _lock_for_change(todo, by)
    if stored.status == Todo.Status.DONE:
        raise TodoError(_("This to-do is done: reopen it first if it is to be dropped instead."))
    Todo.objects.filter(pk=stored.pk).update(
        status=Todo.Status.DROPPED, drop_reason=reason, done_at=None, updated_at=now
    )
    stored.refresh_from_db()
    _show_live(stored)
    return stored


@transaction.atomic
def add_update(*, todo: Todo, text: str, by: Member, now: datetime | None = None) -> TodoUpdate:
    """A short, dated word on how the to-do is going."""
    now = now or timezone.now()
    text = text.strip()
    if not text:
        raise TodoError(_("Write the update first."))
    if len(text) > UPDATE_MAX_LENGTH:
        raise TodoError(
            _("An update can be at most %(limit)s characters long; this one has %(length)s.")
            % {"limit": UPDATE_MAX_LENGTH, "length": len(text)}
        )
    stored = _lock_for_change(todo, by)
    update = TodoUpdate.objects.create(todo=stored, author=by, text=text, created_at=now)
    Todo.objects.filter(pk=stored.pk).update(updated_at=now)
    _show_live(stored)
    return update
