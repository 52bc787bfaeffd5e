"""Consensus decisions during the run of show: proposals, stances, the check, deferral, and the review.

A proposal is put to a consensus check: every participant marked present takes a stance (agree, stand
aside or block; the last two with a reason). Nobody blocks: consensus, and the decision is recorded with
the proposal's text. Someone blocks: no decision; the proposal is amended (a new proposal, number n+1,
checked again; every version keeps its stances) or the item is deferred to the next meeting's agenda.

Every write is a keyword-only service that owns its transaction, locks the meeting row first (two
stances sent at once from two phones take turns, and a check is never resolved while a stance is being
changed), checks who may act on the locked row, and raises the meeting's revision (meetings/run.py), so
that every live page shows the change at its next poll.

Who may:
- write and amend proposals, resolve the check, defer an item: the facilitator, the note taker and the
  stewards;
- record a stance: each present participant their own, from their own device; the note taker or the
  facilitator anyone's who is present.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliances.models import Alliance, Member
from meetings import run
from meetings.models import AgendaItem, Attendance, Decision, Meeting, Proposal, Stance
from meetings.services import MeetingError
from tasks.models import Todo

# As long as the texts typed live (meetings/texts.py).
PROPOSAL_MAX_LENGTH = 50_000
REASON_MAX_LENGTH = 5_000


# --- Checks -------------------------------------------------------------------------------------------


def _require_recorder(meeting: Meeting, by: Member) -> None:
    if not (run.may_record(meeting, by) or run.may_drive(meeting, by)):
        raise PermissionDenied(
            _("Only the meeting's facilitator, its note taker and the stewards can run the consensus check.")
        )


def _require_undecided(item: AgendaItem) -> None:
    """The item is on the agenda, and neither decided nor deferred yet."""
    if item.status != AgendaItem.Status.ACCEPTED:
        raise MeetingError(_("This item is not on the agenda."))
    if item.deferred_at is not None:
        raise MeetingError(_("This item was deferred to the next meeting."))
    if Decision.objects.filter(item=item).exists():
        raise MeetingError(_("This item has been decided already."))


def _clean_proposal(text: str) -> str:
    text = text.strip()
    if not text:
        raise MeetingError(_("A proposal needs its text."))
    if len(text) > PROPOSAL_MAX_LENGTH:
        raise MeetingError(_("This text is too long to save: keep it under 50,000 characters."))
    return text


def _is_present(meeting: Meeting, member: Member) -> bool:
    return Attendance.objects.filter(meeting=meeting, member=member, status=Attendance.Status.PRESENT).exists()


def _present_participants(meeting: Meeting) -> list[Member]:
    """Who takes part in a check: the active members marked present, in the alliance's stable order."""
    return list(
        Member.objects.filter(attendance__meeting=meeting, attendance__status=Attendance.Status.PRESENT, is_active=True)
        .select_related("user")
        .order_by("joined_at", "pk")
    )


def _name(member: Member) -> str:
    return str(member.user)


# --- Proposals ----------------------------------------------------------------------------------------


def _write(*, item: AgendaItem, text: str, by: Member, now: datetime, amending: Proposal | None) -> Proposal:
    meeting = run.lock(item.meeting_id)
    _require_recorder(meeting, by)
    run.require_in_progress(meeting)
    item = AgendaItem.objects.get(pk=item.pk)
    _require_undecided(item)
    text = _clean_proposal(text)
    latest = Proposal.objects.filter(item=item).order_by("-number").first()
    if amending is not None and (latest is None or latest.pk != amending.pk):
        raise MeetingError(_("This proposal has been amended already: amend the latest version."))
    # A blocked latest version is amended by this one; a consensus would have decided the item.
    if latest is not None and latest.outcome == Proposal.Outcome.OPEN:
        raise MeetingError(
            _(
                "A proposal is already under check on this item: resolve the check first, "
                "or correct its text while nobody has taken a stance."
            )
        )
    proposal = Proposal.objects.create(
        item=item, number=(latest.number + 1) if latest else 1, text=text, written_by=by, created_at=now
    )
    run.bump(meeting)
    return proposal


@transaction.atomic
def write_proposal(*, item: AgendaItem, text: str, by: Member, now: datetime | None = None) -> Proposal:
    """Put a proposal to the check on an item of the meeting in progress.

    The first proposal is number 1; after a block, writing again amends it (number n+1), and the blocked
    version stays with its stances.
    """
    return _write(item=item, text=text, by=by, now=now or timezone.now(), amending=None)


