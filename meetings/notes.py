"""A meeting's notes: assembled from what the run of show recorded, sent once, final after, amended openly.

- `notes_build(meeting)` reads the notes in a constant number of queries: attendance, the reflection, each
  item with its round-robin thoughts, discussion, decision (outcome, stand-asides) or deferral, the
  to-dos, the takeaways with their ratings, the next meeting with its roles, and the amendments.
- `notes_send` emails them to every active member once (outbox key `meetings.notes:<id>`), each copy
  opening with what concerns its reader (their own to-dos with a one-click "done" link; for someone who
  was absent or excused, the decisions taken without them), Reply-To the note taker, with the next
  meeting's calendar invitation. From then on the notes are final: the recording services refuse changes
  (`run.require_started`), and a correction is a `NoteAmendment`, shown with the notes and emailed.
- `meeting_remind_notes` reminds the note taker kindly 24 hours after the meeting ended, again after
  3 days, and tells the facilitator after 7 days; each reminder is claimed by a conditional update.

Who may: the note taker, the facilitator and the stewards review, send and amend the notes. Other members
read them once sent; before that they are a draft that only those three see (the note taker is still
correcting it, and a member should not take a draft's to-do or decision for the record).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances.models import Alliance, Member
from meetings import calendar, consensus, run
from meetings.consensus import StanceLine
from meetings.models import AgendaItem, Attendance, Meeting, NoteAmendment, Reflection, RoundRobin, Turn
from meetings.services import MeetingError
from outbox.services import Address, SharedPart, absolute_url, mail_send
from tasks.links import done_link
from tasks.models import Todo

# When the note taker is reminded (after the meeting ended), and then when the facilitator is told.
REMINDER_DELAYS = [timedelta(days=1), timedelta(days=3), timedelta(days=7)]
# A meeting that ended longer ago than this is not reminded about any more (nor one from before the notes
# existed: nobody is nagged about last year's meetings).
REMINDER_WINDOW = timedelta(days=30)


# --- Who may -------------------------------------------------------------------------------------------


def may_manage(meeting: Meeting, member: Member) -> bool:
    """The note taker, the facilitator and the stewards review, send and amend the notes."""
    return run.may_record(meeting, member) or run.may_drive(meeting, member)


def may_read(meeting: Meeting, member: Member) -> bool:
    """Sent notes are every member's; a draft is only for those who manage it."""
    return meeting.notes_sent_at is not None or may_manage(meeting, member)


# --- What the notes hold ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thought:
    name: str
    passed: bool
    text: str
    rating: int | None = None
    # How long they held the floor, "2:05" (minutes:seconds); empty when the turn was not timed.
    spoke: str = ""


def _spoke(turn: Turn) -> str:
    if turn.passed or turn.started_at is None or turn.ended_at is None:
        return ""
    seconds = max(int((turn.ended_at - turn.started_at).total_seconds()), 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True)
class TodoLine:
    todo: Todo
    text: str
    owner_id: int
    owner_name: str
    due_on: Any
    status: str
    status_label: str
    item_title: str

    @property
    def is_open(self) -> bool:
        return self.status == Todo.Status.OPEN


@dataclass
class NotesItem:
    pk: int
    number: int
    title: str
    kind_label: str
    presenter: str
    thoughts: list[Thought] = field(default_factory=list)
    discussion: str = ""
    outcome: str = ""
    outcome_label: str = ""
    decision_text: str = ""
    versions: int = 0
    stand_asides: list[StanceLine] = field(default_factory=list)
    blocks: list[StanceLine] = field(default_factory=list)
    deferred: bool = False
    carried_to: Meeting | None = None
    carried_to_url: str = ""
    todos: list[TodoLine] = field(default_factory=list)


@dataclass(frozen=True)
class AttendanceLine:
    member_id: int
    name: str
    status: str
    arrived_at: datetime | None


@dataclass
class Notes:
    meeting: Meeting
    alliance: Alliance
    facilitator_name: str
    note_taker_name: str
    present: list[AttendanceLine]
    excused: list[AttendanceLine]
    absent: list[AttendanceLine]
    reflection: Reflection | None
    items: list[NotesItem]
    todos: list[TodoLine]
    takeaways: list[Thought]
    next_meeting: Meeting | None
    amendments: list[NoteAmendment]

    @property
    def is_sent(self) -> bool:
        return self.meeting.notes_sent_at is not None

    @property
    def late(self) -> list[AttendanceLine]:
        return [line for line in self.present if line.arrived_at is not None]

    @property
    def decisions(self) -> list[NotesItem]:
        return [item for item in self.items if item.decision_text]

    @property
    def ratings(self) -> list[int]:
        return [t.rating for t in self.takeaways if t.rating is not None]

    @property
    def rating_average(self) -> str:
        ratings = self.ratings
        return f"{sum(ratings) / len(ratings):.1f}" if ratings else ""

    def attendance_of(self, member_id: int) -> str:
        for lines, status in ((self.present, "present"), (self.excused, "excused"), (self.absent, "absent")):
            if any(line.member_id == member_id for line in lines):
                return status
        return ""


