"""Fair rotation of the two roles (facilitator, note taker) among an alliance's active members.

The order for a role: first the member who held it the fewest times while everyone in the running was
a member, then the one who held it least recently (never = first), then the one who joined first. In a
steady rotation "fewest" and "least recently" agree; where they differ (someone took an extra turn
because another was away) the count lets the one who missed a turn catch up: a skipped turn stays
theirs, and nobody's extra turn sticks. Counting only the turns held since the newest candidate joined
keeps a newcomer from taking every turn until they have caught up with years of history.

The two roles are chosen together: the facilitator of one meeting is never its note taker, and among
equally fair choices the note taker is the member next in line to facilitate (and the other way round),
so the two rotations run one step apart instead of colliding meeting after meeting.

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


def _order(candidates: Sequence[Member], tally_: Tally, role: str, other: str) -> list[Member]:
    def key(member: Member) -> tuple:
        mine, theirs = tally_.of(member.pk, role), tally_.of(member.pk, other)
        # Never held sorts first: (False, …) before (True, date).
        return (
            mine.count,
            mine.last is not None,
            mine.last or _NEVER,
            # Equally fair for this role: the one next in line for the other role goes first, so that
            # the two rotations run one step apart instead of colliding meeting after meeting.
            theirs.count,
            theirs.last is not None,
            theirs.last or _NEVER,
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
    # Counts compare the turns everyone in the running could have held.
    since = max(m.joined_at for m in available)
    counts = tally(turns, since=since)
    facilitators = _order(available, counts, Role.FACILITATOR, Role.NOTE_TAKER)
    note_takers = _order(available, counts, Role.NOTE_TAKER, Role.FACILITATOR)
    if len(available) == 1:
        return facilitators[0], None
    f_rank = {m.pk: i for i, m in enumerate(facilitators)}
    n_rank = {m.pk: i for i, m in enumerate(note_takers)}

    def cost(pair: tuple[Member, Member]) -> tuple:
        f, n = pair
        # Fewest turns taken in all first; then, of equal pairs, the one whose members are furthest
        # behind at the other role (a member behind at both catches up at both, instead of staying one
        # turn behind for ever); then the pair nearest the front of both orders.
        return (
            counts.of(f.pk, Role.FACILITATOR).count + counts.of(n.pk, Role.NOTE_TAKER).count,
            counts.of(f.pk, Role.NOTE_TAKER).count + counts.of(n.pk, Role.FACILITATOR).count,
            f_rank[f.pk] + n_rank[n.pk],
            f_rank[f.pk],
        )

    # The fewest turns are at the front of each order; the first eight of each leave enough room to
    # choose among equally fair pairs without weighing every pair of a large alliance.
    pairs = [(f, n) for f in facilitators[:8] for n in note_takers[:8] if f.pk != n.pk]
    return min(pairs, key=cost)


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
    counts = tally(turns, since=max(m.joined_at for m in available))
    other = Role.NOTE_TAKER if role == Role.FACILITATOR else Role.FACILITATOR
    return _order(available, counts, role, other)[0]


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
