"""A round table ready to run (tests of the run of show): an alliance's people, a meeting and its agenda."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alliances.models import Alliance, Member
from alliances.tests.factories import MemberFactory
from meetings import attendance, run
from meetings.models import AgendaItem, Meeting
from meetings.tests.factories import AgendaItemFactory, MeetingFactory

# Wednesday 10 March 2027, 17:00 UTC: the meeting's scheduled start.
T0 = datetime(2027, 3, 10, 17, 0, tzinfo=UTC)


@dataclass
class Table:
    alliance: Alliance
    steward: Member
    facilitator: Member
    note_taker: Member
    # Three more members, in the order they joined: Ann, Ben, Cy.
    others: list[Member]
    meeting: Meeting
    # On the agenda in this order: an information item and a decision item.
    info: AgendaItem
    decision: AgendaItem

    @property
    def everyone(self) -> list[Member]:
        """In the alliance's stable order (who joined first)."""
        return [self.steward, self.facilitator, self.note_taker, *self.others]


def _member(alliance: Alliance, name: str, day: int, **fields: object) -> Member:
    return MemberFactory(alliance=alliance, user__display_name=name, joined_at=T0 - timedelta(days=100 - day), **fields)


def round_table(alliance: Alliance) -> Table:
    steward = _member(alliance, "Stella Steward", 1, is_steward=True)
    facilitator = _member(alliance, "Fay Facilitator", 2)
    note_taker = _member(alliance, "Nat Notes", 3)
    others = [_member(alliance, name, 4 + n) for n, name in enumerate(["Ann", "Ben", "Cy"])]
    meeting = MeetingFactory(
        alliance=alliance, starts_at=T0, duration_minutes=90, facilitator=facilitator, note_taker=note_taker
    )
    info = AgendaItemFactory(
        meeting=meeting, title="News from the library", kind=AgendaItem.Kind.INFORMATION, position=1
    )
    decision = AgendaItemFactory(
        meeting=meeting, title="Summer reading fair", kind=AgendaItem.Kind.DECISION, position=2
    )
    return Table(alliance, steward, facilitator, note_taker, others, meeting, info, decision)


def start(table: Table, *, present: list[Member] | None = None, now: datetime = T0) -> Meeting:
    """Start the meeting and mark `present` (everyone by default) present during the bonding moment."""
    meeting = run.start_meeting(meeting=table.meeting, by=table.facilitator, now=now)
    for member in table.everyone if present is None else present:
        attendance.mark_attendance(meeting=meeting, member=member, status="present", by=table.note_taker, now=now)
    meeting.refresh_from_db()
    table.meeting = meeting
    return meeting


def go_to(table: Table, key: str, *, now: datetime = T0) -> Meeting:
    """Move the meeting forward until it is at step `key`."""
    meeting = table.meeting
    meeting.refresh_from_db()
    while meeting.current_step != key:
        meeting = run.go_to_next_step(meeting=meeting, by=table.facilitator, now=now)
    table.meeting = meeting
    return meeting
