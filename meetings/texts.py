"""The texts typed live during a meeting, saved without ever overwriting someone else's words.

A turn's thought (a takeaway in the closing evaluation), an item's discussion notes and a proposal's text
each carry a version number. A save names the version the editor started from; when the stored one has
moved on since, someone else saved in between, and the save is refused with a `TextConflict` holding both
texts, so that the person can merge them. A save that changes the text raises the record's version and
the meeting's revision (the live pages then show the new text).
"""

import enum
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from alliances.models import Member
from meetings import run
from meetings.models import AgendaItem, Meeting, Proposal, Turn
from meetings.services import MeetingError

# Long enough for the notes of a long discussion; a paste of a whole book is refused rather than stored.
TEXT_MAX_LENGTH = 50_000


class TextConflict(MeetingError):
    """Someone else saved the text first: both texts are kept for the person to merge."""

    def __init__(self, *, theirs: str, yours: str, version: int) -> None:
        super().__init__(
            _("Someone else saved this text while you were writing. Both versions are shown: merge them and save.")
        )
        self.theirs = theirs
        self.yours = yours
        self.version = version


@dataclass(frozen=True)
class _Field:
    model: type[models.Model]
    field: str
    version_field: str


_FIELDS = {
    (Turn, "thought"): _Field(Turn, "thought", "version"),
    (AgendaItem, "discussion"): _Field(AgendaItem, "discussion", "discussion_version"),
    (Proposal, "text"): _Field(Proposal, "text", "version"),
}


def version_field(obj: models.Model, field: str) -> str:
    """The name of the version number that guards `obj.<field>`."""
    return _spec(obj, field).version_field


def _spec(obj: models.Model, field: str) -> _Field:
    try:
        return _FIELDS[(type(obj), field)]
    except KeyError:
        raise ValueError(f"{type(obj).__name__}.{field} is not a versioned text") from None


def _meeting_pk(obj: models.Model) -> int:
    if isinstance(obj, Turn):
        return Turn.objects.filter(pk=obj.pk).values_list("round_robin__meeting_id", flat=True).get()
    if isinstance(obj, Proposal):
        return Proposal.objects.filter(pk=obj.pk).values_list("item__meeting_id", flat=True).get()
    return AgendaItem.objects.filter(pk=obj.pk).values_list("meeting_id", flat=True).get()


def _check_may_write(meeting: Meeting, stored: Any, by: Member) -> None:
    if isinstance(stored, Turn) and stored.round_robin.is_evaluation and stored.member_id == by.pk and by.is_active:
        return  # every member records their own takeaway
    if not run.may_record(meeting, by):
        raise PermissionDenied(_("Only the meeting's facilitator and note taker can record this."))


def _check_proposal(stored: Proposal) -> None:
    # The text people take a stance on must be the text that is decided: once a stance is recorded, a
    # change is an amendment (a new proposal), which keeps every version and its stances.
    if stored.outcome != Proposal.Outcome.OPEN:
        raise MeetingError(_("This proposal has been checked already: write an amendment instead."))
    if stored.stances.exists():
        raise MeetingError(_("Stances have been recorded on this proposal: write an amendment instead."))


def _save(
    *,
    obj: models.Model,
    field: str,
    text: str,
    expected_version: int,
    by: Member,
    extra: dict[str, Any] | None = None,
) -> models.Model:
    spec = _spec(obj, field)
    if len(text) > TEXT_MAX_LENGTH:
        raise MeetingError(_("This text is too long to save: keep it under 50,000 characters."))
    meeting = run.lock(_meeting_pk(obj))
    related = ["round_robin"] if isinstance(obj, Turn) else []
    stored = spec.model._default_manager.select_related(*related).get(pk=obj.pk)
    _check_may_write(meeting, stored, by)
    run.require_started(meeting)
    if isinstance(stored, Proposal):
        _check_proposal(stored)
        if not text.strip():
            raise MeetingError(_("A proposal needs its text."))
    stored_version = getattr(stored, spec.version_field)
    if stored_version != expected_version:
        raise TextConflict(theirs=getattr(stored, spec.field), yours=text, version=stored_version)
    extra = extra or {}
    if getattr(stored, spec.field) == text and all(getattr(stored, k) == v for k, v in extra.items()):
        return stored  # an autosave of what is already there (leaving the field) changes nothing
    # Conditional on the version as well: the meeting lock already serialises these saves, and this
    # keeps the rule true for any writer that does not take it.
    changed = spec.model._default_manager.filter(pk=obj.pk, **{spec.version_field: expected_version}).update(
        **{spec.field: text, spec.version_field: F(spec.version_field) + 1}, **extra
    )
    if not changed:
        stored.refresh_from_db()
        raise TextConflict(theirs=getattr(stored, spec.field), yours=text, version=getattr(stored, spec.version_field))
    run.bump(meeting)
    stored.refresh_from_db()
    return stored


@transaction.atomic
def save_text(*, obj: Turn | AgendaItem | Proposal, field: str, text: str, expected_version: int, by: Member) -> Any:
    """Save `obj.<field>` if nobody saved it since `expected_version`; else raise TextConflict.

    Returns the record as stored (its new version is the next save's `expected_version`).
    """
    return _save(obj=obj, field=field, text=text, expected_version=expected_version, by=by)


@transaction.atomic
def record_thought(*, turn: Turn, text: str, expected_version: int, by: Member) -> Turn:
    """The note taker's (or facilitator's) record of what a member said on their turn."""
    return cast(Turn, _save(obj=turn, field="thought", text=text, expected_version=expected_version, by=by))


class _Keep(enum.Enum):
    RATING = "keep"


# record_takeaway's default: the autosave of the text alone leaves the rating as it was.
KEEP_RATING = _Keep.RATING


@transaction.atomic
def record_takeaway(
    *, turn: Turn, text: str, expected_version: int, by: Member, rating: int | _Keep | None = KEEP_RATING
) -> Turn:
    """A member's takeaway in the closing evaluation, with an optional rating of the meeting from 1 to 5.

    The member records their own; the note taker or facilitator can record it for them. Without
    `rating` the rating stays as it was; `rating=None` takes it back.
    """
    if not Turn.objects.filter(pk=turn.pk, round_robin__is_evaluation=True).exists():
        raise MeetingError(_("Takeaways are recorded in the closing evaluation round."))
    if isinstance(rating, int) and not 1 <= rating <= 5:
        raise MeetingError(_("Rate the meeting from 1 to 5, or leave the rating out."))
    extra = {} if rating is KEEP_RATING else {"rating": rating}
    saved = _save(obj=turn, field="thought", text=text, expected_version=expected_version, by=by, extra=extra)
    return cast(Turn, saved)


@transaction.atomic
def record_discussion(*, item: AgendaItem, text: str, expected_version: int, by: Member) -> AgendaItem:
    """The notes of an item's open discussion."""
    return cast(AgendaItem, _save(obj=item, field="discussion", text=text, expected_version=expected_version, by=by))
