"""The to-do pages: My to-dos, an alliance's to-dos and one to-do, and the one-click link from email.

Alliance pages start with `get_membership()` (404 for anyone who is not an active member) and fetch the
to-do within the alliance; the services decide who may change it (its owner, its meeting's note taker,
the stewards) and raise PermissionDenied (403) otherwise. My to-dos lists only the reader's own to-dos and
its buttons act only on those. Every button works as a plain form post (and redirects back to the page it
was on, with its filters); with htmx, a list's "Mark done" and "Undo" swap their row in place.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alliances.access import get_membership
from alliances.models import Alliance, Member
from alliances.pages import cached_alliance_page, cached_reader_page, datetime_text, list_page, render_alliance
from meetings.models import Meeting
from roundtable.http import AuthenticatedHttpRequest
from tasks import links, nudges, services
from tasks.forms import TodoDropForm, TodoEditForm, TodoForm, TodoUpdateForm
from tasks.models import Todo, TodoUpdate
from tasks.pages import (
    STATUS_ALL,
    TODOS_PER_PAGE,
    TodoRow,
    acted,
    alliance_todo_rows,
    chosen_pk,
    chosen_status,
    filter_status,
    in_order,
    my_todo_rows,
    options_html,
    row_labels,
    status_choices,
    todays,
)
from tasks.services import TodoConflict, TodoError

ROW_TEMPLATE = "tasks/_todo_list.html#todo-row"


def _redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the button was on (a list with its filters and page), sent by its form as `back`."""
    back = request.POST.get("back", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) and back.startswith("/"):
        return redirect(back)
    return redirect(default)


def _row_response(request: HttpRequest, row: TodoRow, *, done: bool, error: str = "") -> HttpResponse:
    return render(request, ROW_TEMPLATE, {"todo": acted(row, done=done, error=error), "labels": row_labels()})


# --- My to-dos ------------------------------------------------------------------------------------------


def _my_memberships(request: AuthenticatedHttpRequest) -> list[Member]:
    # Only what the list needs of each alliance: its name, its address and its zone (the day it is there).
    memberships = (
        Member.objects.active()
        .filter(user=request.user)
        .select_related("alliance")
        .only("alliance_id", "user_id", "alliance__name", "alliance__slug", "alliance__time_zone")
        .order_by("alliance__name", "pk")
    )
    return list(memberships)


