from collections.abc import Iterable

from django.apps import AppConfig
from django.db import models
from django.utils.translation import gettext_lazy as _


def meeting_alliance(row: models.Model) -> Iterable[int]:
    """The alliance of a row that belongs to a meeting (for alliances/versions.py)."""
    from meetings.models import Meeting

    field = row._meta.get_field("meeting")
    if field.is_cached(row):  # type: ignore[union-attr]
        return [row.meeting.alliance_id]  # type: ignore[attr-defined]
    return Meeting.objects.filter(pk=row.meeting_id).values_list("alliance_id", flat=True)  # type: ignore[attr-defined]


def _alliance_of_meetings(**lookup: object) -> Iterable[int]:
    from meetings.models import Meeting

    return Meeting.objects.filter(**lookup).values_list("alliance_id", flat=True)


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        # Every change to what an alliance's pages show gives the alliance a new version (alliances/versions.py).
        from alliances import versions
        from meetings.models import (
            AgendaItem,
            AgendaSegment,
            Apology,
            Attendance,
            Decision,
            Meeting,
            NoteAmendment,
            Proposal,
            Reflection,
            RoleTurnChange,
            RoundRobin,
            Stance,
            StepTime,
            Turn,
        )

        versions.watch(Meeting, versions.own_alliance)
        versions.watch(Decision, versions.own_alliance)
        for model in (
            AgendaSegment,
            AgendaItem,
            Reflection,
            Apology,
            RoleTurnChange,
            StepTime,
            Attendance,
            RoundRobin,
            NoteAmendment,
        ):
            versions.watch(model, meeting_alliance)
        versions.watch(Turn, lambda row: _alliance_of_meetings(round_robins__pk=row.round_robin_id))
        versions.watch(Proposal, lambda row: _alliance_of_meetings(items__pk=row.item_id))
        versions.watch(Stance, lambda row: _alliance_of_meetings(items__proposals__pk=row.proposal_id))
