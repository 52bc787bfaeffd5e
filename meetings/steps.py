"""The steps of a meeting's run of show, derived from its agenda (never stored).

The order is the process's: bonding social moment → opening reflection → agenda review → each agenda item
on the agenda, in agenda order → review of decisions and to-dos → next meeting's logistics → closing
evaluation round. Each step has a key the meeting stores as `current_step` ("bonding", "item:42",
"evaluation"), a title, and its time box: the segment's minutes (the default when a meeting has no
segment rows, as a factory meeting has none) or the item's.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaItem,
    AgendaSegment,
    Meeting,
    Segment,
)

ITEM = "item"
ITEM_PREFIX = "item:"
FIRST = Segment.BONDING.value
LAST = Segment.EVALUATION.value


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    minutes: int
    # The segment's value ("bonding", …, "evaluation") or "item".
    kind: str
    item: AgendaItem | None = None

    @property
    def is_item(self) -> bool:
        return self.item is not None

    @property
    def is_decision(self) -> bool:
        return self.item is not None and self.item.kind == AgendaItem.Kind.DECISION


def item_key(item: AgendaItem | int) -> str:
    return f"{ITEM_PREFIX}{item if isinstance(item, int) else item.pk}"


def item_pk(key: str) -> int | None:
    """The agenda item's pk in an item step's key; None for the opening and closing steps."""
    if not key.startswith(ITEM_PREFIX):
        return None
    try:
        return int(key.removeprefix(ITEM_PREFIX))
    except ValueError:
        return None


def build(segments: Iterable[AgendaSegment], items: Iterable[AgendaItem]) -> list[Step]:
    """The steps from a meeting's segments and its accepted items (already in agenda order)."""
    minutes = {kind.value: value for kind, value in DEFAULT_SEGMENT_MINUTES.items()}
    minutes.update((segment.kind, segment.minutes) for segment in segments)

    def segment_step(kind: Segment) -> Step:
        return Step(key=kind.value, title=str(kind.label), minutes=minutes[kind.value], kind=kind.value)

    return [
        *(segment_step(kind) for kind in OPENING_SEGMENTS),
        *(Step(key=item_key(item), title=item.title, minutes=item.minutes, kind=ITEM, item=item) for item in items),
        *(segment_step(kind) for kind in CLOSING_SEGMENTS),
    ]


def for_meeting(meeting: Meeting) -> list[Step]:
    """The meeting's steps, in two queries."""
    return build(AgendaSegment.objects.filter(meeting=meeting), AgendaItem.objects.filter(meeting=meeting).on_agenda())


def index_of(steps: list[Step], key: str) -> int:
    """Where `key` stands in `steps`.

    An item taken off the agenda while the meeting was on it leaves a key that is no longer there: the
    meeting then counts as being at the agenda review, so that "next" leads to the first item still on
    the agenda and "previous" back to the opening, instead of leaving the meeting stuck.
    """
    for index, step in enumerate(steps):
        if step.key == key:
            return index
    return [step.key for step in steps].index(Segment.AGENDA_REVIEW.value)