def my_todos(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every to-do the reader owns in their alliances: overdue first, then by due date; 50 a page."""

    # Kept for the reader, as "my alliances" is, until one of their alliances changes (its version: every
    # change to a to-do renews it) or their memberships do.
    return cached_reader_page(request, "todos-of", lambda: _my_todos(request))


def _my_todos(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = _my_memberships(request)
    alliances = {m.alliance_id: m.alliance for m in memberships}
    by_slug = {alliance.slug: alliance for alliance in alliances.values()}
    chosen = by_slug.get(request.GET.get("alliance", ""))
    status = chosen_status(request.GET, default=Todo.Status.OPEN)
    days = todays(alliances.values())
    todos = Todo.objects.filter(owner__in=[m.pk for m in memberships]).only(
        "text", "due_on", "status", "alliance_id", "owner_id"
    )
    if chosen is not None:
        todos = todos.filter(alliance_id=chosen.pk)
    page = list_page(in_order(filter_status(todos, status, days), days), request.GET.get("page"), TODOS_PER_PAGE)
    context = {
        "page": page,
        "todos": my_todo_rows(page, alliances=alliances),
        "labels": row_labels(),
        "filtered": chosen is not None or status != Todo.Status.OPEN,
        "status_options": options_html(status_choices(), status),
        "alliance_options": options_html(((a.slug, a.name) for a in alliances.values()), chosen.slug if chosen else ""),
        "has_alliances": bool(alliances),
    }
    return render(request, "tasks/my_todos.html", context)


def _my_todo(request: AuthenticatedHttpRequest, pk: int) -> Todo:
    """One of the reader's own to-dos, in an alliance they are still in; anything else is 404."""
    todos = Todo.objects.filter(owner__user=request.user, owner__is_active=True).select_related("alliance", "owner")
    return get_object_or_404(todos, pk=pk)


def _my_row(todo: Todo) -> TodoRow:
    return my_todo_rows([todo], alliances={todo.alliance_id: todo.alliance})[0]


@require_POST
def my_todo_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    todo = _my_todo(request, pk)
    return _act(request, todo, by=todo.owner, done=True, row=_my_row, default=reverse("tasks:my_todos"))


@require_POST
def my_todo_reopen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    todo = _my_todo(request, pk)
    return _act(request, todo, by=todo.owner, done=False, row=_my_row, default=reverse("tasks:my_todos"))


def _act(
    request: AuthenticatedHttpRequest,
    todo: Todo,
    *,
    by: Member,
    done: bool,
    row: Callable[[Todo], TodoRow],
    default: str,
) -> HttpResponse:
    """Mark done (or reopen, the undo) from a list or a to-do's page: the row swapped in, or back to the page."""
    try:
        todo = services.mark_done(todo=todo, by=by) if done else services.reopen(todo=todo, by=by)
    except TodoError as error:
        if request.htmx:
            # Said in the row the person clicked, as it is now (htmx swaps a 200 only).
            todo.refresh_from_db()
            return _row_response(request, row(todo), done=done, error=str(error))
        messages.error(request, str(error))
        return _redirect_back(request, default)
    if request.htmx:
        return _row_response(request, row(todo), done=done)
    if done:
        messages.success(request, _("“%(todo)s” is done.") % {"todo": todo.text})
    else:
        messages.success(request, _("“%(todo)s” is open again.") % {"todo": todo.text})
    return _redirect_back(request, default)


# --- An alliance's to-dos -------------------------------------------------------------------------------


def _active_members(alliance: Alliance) -> list[Member]:
    members = (
        Member.objects.active()
        .filter(alliance=alliance)
        .select_related("user")
        .only("alliance_id", "is_active", "is_steward", "user_id", "user__display_name")
        .order_by("user__display_name", "pk")
    )
    return list(members)


def _member_names(alliance: Alliance) -> dict[int, str]:
    """The active members' names by membership, by name: the owner filter and the rows' owners.

    Values, not models: a large alliance's 400 members as model instances cost more than the list itself.
    """
    members = (
        Member.objects.active()
        .filter(alliance=alliance)
        .order_by("user__display_name", "pk")
        .values_list("pk", "user__display_name")
    )
    return dict(members)


def _may_change(member: Member) -> Callable[[Todo, int | None], bool]:
    """Whether `member` may change a to-do whose meeting's note taker is the one given (no query per row):
    tasks.services.may_change, which the services check again."""

    def check(todo: Todo, note_taker_id: int | None) -> bool:
        return member.is_steward or member.pk in (todo.owner_id, note_taker_id)

    return check


def _note_taker(todo: Todo) -> int | None:
    return todo.meeting.note_taker_id if todo.meeting_id and todo.meeting else None


def _owner_names(names: dict[int, str], todos: Iterable[Todo]) -> dict[int, str]:
    """The names of the owners of `todos`: the active members' from those the page has read, and a query
    only when former members own some of them."""
    former = {todo.owner_id for todo in todos} - names.keys()
    if not former:
        return names
    return names | dict(Member.objects.filter(pk__in=former).values_list("pk", "user__display_name"))


def todo_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The alliance's to-dos, filtered by owner, status and meeting: overdue first, then by due date."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _todo_list(request, member))


def _todo_list(request: HttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    names = _member_names(alliance)
    with_todos = Todo.objects.filter(alliance=alliance, meeting__isnull=False).values("meeting_id")
    meetings = list(
        Meeting.objects.filter(alliance=alliance, pk__in=with_todos)
        .only("starts_at", "note_taker_id", "alliance_id")
        .order_by("-starts_at")
    )
    owner = chosen_pk(request.GET, "owner", names)
    meeting = chosen_pk(request.GET, "meeting", (m.pk for m in meetings))
    status = chosen_status(request.GET, default=STATUS_ALL)
    days = todays([alliance])
    # The to-dos' own columns only: the owners' names and the meetings are those read above.
    todos = Todo.objects.filter(alliance=alliance).only(
        "text", "due_on", "status", "alliance_id", "owner_id", "meeting_id"
    )
    if owner is not None:
        todos = todos.filter(owner_id=owner)
    if meeting is not None:
        todos = todos.filter(meeting_id=meeting)
    page = list_page(in_order(filter_status(todos, status, days), days), request.GET.get("page"), TODOS_PER_PAGE)
    meeting_of = _("Meeting of %(date)s")
    context = {
        "page": page,
        "todos": alliance_todo_rows(
            page,
            alliance=alliance,
            owner_names=_owner_names(names, page),
            meetings={m.pk: m for m in meetings},
            may_change=_may_change(member),
        ),
        "labels": row_labels(),
        "filtered": owner is not None or meeting is not None or status != STATUS_ALL,
        "status_options": options_html(status_choices(), status),
        "owner_options": options_html(names.items(), owner),
        "meeting_options": options_html(
            ((m.pk, meeting_of % {"date": datetime_text(m.starts_at)}) for m in meetings), meeting
        ),
        "has_meetings": bool(meetings),
    }
    return render_alliance(request, member, "tasks/todo_list.html", context)


def _get_todo(member: Member, pk: int) -> Todo:
    todos = Todo.objects.filter(alliance=member.alliance).select_related("owner__user", "meeting", "item")
    todo = get_object_or_404(todos, pk=pk)
    todo.alliance = member.alliance
    if todo.meeting is not None:
        todo.meeting.alliance = member.alliance  # its link names the alliance: no query to fetch it again
    return todo


def _require_change(member: Member, todo: Todo) -> None:
    """Refused before the form is read: someone who may not change the to-do learns that first (403)."""
    if not _may_change(member)(todo, _note_taker(todo)):
        raise PermissionDenied(_("Only the owner of a to-do, its meeting's note taker and the stewards can change it."))


def _alliance_row(member: Member) -> Callable[[Todo], TodoRow]:
    def build(todo: Todo) -> TodoRow:
        return alliance_todo_rows(
            [todo],
            alliance=member.alliance,
            owner_names={todo.owner_id: todo.owner.user.display_name},
            meetings={todo.meeting.pk: todo.meeting} if todo.meeting_id and todo.meeting else {},
            may_change=_may_change(member),
        )[0]

    return build


@require_POST
def todo_done(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    todo = _get_todo(member, pk)
    default = reverse("tasks:todo_list", kwargs={"slug": slug})
    return _act(request, todo, by=member, done=True, row=_alliance_row(member), default=default)


@require_POST
def todo_reopen(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    todo = _get_todo(member, pk)
    default = reverse("tasks:todo_list", kwargs={"slug": slug})
    return _act(request, todo, by=member, done=False, row=_alliance_row(member), default=default)


@dataclass(frozen=True)
class UpdateRow:
    text: str
    byline: str  # "Ana, March 3, 2026, 4:05 p.m."


def _update_rows(todo: Todo) -> list[UpdateRow]:
    updates = TodoUpdate.objects.filter(todo=todo).select_related("author__user")
    byline, someone = _("%(who)s, %(when)s"), _("someone")
    return [
        UpdateRow(
            text=update.text,
            byline=byline
            % {
                "who": update.author.user.display_name if update.author else someone,
                "when": datetime_text(update.created_at),
            },
        )
        for update in updates
    ]


def todo_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """One to-do: what, who, by when, where it came from, its progress updates and what the reader may do."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _todo_detail(request, member, pk))


def _todo_detail(
    request: HttpRequest,
    member: Member,
    pk: int,
    *,
    update_form: TodoUpdateForm | None = None,
    drop_form: TodoDropForm | None = None,
    status: int = 200,
) -> HttpResponse:
    todo = _get_todo(member, pk)
    today = services.today_for(member.alliance)
    context = {
        "todo": todo,
        "overdue": todo.is_overdue(today),
        "updates": _update_rows(todo),
        "may_change": _may_change(member)(todo, _note_taker(todo)),
        "update_form": update_form or TodoUpdateForm(),
        "drop_form": drop_form or TodoDropForm(),
        "done_at": datetime_text(todo.done_at) if todo.done_at else "",
    }
    return render_alliance(request, member, "tasks/todo_detail.html", context, status=status)


@require_POST
def todo_drop(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    todo = _get_todo(member, pk)
    _require_change(member, todo)
    form = TodoDropForm(request.POST)
    if form.is_valid():
        try:
            services.drop(todo=todo, reason=form.cleaned_data["reason"], by=member)
        except TodoError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The to-do is dropped; the reason is kept with it."))
            return redirect("tasks:todo_detail", slug=slug, pk=pk)
    return _todo_detail(request, member, pk, drop_form=form, status=400)


@require_POST
def todo_update_add(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_membership(request, slug)
    todo = _get_todo(member, pk)
    _require_change(member, todo)
    form = TodoUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.add_update(todo=todo, text=form.cleaned_data["text"], by=member)
        except TodoError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, _("Your update has been added."))
            return redirect("tasks:todo_detail", slug=slug, pk=pk)
    return _todo_detail(request, member, pk, update_form=form, status=400)


def todo_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Any member adds a to-do between meetings: what, who (themselves at first) and by when."""
    member = get_membership(request, slug)
    # The empty form lists every active member as an owner: kept until the alliance changes (or the minute
    # does: the due date it proposes moves with the day).
    return cached_alliance_page(request, member, lambda: _todo_create(request, member, slug))


def _todo_create(request: HttpRequest, member: Member, slug: str) -> HttpResponse:
    alliance = member.alliance
    members = _active_members(alliance)
    initial = {"owner": member.pk, "due_on": services.default_due_on(alliance=alliance)}
    form = TodoForm(request.POST or None, members=members, initial=initial)
    if form.is_valid():
        try:
            todo = services.capture_todo(
                alliance=alliance,
                text=form.cleaned_data["text"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
                by=member,
            )
        except TodoError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The to-do has been added."))
            return redirect("tasks:todo_detail", slug=slug, pk=todo.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "heading": _("Add a to-do"), "submit": _("Add the to-do")}
    return render_alliance(request, member, "tasks/todo_form.html", context, status=status)


def todo_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change what, who or by when; an edit made on a stale copy is refused and shows both versions."""
    member = get_membership(request, slug)
    # The empty form carries the to-do's version, which every change renews with the alliance's version.
    return cached_alliance_page(request, member, lambda: _todo_edit(request, member, slug, pk))


def _todo_edit(request: HttpRequest, member: Member, slug: str, pk: int) -> HttpResponse:
    todo = _get_todo(member, pk)
    _require_change(member, todo)
    initial = {"text": todo.text, "owner": todo.owner_id, "due_on": todo.due_on, "version": todo.version}
    form = TodoEditForm(request.POST or None, members=_active_members(member.alliance), initial=initial)
    conflict: TodoConflict | None = None
    if form.is_valid():
        try:
            services.update_todo(
                todo=todo,
                by=member,
                expected_version=form.cleaned_data["version"],
                text=form.cleaned_data["text"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
            )
        except TodoConflict as error:
            conflict = error
            # The form now carries the current version: saving the merged text is accepted.
            data = request.POST.copy()
            data["version"] = str(error.version)
            form = TodoEditForm(data, members=_active_members(member.alliance), initial=initial)
            form.is_valid()
            form.add_error(None, str(error))
        except TodoError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The to-do has been saved."))
            return redirect("tasks:todo_detail", slug=slug, pk=pk)
    context = {
        "form": form,
        "todo": todo,
        "conflict": conflict,
        "heading": _("Edit the to-do"),
        "submit": _("Save the to-do"),
    }
    status = 409 if conflict else 400 if form.is_bound else 200
    return render_alliance(request, member, "tasks/todo_form.html", context, status=status)


# --- The one-click link from email ----------------------------------------------------------------------


def _link_language(request: HttpRequest, todo: Todo | None) -> None:
    # Someone not signed in reads the page in the owner's language, unless they chose one (the cookie).
    if todo is None or request.user.is_authenticated or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    translation.activate(todo.owner.user.language)
    request.LANGUAGE_CODE = todo.owner.user.language


def _link_problem_text(check: links.LinkCheck) -> tuple[str, str]:
    """What the page of a link that cannot be used says: a heading, and what happened or what to do."""
    problem = check.problem
    if problem == links.LinkProblem.EXPIRED:
        days = settings.TODO_LINK_MAX_AGE_DAYS
        return _("This link has expired"), ngettext(
            "The links in our emails work for %(days)s day. Sign in to mark your to-dos done from your list.",
            "The links in our emails work for %(days)s days. Sign in to mark your to-dos done from your list.",
            days,
        ) % {"days": days}
    if problem == links.LinkProblem.CLOSED and check.todo is not None and check.todo.status == Todo.Status.DONE:
        return _("This to-do is already done"), _("Nothing more to do here: it was marked done already.")
    if problem == links.LinkProblem.CLOSED:
        return _("This to-do was dropped"), _("It will not be done; its page in the alliance says why.")
    if problem == links.LinkProblem.NOT_YOURS:
        return _("This link is no longer yours"), _(
            "The to-do this link was for has another owner now, or its owner is no longer in the alliance."
        )
    if problem == links.LinkProblem.MISSING:
        return _("This to-do no longer exists"), _("It may have been removed along with its alliance.")
    return _("This link does not work"), _(
        "The link may have been cut or changed when it was copied. Use the whole link from the email, "
        "or sign in and find the to-do in your list."
    )


@login_not_required
def todo_link(request: HttpRequest, token: str) -> HttpResponse:
    """The "Mark done" link of an email: the GET shows the to-do and one button, only the POST marks it done.

    Mail scanners open every link in an email; a GET here changes nothing. No sign-in is needed: the
    signed link names the to-do and its owner (tasks/links.py).
    """
    check = links.check_link(token)
    _link_language(request, check.todo)
    if check.problem is not None:
        heading, explanation = _link_problem_text(check)
        context = {"heading": heading, "explanation": explanation, "next": reverse("tasks:my_todos")}
        return render(request, "tasks/todo_link_invalid.html", context, status=check.status)
    todo = check.todo
    assert todo is not None  # noqa: S101 - check_link gives a to-do whenever there is no problem
    if request.method == "POST":
        try:
            services.mark_done(todo=todo, by=todo.owner)
        except TodoError as error:
            messages.error(request, str(error))
        else:
            is_owner = request.user.is_authenticated and request.user.pk == todo.owner.user_id
            done: dict[str, object] = {"todo": todo, "is_owner": is_owner, "next": reverse("tasks:my_todos")}
            return render(request, "tasks/todo_link_done.html", done)
    page: dict[str, object] = {
        "todo": todo,
        "due": todo.due_on,
        "overdue": todo.is_overdue(services.today_for(todo.alliance)),
    }
    return render(request, "tasks/todo_link.html", page)
    return render(request, "tasks/todo_link.html", context)


# --- The one-click "stop these emails" link of every nudge ------------------------------------------------


# csrf_exempt: mail providers send the RFC 8058 one-click POST ("List-Unsubscribe=One-Click") without a
# cookie or a CSRF token; the signed token in the URL is the credential, and all it can do is turn nudges off.
@csrf_exempt
@login_not_required
def nudges_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every nudge email: the GET shows one button (mail scanners open links), the POST stops them."""
    user, expired = nudges.user_for_unsubscribe(token)
    if user is None:
        context = {"expired": expired, "next": reverse("accounts:profile")}
        return render(request, "tasks/nudges_unsubscribe_invalid.html", context, status=410 if expired else 400)
    if not request.user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
    if request.method == "POST":
        nudges.nudges_turn_off(user=user)
        return render(request, "tasks/nudges_unsubscribe_done.html", {"profile_url": reverse("accounts:profile")})
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    return render(request, "tasks/nudges_unsubscribe.html", {"email": user.email, "enabled": user.nudges_enabled})
