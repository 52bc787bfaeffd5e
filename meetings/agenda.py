"""The agenda of a meeting: its items, proposals, segment minutes and the opening reflection."""

from typing import Any

from alliances.models import Member
from meetings.models import Meeting


def agenda_context(*, meeting: Meeting, member: Member) -> dict[str, Any]:
    """What templates/meetings/_agenda.html needs, merged into the meeting page's context."""
    return {}