@transaction.atomic
def amend_proposal(*, proposal: Proposal, text: str, by: Member, now: datetime | None = None) -> Proposal:
    """Amend a blocked proposal: a new version (number n+1) goes to a new check; the old one is kept."""
    return _write(item=proposal.item, text=text, by=by, now=now or timezone.now(), amending=proposal)


# --- Stances ------------------------------------------------------------------------------------------


def _clean_reason(kind: str, reason: str) -> str:
    if kind not in Stance.Kind.values:
        raise MeetingError(_("Choose a stance: agree, stand aside or block."))
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise MeetingError(_("Keep the reason under 5,000 characters."))
    if not reason and kind == Stance.Kind.STAND_ASIDE:
        raise MeetingError(_("Standing aside needs a reason: say what you disagree with, so it can be recorded."))
    if not reason and kind == Stance.Kind.BLOCK:
        raise MeetingError(_("A block needs a reason: say what would have to change for you to agree."))
    return reason


@transaction.atomic
def record_stance(
    *, proposal: Proposal, member: Member, kind: str, by: Member, reason: str = "", now: datetime | None = None
) -> Stance:
    """Record `member`'s stance on an open proposal; a stance recorded again replaces the earlier one.

    A participant records their own from their own device; the note taker or the facilitator records
    anyone's. Only members marked present take part.
    """
    now = now or timezone.now()
    meeting = run.lock(Proposal.objects.filter(pk=proposal.pk).values_list("item__meeting_id", flat=True).get())
    own = member.pk == by.pk
    if not (by.is_active and by.alliance_id == meeting.alliance_id):
        raise PermissionDenied(_("Only members of the alliance take part in its consensus checks."))
    if not own and not run.may_record(meeting, by):
        raise PermissionDenied(_("Only the note taker and the facilitator can record someone else's stance."))
    run.require_in_progress(meeting)
    reason = _clean_reason(kind, reason)
    if not (member.is_active and member.alliance_id == meeting.alliance_id):
        raise MeetingError(_("Only members of the alliance take part in its consensus checks."))
    if not _is_present(meeting, member):
        if own:
            raise MeetingError(_("You are not marked present: ask the note taker to mark you present first."))
        raise MeetingError(_("%(name)s is not marked present: mark them present first.") % {"name": _name(member)})
    proposal = Proposal.objects.select_related("item").get(pk=proposal.pk)
    if proposal.outcome != Proposal.Outcome.OPEN:
        raise MeetingError(_("The check on this proposal is over: stances are taken on the latest version."))
    if proposal.item.deferred_at is not None:
        raise MeetingError(_("This item was deferred to the next meeting."))
    stance, _created = Stance.objects.update_or_create(
        proposal=proposal,
        member=member,
        defaults={"kind": kind, "reason": reason, "recorded_by": by, "recorded_at": now},
    )
    run.bump(meeting)
    return stance


# --- Resolving the check ------------------------------------------------------------------------------


@transaction.atomic
def resolve_check(*, proposal: Proposal, by: Member, now: datetime | None = None) -> Proposal:
    """Close the check once every present participant has a stance.

    Nobody blocks: consensus, and the decision is recorded (its stand-asides are the proposal's). Someone
    blocks: the proposal is blocked and there is no decision; the item waits for an amendment or a
    deferral. Stances of members no longer marked present are kept but do not count.
    """
    now = now or timezone.now()
    meeting = run.lock(Proposal.objects.filter(pk=proposal.pk).values_list("item__meeting_id", flat=True).get())
    _require_recorder(meeting, by)
    run.require_in_progress(meeting)
    proposal = Proposal.objects.select_related("item").get(pk=proposal.pk)
    if proposal.outcome != Proposal.Outcome.OPEN:
        raise MeetingError(_("The check on this proposal is over already."))
    if proposal.item.deferred_at is not None:
        raise MeetingError(_("This item was deferred to the next meeting."))
    present = _present_participants(meeting)
    if not present:
        raise MeetingError(_("Nobody is marked present: take attendance before the consensus check."))
    kinds = dict(Stance.objects.filter(proposal=proposal).values_list("member_id", "kind"))
    missing = [_name(member) for member in present if member.pk not in kinds]
    if missing:
        raise MeetingError(
            _("Every participant who is present takes a stance before the check is resolved. Still to come: %(names)s.")
            % {"names": ", ".join(missing)}
        )
    blocked = any(kinds[member.pk] == Stance.Kind.BLOCK for member in present)
    outcome = Proposal.Outcome.BLOCKED if blocked else Proposal.Outcome.CONSENSUS
    Proposal.objects.filter(pk=proposal.pk, outcome=Proposal.Outcome.OPEN).update(outcome=outcome, resolved_at=now)
    if not blocked:
        Decision.objects.create(
            alliance_id=meeting.alliance_id,
            meeting=meeting,
            item=proposal.item,
            proposal=proposal,
            text=proposal.text,
            decided_at=now,
        )
    run.bump(meeting)
    proposal.refresh_from_db()
    return proposal