def _name(member: Member | None) -> str:
    return member.user.display_name if member is not None else ""


def notes_build(meeting: Meeting) -> Notes:
    """The notes of `meeting`, in twelve queries whatever its size."""
    meeting = (
        Meeting.objects.select_related(
            "alliance",
            "facilitator__user",
            "note_taker__user",
            "next_meeting__facilitator__user",
            "next_meeting__note_taker__user",
        )
        .filter(pk=meeting.pk)
        .get()
    )
    alliance = meeting.alliance
    roll = list(
        Attendance.objects.filter(meeting=meeting).select_related("member__user").order_by("member__joined_at", "pk")
    )
    lines: dict[str, list[AttendanceLine]] = {status: [] for status in Attendance.Status.values}
    for mark in roll:
        lines[mark.status].append(AttendanceLine(mark.member_id, _name(mark.member), mark.status, mark.arrived_at))

    review = consensus.review(meeting)
    reviewed = {row.item.pk: row for row in review.items}
    agenda_items = list(AgendaItem.objects.filter(meeting=meeting).on_agenda().select_related("presenter__user"))
    turns = Turn.objects.select_related("member__user").order_by("position")
    round_robins = list(
        RoundRobin.objects.filter(meeting=meeting)
        .order_by("started_at", "pk")
        .prefetch_related(Prefetch("turns", queryset=turns))
    )
    kinds = dict(AgendaItem.Kind.choices)
    statuses = dict(Todo.Status.choices)
    titles = {item.pk: item.title for item in agenda_items}
    todos = [
        TodoLine(
            todo=todo,
            text=todo.text,
            owner_id=todo.owner_id,
            owner_name=_name(todo.owner),
            due_on=todo.due_on,
            status=todo.status,
            status_label=str(statuses[todo.status]),
            item_title=titles.get(todo.item_id, ""),
        )
        for todo in review.todos
    ]
    meeting_url = reverse("meetings:meeting_detail", kwargs={"slug": alliance.slug, "pk": 0})
    items = []
    for number, item in enumerate(agenda_items, start=1):
        row = NotesItem(
            pk=item.pk,
            number=number,
            title=item.title,
            kind_label=str(kinds.get(item.kind, item.kind)),
            presenter=_name(item.presenter),
            discussion=item.discussion,
            todos=[line for line in todos if line.todo.item_id == item.pk],
        )
        for robin in round_robins:
            if robin.item_id == item.pk:
                row.thoughts += [
                    Thought(_name(t.member), t.passed, t.thought, spoke=_spoke(t)) for t in robin.turns.all()
                ]
        found = reviewed.get(item.pk)
        if found is not None:
            row.outcome, row.outcome_label, row.versions = found.outcome, found.outcome_label, found.versions
            row.decision_text = found.decision.text if found.decision is not None else ""
            row.stand_asides, row.blocks = found.stand_asides, found.blocks
            row.deferred = item.deferred_at is not None
            row.carried_to = found.carried_to
            if found.carried_to is not None:
                row.carried_to_url = meeting_url.replace("/0/", f"/{found.carried_to.pk}/")
        items.append(row)
    takeaways = [
        Thought(_name(t.member), t.passed, t.thought, t.rating)
        for robin in round_robins
        if robin.is_evaluation
        for t in robin.turns.all()
    ]
    following = meeting.next_meeting
    if following is not None:
        following.alliance = alliance
    return Notes(
        meeting=meeting,
        alliance=alliance,
        facilitator_name=_name(meeting.facilitator),
        note_taker_name=_name(meeting.note_taker),
        present=lines[Attendance.Status.PRESENT],
        excused=lines[Attendance.Status.EXCUSED],
        absent=lines[Attendance.Status.ABSENT],
        reflection=Reflection.objects.filter(meeting=meeting).first(),
        items=items,
        todos=todos,
        takeaways=takeaways,
        next_meeting=following,
        amendments=list(NoteAmendment.objects.filter(meeting=meeting).select_related("author__user")),
    )


@dataclass(frozen=True)
class Concerns:
    """What a reader's copy opens with: their own open to-dos, and the decisions taken without them."""

    todos: list[tuple[TodoLine, str]]
    missed: str  # "absent" or "excused" if they were not there, else ""
    missed_decisions: list[NotesItem]

    @property
    def any(self) -> bool:
        return bool(self.todos or self.missed_decisions)

    @property
    def key(self) -> tuple:
        """Equal for two readers whose copies open alike (`mail_send(alike=…)`)."""
        return (
            tuple((line.todo.pk, link) for line, link in self.todos),
            self.missed,
            tuple(item.pk for item in self.missed_decisions),
        )


