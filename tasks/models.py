"""To-dos: what someone in the alliance said they would do, by when, and how it is going.

A to-do is usually captured during a meeting, at the decision (or the item) it came from, and followed
up afterwards until it is done or dropped with a reason. Its due date is a calendar day in the alliance's
zone: "by Tuesday" means Tuesday where the alliance meets, whatever the server's clock says.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliances.models import Alliance, Member

# A to-do is one line: the "what" that lists, the nudge digest and the calendar feed (an iCalendar
# SUMMARY) show as a title. A CharField says so in the schema (varchar on PostgreSQL), the length check
# holds it on SQLite too, and anything longer belongs in a progress update, which is free text.
TODO_TEXT_MAX_LENGTH = 500


class TodoQuerySet(models.QuerySet):
    def for_alliance(self, alliance: Alliance) -> "TodoQuerySet":
        return self.filter(alliance=alliance)

    def visible_to(self, user) -> "TodoQuerySet":
        """To-dos of the alliances the user is an active member of."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(alliance__members__user=user, alliance__members__is_active=True)

    def open(self) -> "TodoQuerySet":
        return self.filter(status=Todo.Status.OPEN)

    def owned_by(self, member: Member) -> "TodoQuerySet":
        return self.filter(owner=member)

    def overdue(self, today: date) -> "TodoQuerySet":
        """Open to-dos whose due day has passed; `today` is the day in the alliance's zone."""
        return self.open().filter(due_on__lt=today)


class Todo(models.Model):
    """Something a member will do for the alliance: what, who (the owner) and by when."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    TEXT_MAX_LENGTH = TODO_TEXT_MAX_LENGTH

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="todos")
    # Where it came from: the meeting, and the agenda item (so the decision) it was captured at. A to-do
    # added between meetings has neither.
    meeting = models.ForeignKey(
        "meetings.Meeting",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="todos",
        verbose_name=_("meeting"),
    )
    item = models.ForeignKey(
        "meetings.AgendaItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="todos",
        verbose_name=_("agenda item"),
    )
    text = models.CharField(_("to-do"), max_length=TODO_TEXT_MAX_LENGTH)
    # PROTECT: a membership is never deleted (a former member's row stays), and a to-do must keep its owner.
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="todos", verbose_name=_("owner"))
    due_on = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    drop_reason = models.TextField(_("why it was dropped"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Raised by every edit of the text, owner or due date: an edit made on a stale copy is refused and
    # shows both texts (tasks.services.update_todo), never a silent overwrite.
    version = models.PositiveIntegerField(default=0)

    objects = TodoQuerySet.as_manager()

    class Meta:
        verbose_name = _("to-do")
        verbose_name_plural = _("to-dos")
        ordering = ["due_on", "pk"]
        indexes = [
            # My to-dos (open first, by due date) and the nudge job's due and overdue scans.
            models.Index(fields=["owner", "status", "due_on"], name="tasks_todo_owner_status_due"),
            # The alliance's to-dos and the next agenda's "review of open to-dos".
            models.Index(fields=["alliance", "status", "due_on"], name="tasks_todo_alliance_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="dropped") | ~models.Q(drop_reason=""),
                name="tasks_todo_dropped_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="done", done_at__isnull=False)
                | (~models.Q(status="done") & models.Q(done_at__isnull=True)),
                name="tasks_todo_done_at_when_done",
            ),
            models.CheckConstraint(
                condition=~models.Q(text="") & ~models.Q(text__contains="\n") & ~models.Q(text__contains="\r"),
                name="tasks_todo_text_one_line",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), TODO_TEXT_MAX_LENGTH), name="tasks_todo_text_length"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today


class TodoUpdate(models.Model):
    """A short, dated word on how a to-do is going ("called the library, waiting for an answer")."""

    todo = models.ForeignKey(Todo, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    text = models.TextField(_("update"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="tasks_todoupdate_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class NudgeDigest(models.Model):
    """One nudge email to one person: their to-dos digest of a day, or their follow-up digest of a week.

    The row is the claim (tasks/nudges.py): inserted in the transaction that records the email, unique per
    person, kind and day, so that a job that runs twice, or two workers at once, send it once.
    """

    class Kind(models.TextChoices):
        TODOS = "todos", _("To-dos due or overdue")
        FOLLOWUP = "followup", _("Follow-up of a note taker's meetings")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nudge_digests")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The person's own calendar day (to-dos), or the Monday of the week (follow-up).
    on_date = models.DateField(_("for the day"))
    # Who inserted it: a job finds the rows it claimed by this, among those another job got first.
    claim = models.UUIDField(editable=False)
    # What it named: the to-do ids with their reason ({"12": "overdue"}), for operators and tests.
    todos = models.JSONField(_("to-dos"), default=dict, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("nudge")
        verbose_name_plural = _("nudges")
        ordering = ["-on_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "on_date"], name="tasks_nudgedigest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.on_date}"