def item_is_resolved(item: AgendaItem) -> bool:
    """Whether the meeting may move past this item: not a decision item, decided, or deferred."""
    if item.kind != AgendaItem.Kind.DECISION or item.deferred_at is not None:
        return True
    return Decision.objects.filter(item_id=item.pk).exists()


# --- Deferral -----------------------------------------------------------------------------------------


def _lock_alliance(alliance_id: int) -> None:
    # Deferring and scheduling the next meeting take this lock in turn, so that an item deferred while
    # the next meeting is being scheduled is carried exactly once: whichever commits second sees the
    # other's row. NO KEY UPDATE on PostgreSQL: it does not wait for the rows that merely reference the
    # alliance (a to-do, a decision) being inserted at the same moment.
    Alliance.objects.select_for_update(no_key=True).filter(pk=alliance_id).values_list("pk", flat=True).get()


def _next_scheduled(meeting: Meeting, now: datetime) -> Meeting | None:
    """The alliance's next scheduled meeting after `meeting`: the one set in its logistics step, if any."""
    upcoming = (
        Meeting.objects.filter(alliance_id=meeting.alliance_id)
        .filter(status=Meeting.Status.SCHEDULED, starts_at__gt=max(meeting.starts_at, now))
        .exclude(pk=meeting.pk)
    )
    if meeting.next_meeting_id is not None:
        chosen = upcoming.filter(pk=meeting.next_meeting_id).first()
        if chosen is not None:
            return chosen
    return upcoming.order_by("starts_at", "pk").first()


def _carry(items: list[AgendaItem], to: Meeting, now: datetime) -> list[AgendaItem]:
    """New items at the end of `to`'s agenda, each continuing a deferred one."""
    last = AgendaItem.objects.filter(meeting=to).on_agenda().aggregate(last=Max("position"))["last"] or 0
    carried = [
        AgendaItem(
            meeting=to,
            title=item.title,
            description=item.description,
            kind=item.kind,
            presenter=item.presenter,
            minutes=item.minutes,
            position=last + n,
            status=AgendaItem.Status.ACCEPTED,
            proposed_by=item.proposed_by,
            carried_from=item,
            created_at=now,
        )
        for n, item in enumerate(items, start=1)
    ]
    AgendaItem.objects.bulk_create(carried)
    if carried:
        run.bump(to)
    return carried


@transaction.atomic
def defer_item(*, item: AgendaItem, by: Member, now: datetime | None = None) -> AgendaItem:
    """Defer an item to the next meeting: it is carried to that meeting's agenda.

    If the next meeting is scheduled already, the carried item is added at the end of its agenda now;
    if not, it is added when the next meeting is scheduled (`carry_deferred_items`). Returns the deferred
    item; where it went is `item.carried_to`.
    """
    now = now or timezone.now()
    meeting = run.lock(item.meeting_id)
    _require_recorder(meeting, by)
    run.require_in_progress(meeting)
    item = AgendaItem.objects.select_related("presenter", "proposed_by").get(pk=item.pk)
    _require_undecided(item)
    _lock_alliance(meeting.alliance_id)
    AgendaItem.objects.filter(pk=item.pk).update(deferred_at=now)
    item.deferred_at = now
    following = _next_scheduled(meeting, now)
    if following is not None:
        _carry([item], following, now)
    run.bump(meeting)
    return item