def reader_concerns(notes: Notes, member: Member) -> Concerns:
    """The opening of `member`'s copy; the links mark each of their open to-dos done in one click."""
    todos = [(line, done_link(line.todo)) for line in notes.todos if line.owner_id == member.pk and line.is_open]
    status = notes.attendance_of(member.pk)
    missed = status if status in (Attendance.Status.ABSENT, Attendance.Status.EXCUSED) else ""
    return Concerns(todos=todos, missed=missed, missed_decisions=notes.decisions if missed else [])


def notes_markdown(notes: Notes) -> str:
    """The notes as Markdown, in the active language and time zone (the export and the emails' text)."""
    return render_to_string("meetings/notes.md", {"notes": notes, "site_url": absolute_url("")})


# --- Sending -----------------------------------------------------------------------------------------------


def _active_members(meeting: Meeting) -> list[Member]:
    return list(Member.objects.active().filter(alliance_id=meeting.alliance_id).select_related("user").order_by("pk"))


def _urls(meeting: Meeting, alliance: Alliance) -> dict[str, str]:
    kwargs = {"slug": alliance.slug, "pk": meeting.pk}
    return {
        "notes_url": absolute_url(reverse("meetings:notes_detail", kwargs=kwargs)),
        "meeting_url": absolute_url(reverse("meetings:meeting_detail", kwargs=kwargs)),
    }


def _invitation_for(notes: Notes):
    """The next meeting's calendar invitation for each reader, if it is still to come."""
    following = notes.next_meeting
    if following is None or following.status != Meeting.Status.SCHEDULED or following.starts_at <= timezone.now():
        return None
    return calendar.invitations(meeting=following, method=calendar.REQUEST)


def _record_calendar_holders(following: Meeting, members: list[Member]) -> None:
    """Those who got the next meeting's invitation with the notes get its updates and cancellation too
    (meetings/sending.py reads who holds the event from the agenda's snapshot)."""
    following = Meeting.objects.select_for_update().get(pk=following.pk)
    snapshot = dict(following.agenda_sent_snapshot or {})
    snapshot["recipients"] = sorted(set(snapshot.get("recipients", [])) | {m.user_id for m in members})
    snapshot.setdefault("calendar_starts_at", following.starts_at.isoformat())
    Meeting.objects.filter(pk=following.pk).update(agenda_sent_snapshot=snapshot)


def _user_pk(address: Address) -> int:
    # Every recipient here is a member's account (Address.for_user): its user is always set.
    return address.user.pk if address.user is not None else 0


@transaction.atomic
def notes_send(*, meeting: Meeting, by: Member, now: datetime | None = None) -> Meeting:
    """Email the notes of an ended meeting to every active member, once; from then on they are final."""
    now = now or timezone.now()
    meeting = run.lock(meeting)
    if not may_manage(meeting, by):
        raise PermissionDenied(_("Only the note taker, the facilitator and the stewards can send the notes."))
    if meeting.status != Meeting.Status.ENDED:
        raise MeetingError(_("The notes are sent once the meeting has ended."))
    if meeting.notes_sent_at is not None:
        raise MeetingError(_("The notes were sent already: record an amendment to correct them."))
    notes = notes_build(meeting)
    notes.meeting.notes_sent_at = now  # the copies are the notes as sent, not the draft
    members = _active_members(meeting)
    concerns = {m.user_id: reader_concerns(notes, m) for m in members}
    invitation = _invitation_for(notes)
    mail_send(
        template="notes",
        recipients=[Address.for_user(m.user) for m in members],
        context={
            "notes": notes,
            # The notes themselves read the same in every copy of a language and time zone: rendered once
            # for each, so that sending to 500 members costs the click well under a second.
            "notes_text": SharedPart("meetings/notes.md", {"notes": notes}),
            "notes_html": SharedPart("emails/notes_shared.html", {"notes": notes}),
            **_urls(meeting, notes.alliance),
        },
        context_for=lambda address: {"concerns": concerns[_user_pk(address)]},
        # The copies name nobody: those whose opening is the same (most have no to-do of their own, and
        # the absent all miss the same decisions) are the same email in each language and time zone.
        alike=lambda address: concerns[_user_pk(address)].key,
        scope=notes.alliance.mail_scope,
        reply_to=meeting.note_taker.user.email if meeting.note_taker is not None else "",
        key=f"meetings.notes:{meeting.pk}",
        # The copies carry one-click links that mark a to-do done without signing in.
        secret=True,
        attachments_for=invitation,
    )
    if invitation is not None and notes.next_meeting is not None:
        _record_calendar_holders(notes.next_meeting, members)
    # bump() saves through an UPDATE and renews the alliance's version: the kept pages show "sent".
    run.bump(meeting, notes_sent_at=now, notes_sent_by=by)
    return meeting


