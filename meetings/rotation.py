"""Fair rotation of the two roles (facilitator, note taker) among an alliance's active members.

The order for a role, as the process asks: first the member who held it least recently (never = first),
ties broken by who held it the fewest times (that role, then both roles), then by who joined first. A
member who sent apologies is never suggested and keeps their place: their last turn is still the
oldest, so they come first at the next meeting they can attend (a skipped turn stays theirs). The
facilitator is chosen first; the note taker is the fairest member for that role other than the
facilitator, so one person never holds both.

With "least recently" first, a turn someone takes for a member who is away is not given back later: the
counts on the roles page can differ by more than one after apologies, and the page shows it.

Everything here is a pure function of the history, except `role_history()`, its one query.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alliances.models import Alliance, Member
from meetings.models import Meeting, Role

ROLES = (Role.FACILITATOR, Role.NOTE_TAKER)
# Sorts before any real date ("never" held comes first).
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Turn:
    """One meeting's holders, as the rotation reads it."""

    starts_at: datetime
    facilitator_id: int | None
    note_taker_id: int | None

    def holder_id(self, role: str) -> int | None:
        return self.facilitator_id if role == Role.FACILITATOR else self.note_taker_id


@dataclass
class RoleRecord:
    """How often, and when last, one member held one role."""

    count: int = 0
    last: datetime | None = None


@dataclass
class Tally:
    records: dict[tuple[int, str], RoleRecord] = field(default_factory=dict)

    def of(self, member_id: int, role: str) -> RoleRecord:
        return self.records.get((member_id, role)) or RoleRecord()


def role_history(*, alliance: Alliance, before: datetime | None = None, exclude: Meeting | None = None) -> list[Turn]:
    """The turns of every meeting of the alliance that was not cancelled (before `before`), oldest first."""
    meetings = Meeting.objects.for_alliance(alliance).active()
    if before is not None:
        meetings = meetings.filter(starts_at__lt=before)
    if exclude is not None and exclude.pk:
        meetings = meetings.exclude(pk=exclude.pk)
    rows = meetings.order_by("starts_at", "pk").values_list("starts_at", "facilitator_id", "note_taker_id")
    return [Turn(*row) for row in rows]


def tally(turns: Iterable[Turn], *, since: datetime | None = None) -> Tally:
    """Count and last date per member and role; counts only from `since` on, last dates from all turns."""
    result = Tally()
    for turn in turns:
        for role in ROLES:
            holder = turn.holder_id(role)
            if holder is None:
                continue
            record = result.records.setdefault((holder, role), RoleRecord())
            if since is None or turn.starts_at >= since:
                record.count += 1
            if record.last is None or turn.starts_at > record.last:
                record.last = turn.starts_at
    return result


def _order(candidates: Sequence[Member], tally_: Tally, role: str) -> list[Member]:
    other = Role.NOTE_TAKER if role == Role.FACILITATOR else Role.FACILITATOR

    def key(member: Member) -> tuple:
        mine = tally_.of(member.pk, role)
        # Never held sorts first: (False, …) before (True, date). "Fewest times held" counts this role,
        # then both: of two who never facilitated, the one who has not taken notes either goes first.
        return (
            mine.last is not None,
            mine.last or _NEVER,
            mine.count,
            mine.count + tally_.of(member.pk, other).count,
            member.joined_at,
            member.pk,
        )

    return sorted(candidates, key=key)


def suggest_roles(
    *, candidates: Sequence[Member], turns: Sequence[Turn], unavailable: Iterable[int] = ()
) -> tuple[Member | None, Member | None]:
    """The fairest (facilitator, note taker) among `candidates`, never one person for both.

    `candidates` are the active members; `unavailable` are the pks of those who sent apologies.
    """
    away = set(unavailable)
    available = [m for m in candidates if m.pk not in away]
    if not available:
        return None, None
    counts = tally(turns)
    facilitator = _order(available, counts, Role.FACILITATOR)[0]
    note_takers = [m for m in _order(available, counts, Role.NOTE_TAKER) if m.pk != facilitator.pk]
    return facilitator, (note_takers[0] if note_takers else None)


def fairest_for(
    *,
    role: str,
    candidates: Sequence[Member],
    turns: Sequence[Turn],
    unavailable: Iterable[int] = (),
) -> Member | None:
    """The fairest member for one role alone (a replacement when someone skips their turn)."""
    away = set(unavailable)
    available = [m for m in candidates if m.pk not in away]
    if not available:
        return None
    return _order(available, tally(turns), role)[0]


def in_turn(*, members: Sequence[Member], turns: Sequence[Turn], role: str) -> list[Member]:
    """Every member in the order the rotation offers them `role`, nobody away (the roles page's line)."""
    return _order(members, tally(turns), role)


@dataclass(frozen=True)
class RoleStanding:
    """A member's line on the roles page."""

    member: Member
    facilitator: RoleRecord
    note_taker: RoleRecord


def role_standings(*, members: Sequence[Member], turns: Sequence[Turn]) -> list[RoleStanding]:
    """Every member's count and last date for each role, over all turns (what the roles page shows)."""
    counts = tally(turns)
    return [
        RoleStanding(
            member=m,
            facilitator=counts.of(m.pk, Role.FACILITATOR),
            note_taker=counts.of(m.pk, Role.NOTE_TAKER),
        )
        for m in members
    ]