def carry_deferred_items(*, meeting: Meeting, now: datetime | None = None) -> list[AgendaItem]:
    """Carry to a newly scheduled meeting every item deferred at an earlier meeting and not carried yet.

    Called by `meetings.services.meeting_schedule` inside its transaction.
    """
    now = now or timezone.now()
    _lock_alliance(meeting.alliance_id)
    waiting = list(
        AgendaItem.objects.filter(
            meeting__alliance_id=meeting.alliance_id,
            meeting__starts_at__lt=meeting.starts_at,
            deferred_at__isnull=False,
            carried_to__isnull=True,
        )
        .exclude(meeting=meeting)
        .order_by("meeting__starts_at", "position", "pk")
    )
    return _carry(waiting, meeting, now)


# --- The review (the closing step) --------------------------------------------------------------------


class Outcome:
    """Where an item of the meeting stands in the review."""

    DECIDED = "decided"
    BLOCKED = "blocked"
    UNDER_CHECK = "under_check"
    NO_PROPOSAL = "no_proposal"
    DEFERRED = "deferred"

    LABELS = {
        DECIDED: gettext_lazy("Consensus"),
        BLOCKED: gettext_lazy("Blocked: to amend or defer"),
        UNDER_CHECK: gettext_lazy("Consensus check under way"),
        NO_PROPOSAL: gettext_lazy("No proposal yet"),
        DEFERRED: gettext_lazy("Deferred to the next meeting"),
    }


@dataclass(frozen=True)
class StanceLine:
    name: str
    reason: str


@dataclass(frozen=True)
class ReviewItem:
    item: AgendaItem
    outcome: str
    outcome_label: str
    decision: Decision | None
    # The latest version, and how many versions there were (2 or more: it was amended).
    proposal: Proposal | None
    versions: int
    # Of the latest version: who stood aside (a decision's stand-asides) and who blocked, with reasons.
    stand_asides: list[StanceLine] = field(default_factory=list)
    blocks: list[StanceLine] = field(default_factory=list)
    # The meeting the item was carried to, if it was deferred and the next meeting exists.
    carried_to: Meeting | None = None


@dataclass(frozen=True)
class Review:
    items: list[ReviewItem]
    todos: list[Todo]

    @property
    def decisions(self) -> list[ReviewItem]:
        return [row for row in self.items if row.decision is not None]


def _review_row(item: AgendaItem) -> ReviewItem | None:
    proposals = list(item.proposals.all())
    decision = getattr(item, "decision", None)
    carried = item.carried_to.all()
    if not proposals and item.deferred_at is None and item.kind != AgendaItem.Kind.DECISION:
        return None  # an information or discussion item with nothing to decide
    latest = proposals[-1] if proposals else None
    if decision is not None:
        outcome = Outcome.DECIDED
    elif item.deferred_at is not None:
        outcome = Outcome.DEFERRED
    elif latest is None:
        outcome = Outcome.NO_PROPOSAL
    elif latest.outcome == Proposal.Outcome.BLOCKED:
        outcome = Outcome.BLOCKED
    else:
        outcome = Outcome.UNDER_CHECK
    stances = list(latest.stances.all()) if latest else []
    return ReviewItem(
        item=item,
        outcome=outcome,
        outcome_label=str(Outcome.LABELS[outcome]),
        decision=decision,
        proposal=latest,
        versions=len(proposals),
        stand_asides=[StanceLine(_name(s.member), s.reason) for s in stances if s.kind == Stance.Kind.STAND_ASIDE],
        blocks=[StanceLine(_name(s.member), s.reason) for s in stances if s.kind == Stance.Kind.BLOCK],
        carried_to=carried[0].meeting if carried else None,
    )


def review(meeting: Meeting) -> Review:
    """This meeting's decisions (with outcome and stand-asides) and to-dos, in five queries whatever their number.

    The items are the agenda's decision items, and any other item that had a proposal or was deferred,
    in agenda order; the to-dos in the order they were captured.
    """
    stances = Stance.objects.select_related("member__user").order_by("member__joined_at", "member_id")
    items = (
        AgendaItem.objects.filter(meeting=meeting)
        .on_agenda()
        .select_related("decision")
        .prefetch_related(
            Prefetch(
                "proposals",
                queryset=Proposal.objects.order_by("number").prefetch_related(Prefetch("stances", queryset=stances)),
            ),
            Prefetch("carried_to", queryset=AgendaItem.objects.select_related("meeting").order_by("pk")),
        )
    )
    rows = [row for row in (_review_row(item) for item in items) if row is not None]
    todos = list(
        Todo.objects.filter(meeting=meeting).select_related("owner__user", "item").order_by("created_at", "pk")
    )
    return Review(items=rows, todos=todos)
