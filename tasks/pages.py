"""The lists of to-dos: their filters, their order and their rows, built in Python (docs/performance.md).

Two lists show to-dos with a button on every row: *My to-dos* (`/todos/`, every to-do the reader owns,
across their alliances) and an alliance's to-dos (`/alliances/<slug>/todos/`). Both print rows whose text
and URLs are ready, share one form and one CSRF token, and show 50 a page.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from alliances.models import Alliance
from alliances.pages import date_text, row_url
from meetings.models import Meeting
from tasks.models import Todo
from tasks.services import today_for

TODOS_PER_PAGE = 50

# The status filter: a status, "overdue" (open and past its due day) or everything.
STATUS_ALL, STATUS_OVERDUE = "all", "overdue"
STATUSES = (Todo.Status.OPEN.value, STATUS_OVERDUE, Todo.Status.DONE.value, Todo.Status.DROPPED.value, STATUS_ALL)


def status_choices() -> list[tuple[str, str]]:
    labels = dict(Todo.Status.choices)
    return [
        ("open", str(labels[Todo.Status.OPEN])),
        (STATUS_OVERDUE, gettext("Overdue")),
        ("done", str(labels[Todo.Status.DONE])),
        ("dropped", str(labels[Todo.Status.DROPPED])),
        (STATUS_ALL, gettext("All")),
    ]


def chosen_status(query: QueryDict, default: str) -> str:
    status = query.get("status", "")
    return status if status in STATUSES else default


def chosen_pk(query: QueryDict, name: str, allowed: Iterable[int]) -> int | None:
    """The pk a filter names, if it is one of `allowed` (anything else means no filter)."""
    try:
        pk = int(query.get(name, ""))
    except ValueError:
        return None
    return pk if pk in set(allowed) else None


def todays(alliances: Iterable[Alliance]) -> dict[date, list[int]]:
    """The alliances (their pks) grouped by the day it is where each meets: due dates are days there."""
    days: dict[date, list[int]] = {}
    for alliance in alliances:
        days.setdefault(today_for(alliance), []).append(alliance.pk)
    return days


def _overdue(days: dict[date, list[int]]) -> Q:
    condition = Q(pk__in=[])
    for today, alliance_ids in days.items():
        condition |= Q(alliance_id__in=alliance_ids, due_on__lt=today)
    return Q(status=Todo.Status.OPEN) & condition


def filter_status(todos: QuerySet[Todo], status: str, days: dict[date, list[int]]) -> QuerySet[Todo]:
    if status == STATUS_ALL:
        return todos
    if status == STATUS_OVERDUE:
        return todos.filter(_overdue(days))
    return todos.filter(status=status)


def in_order(todos: QuerySet[Todo], days: dict[date, list[int]]) -> QuerySet[Todo]:
    """Overdue first, then the other open ones, then the closed ones; each by due date."""
    rank = Case(
        When(_overdue(days), then=Value(0)),
        When(status=Todo.Status.OPEN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return todos.alias(rank=rank).order_by("rank", "due_on", "pk")


def options_html(choices: Iterable[tuple[object, str]], selected: object) -> SafeString:
    """A filter's <option>s as one string: a list of 400 members through widget templates (or format_html per
    option) costs milliseconds; escaping each value and label is what is needed."""
    chosen = str(selected) if selected is not None else ""
    options = []
    for value, label in choices:
        text = str(value)
        mark = " selected" if text == chosen else ""
        options.append(f'<option value="{escape(text)}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(options))  # noqa: S308 - every value and label is escaped above


@dataclass(frozen=True)
class TodoRow:
    pk: int
    title: str
    url: str
    detail: str  # "Barrio Readers · due March 3, 2026" or "Ana · due March 3, 2026 · meeting of March 1, 2026"
    status: str
    status_label: str
    overdue: bool
    may_change: bool
    done_url: str
    reopen_url: str
    # Set on the row an htmx click answers with: it says what happened and its button takes the focus.
    just_done: bool = False
    just_reopened: bool = False
    # Why a click changed nothing (a to-do dropped meanwhile), said in the row htmx swaps in.
    error: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == Todo.Status.OPEN


def row_labels() -> dict[str, str]:
    """The fixed words of a row, translated once per list (and for the one row htmx swaps in)."""
    return {
        "done": gettext("Mark done"),
        "reopen": gettext("Reopen"),
        "undo": gettext("Undo"),
        "overdue": gettext("Overdue"),
        "marked_done": gettext("Marked done."),
        "reopened": gettext("Open again."),
    }


class RowBuilder:
    """Makes the rows of one list: each URL reversed once, each sentence translated once."""

    def __init__(
        self, *, detail_url: Callable[[Todo], str], done_url: Callable[[int], str], reopen_url: Callable[[int], str]
    ):
        self.detail_url = detail_url
        self.done_url = done_url
        self.reopen_url = reopen_url
        self.due = gettext("due %(date)s")
        self.meeting = gettext("from the meeting of %(date)s")
        self.statuses = {status: str(label) for status, label in Todo.Status.choices}

    def row(
        self, todo: Todo, *, first: str, today: date, may_change: bool, meeting_at: datetime | None = None
    ) -> TodoRow:
        parts = (
            [first, self.due % {"date": date_text(todo.due_on)}]
            if first
            else [self.due % {"date": date_text(todo.due_on)}]
        )
        if meeting_at is not None:
            parts.append(self.meeting % {"date": date_text(meeting_at)})
        return TodoRow(
            pk=todo.pk,
            title=todo.text,
            url=self.detail_url(todo),
            detail=" · ".join(parts),
            status=todo.status,
            status_label=self.statuses.get(todo.status, todo.status),
            overdue=todo.is_overdue(today),
            may_change=may_change,
            done_url=self.done_url(todo.pk),
            reopen_url=self.reopen_url(todo.pk),
        )


def my_todo_rows(todos: Iterable[Todo], *, alliances: dict[int, Alliance]) -> list[TodoRow]:
    """The rows of My to-dos: each names its alliance; the reader owns them all, so may change them all."""
    detail = {pk: row_url("tasks:todo_detail", slug=alliance.slug) for pk, alliance in alliances.items()}
    builder = RowBuilder(
        detail_url=lambda todo: detail[todo.alliance_id](todo.pk),
        done_url=row_url("tasks:my_todo_done"),
        reopen_url=row_url("tasks:my_todo_reopen"),
    )
    today = {pk: today_for(alliance) for pk, alliance in alliances.items()}
    return [
        builder.row(todo, first=alliances[todo.alliance_id].name, today=today[todo.alliance_id], may_change=True)
        for todo in todos
    ]


def alliance_todo_rows(
    todos: Iterable[Todo],
    *,
    alliance: Alliance,
    owner_names: dict[int, str],
    meetings: dict[int, Meeting],
    may_change: Callable[[Todo, int | None], bool],
) -> list[TodoRow]:
    """The rows of an alliance's to-dos: each names its owner and the meeting it came from.

    The owners' names and the meetings come from what the page has read already (its filters list them),
    so the query of the rows joins nothing: sorting a large alliance's to-dos joined to their owners,
    users and meetings cost more than the rest of the page.
    """
    detail = row_url("tasks:todo_detail", slug=alliance.slug)
    builder = RowBuilder(
        detail_url=lambda todo: detail(todo.pk),
        done_url=row_url("tasks:todo_done", slug=alliance.slug),
        reopen_url=row_url("tasks:todo_reopen", slug=alliance.slug),
    )
    today = today_for(alliance)
    rows = []
    for todo in todos:
        meeting = meetings.get(todo.meeting_id) if todo.meeting_id else None
        rows.append(
            builder.row(
                todo,
                first=owner_names.get(todo.owner_id, ""),
                today=today,
                may_change=may_change(todo, meeting.note_taker_id if meeting else None),
                meeting_at=meeting.starts_at if meeting else None,
            )
        )
    return rows


def acted(row: TodoRow, *, done: bool, error: str = "") -> TodoRow:
    """The row htmx swaps in after a click: it says what happened, and its button (the undo) takes the focus."""
    if error:
        return replace(row, error=error)
    return replace(row, just_done=done, just_reopened=not done)
