"""One-click links from email: "Mark done" for one to-do, for its owner, for a while.

The link is signed (`django.core.signing`, a salt of its own), so it cannot be made up or changed, and it
names both the to-do and the person who owned it when the email was written: if the to-do has changed
hands since, the link no longer works for it. It expires after TODO_LINK_MAX_AGE_DAYS.

Mail scanners open every link in an email, so the page the link opens changes nothing: it shows the to-do
and one "Mark done" button, and only that POST marks it done (tasks/views.py, `todo_link`).
"""

import enum
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tasks.models import Todo

SALT = "tasks.todo-done"


def max_age_seconds() -> int:
    return settings.TODO_LINK_MAX_AGE_DAYS * 24 * 60 * 60


def done_token(todo: Todo) -> str:
    # Short keys: the token is part of a URL in an email.
    return signing.dumps({"t": todo.pk, "u": todo.owner.user_id}, salt=SALT)


def done_link(todo: Todo) -> str:
    """The absolute URL of the page that marks `todo` done, for its owner, until the link expires."""
    return settings.SITE_URL + reverse("tasks:todo_link", kwargs={"token": done_token(todo)})


class LinkProblem(enum.Enum):
    """Why a link cannot mark its to-do done."""

    DAMAGED = "damaged"  # not a link we made: cut when copied, or changed
    MISSING = "missing"  # the to-do is gone
    EXPIRED = "expired"
    NOT_YOURS = "not-yours"  # the to-do has another owner now, or its owner has left the alliance
    CLOSED = "closed"  # done already (the link was used), or dropped


# The page's status for each problem: a link we did not make is a bad request, one whose to-do is gone
# is not found, and one that worked once (or was meant for someone, for a while) is gone.
PROBLEM_STATUS = {
    LinkProblem.DAMAGED: 400,
    LinkProblem.MISSING: 404,
    LinkProblem.EXPIRED: 410,
    LinkProblem.NOT_YOURS: 410,
    LinkProblem.CLOSED: 410,
}


@dataclass(frozen=True)
class LinkCheck:
    """What a link points at, if anything, and what stops it from marking it done, if anything."""

    todo: Todo | None
    problem: LinkProblem | None

    @property
    def status(self) -> int:
        return PROBLEM_STATUS[self.problem] if self.problem else 200


def check_link(token: str) -> LinkCheck:
    """The to-do a link marks done, or why it cannot: checked on the GET and again on the POST."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age_seconds())
    except signing.SignatureExpired:
        return LinkCheck(None, LinkProblem.EXPIRED)
    except signing.BadSignature:
        return LinkCheck(None, LinkProblem.DAMAGED)
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int) or not isinstance(payload.get("u"), int):
        return LinkCheck(None, LinkProblem.DAMAGED)
    todo = Todo.objects.select_related("alliance", "owner__user").filter(pk=payload["t"]).first()
    if todo is None:
        return LinkCheck(None, LinkProblem.MISSING)
    if todo.owner.user_id != payload["u"] or not todo.owner.is_active:
        return LinkCheck(todo, LinkProblem.NOT_YOURS)
    if todo.status != Todo.Status.OPEN:
        return LinkCheck(todo, LinkProblem.CLOSED)
    return LinkCheck(todo, None)