@transaction.atomic
def notes_amend(
    *, meeting: Meeting, by: Member, text: str, section: str = "", now: datetime | None = None
) -> NoteAmendment:
    """Record a correction to notes already sent, and tell every member what changed."""
    now = now or timezone.now()
    meeting = run.lock(meeting)
    if not may_manage(meeting, by):
        raise PermissionDenied(_("Only the note taker, the facilitator and the stewards can amend the notes."))
    if meeting.notes_sent_at is None:
        raise MeetingError(_("The notes have not been sent yet: correct the draft itself."))
    text = text.strip()
    if not text:
        raise MeetingError(_("Say what changed in the notes."))
    if len(text) > NoteAmendment.TEXT_MAX_LENGTH:
        raise MeetingError(_("Keep the amendment under 5,000 characters."))
    if section and section not in NoteAmendment.Section.values:
        raise MeetingError(_("Choose a section of the notes, or none."))
    amendment = NoteAmendment.objects.create(meeting=meeting, section=section, text=text, author=by, created_at=now)
    alliance = Alliance.objects.get(pk=meeting.alliance_id)
    by_user = Member.objects.select_related("user").get(pk=by.pk)
    mail_send(
        template="notes_amended",
        recipients=[Address.for_user(m.user) for m in _active_members(meeting)],
        context={
            "meeting": meeting,
            "alliance": alliance,
            "amendment": amendment,
            "author_name": by_user.user.display_name,
            **_urls(meeting, alliance),
        },
        # Every copy reads the same in its language and time zone: rendered once for each, not once a member.
        alike=lambda address: None,
        scope=alliance.mail_scope,
        reply_to=by_user.user.email,
        key=f"meetings.notes_amendment:{amendment.pk}",
    )
    run.bump(meeting)
    return amendment


# --- Reminders -------------------------------------------------------------------------------------------


def meetings_due_notes_reminder(*, now: datetime) -> list[int]:
    """The ended meetings whose notes are unsent and whose next reminder is due now (a partial index)."""
    due = Q()
    for stage, delay in enumerate(REMINDER_DELAYS):
        due |= Q(notes_reminder_count=stage, ended_at__lte=now - delay)
    return list(
        Meeting.objects.filter(
            status=Meeting.Status.ENDED, notes_sent_at__isnull=True, ended_at__gt=now - REMINDER_WINDOW
        )
        .filter(due)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _reminded(meeting: Meeting, stage: int) -> list[Member]:
    """The note taker for the first reminders, then the facilitator; the stewards when neither is a member."""
    first = meeting.note_taker if stage < len(REMINDER_DELAYS) - 1 else meeting.facilitator
    if first is not None and first.is_active:
        return [first]
    return list(Member.objects.active().filter(alliance_id=meeting.alliance_id, is_steward=True).select_related("user"))


@transaction.atomic
def meeting_remind_notes(*, meeting_id: int, now: datetime) -> bool:
    """Send the meeting's next reminder about its unsent notes; true if this call sent it.

    Claimed by a conditional UPDATE of `notes_reminder_count` from the stage it read: of two jobs that
    run at once (or one that runs twice), one moves the count on and sends; the other sends nothing.
    """
    meeting = (
        Meeting.objects.select_related("alliance", "facilitator__user", "note_taker__user")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or meeting.ended_at is None:
        return False
    stage = meeting.notes_reminder_count
    if stage >= len(REMINDER_DELAYS) or meeting.ended_at > now - REMINDER_DELAYS[stage]:
        return False
    claimed = Meeting.objects.filter(
        pk=meeting.pk,
        status=Meeting.Status.ENDED,
        notes_sent_at__isnull=True,
        notes_reminder_count=stage,
        ended_at__gt=now - REMINDER_WINDOW,
    ).update(notes_reminder_count=stage + 1, notes_reminded_at=now)
    if claimed != 1:
        return False
    recipients = _reminded(meeting, stage)
    if not recipients:
        return True
    mail_send(
        template="notes_reminder",
        recipients=[Address.for_user(m.user) for m in recipients],
        context={
            "meeting": meeting,
            "alliance": meeting.alliance,
            "note_taker_name": _name(meeting.note_taker),
            "to_facilitator": stage == len(REMINDER_DELAYS) - 1,
            "again": stage > 0,
            **_urls(meeting, meeting.alliance),
        },
        scope=meeting.alliance.mail_scope,
        key=f"meetings.notes_reminder:{meeting.pk}:{stage + 1}",
    )
    return True
