"""Texts typed live: saved with a version, never overwriting what someone else saved in between."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from meetings import texts
from meetings.models import AgendaItem, Meeting, Proposal, Stance
from meetings.services import MeetingError
from meetings.tests.run_helpers import round_table, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance):
    table = round_table(alliance)
    start(table)
    return table


def _discuss(table, text: str, *, version: int, by=None) -> AgendaItem:
    return texts.record_discussion(item=table.info, text=text, expected_version=version, by=by or table.note_taker)


def test_a_save_keeps_the_text_and_raises_its_version_and_the_meeting_revision(table):
    before = Meeting.objects.get(pk=table.meeting.pk).revision

    item = _discuss(table, "The library opens on Saturdays now.", version=0)

    assert (item.discussion, item.discussion_version) == ("The library opens on Saturdays now.", 1)
    assert Meeting.objects.get(pk=table.meeting.pk).revision == before + 1
    assert _discuss(table, "The library opens on Saturdays and Sundays now.", version=1).discussion_version == 2


def test_the_later_of_two_saves_from_the_same_version_is_refused_and_both_texts_are_kept(table):
    _discuss(table, "Nat's notes: the fair is in June.", version=0)

    with pytest.raises(texts.TextConflict) as refused:
        _discuss(table, "Fay's notes: the fair is in July.", version=0, by=table.facilitator)

    conflict = refused.value
    assert conflict.theirs == "Nat's notes: the fair is in June."
    assert conflict.yours == "Fay's notes: the fair is in July."
    assert conflict.version == 1
    assert "Both versions are shown" in str(conflict)
    assert AgendaItem.objects.get(pk=table.info.pk).discussion == "Nat's notes: the fair is in June."
    # The merge is saved against the version the conflict gave.
    merged = _discuss(table, "The fair is in June or July.", version=conflict.version, by=table.facilitator)
    assert (merged.discussion, merged.discussion_version) == ("The fair is in June or July.", 2)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_from_the_same_version_keep_one_and_refuse_the_other(postgresql, table):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(by, text: str) -> None:
        try:
            barrier.wait()
            _discuss(table, text, version=0, by=by)
            outcomes.append("saved")
        except texts.TextConflict as conflict:
            outcomes.append(f"refused, theirs: {conflict.theirs}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(table.note_taker, "Nat's words.")),
        threading.Thread(target=save, args=(table.facilitator, "Fay's words.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    stored = AgendaItem.objects.get(pk=table.info.pk)
    assert stored.discussion_version == 1
    assert sorted(outcomes) == ["refused, theirs: " + stored.discussion, "saved"]


def test_saving_the_same_text_again_changes_nothing(table):
    _discuss(table, "Same words.", version=0)
    revision = Meeting.objects.get(pk=table.meeting.pk).revision

    item = _discuss(table, "Same words.", version=1)

    assert item.discussion_version == 1
    assert Meeting.objects.get(pk=table.meeting.pk).revision == revision


def test_only_the_facilitator_and_the_note_taker_record(table):
    assert _discuss(table, "From the facilitator.", version=0, by=table.facilitator).discussion_version == 1
    for member in (table.steward, table.others[0]):
        with pytest.raises(PermissionDenied):
            _discuss(table, "Not theirs to write.", version=1, by=member)


def test_a_note_taker_who_left_cannot_save_from_a_page_left_open(table):
    table.note_taker.is_active = False
    table.note_taker.save(update_fields=["is_active"])

    with pytest.raises(PermissionDenied):
        _discuss(table, "Typed after leaving.", version=0)
    assert AgendaItem.objects.get(pk=table.info.pk).discussion == ""


def test_notes_are_recorded_once_the_meeting_has_started_and_can_be_corrected_after_it_ended(alliance):
    table = round_table(alliance)
    with pytest.raises(MeetingError, match="not started"):
        _discuss(table, "Too early.", version=0)

    start(table)
    Meeting.objects.filter(pk=table.meeting.pk).update(status=Meeting.Status.ENDED)

    assert _discuss(table, "A correction after the meeting.", version=0).discussion_version == 1


def test_a_text_too_long_to_keep_is_refused(table):
    with pytest.raises(MeetingError, match="too long"):
        _discuss(table, "x" * (texts.TEXT_MAX_LENGTH + 1), version=0)


def test_a_proposal_text_is_edited_until_the_first_stance_then_it_takes_an_amendment(table):
    proposal = Proposal.objects.create(item=table.decision, number=1, text="Hold the fair in June.")

    proposal = texts.save_text(
        obj=proposal, field="text", text="Hold the fair on 12 June.", expected_version=0, by=table.note_taker
    )
    assert (proposal.text, proposal.version) == ("Hold the fair on 12 June.", 1)
    with pytest.raises(MeetingError, match="needs its text"):
        texts.save_text(obj=proposal, field="text", text="  ", expected_version=1, by=table.note_taker)

    Stance.objects.create(proposal=proposal, member=table.others[0], kind=Stance.Kind.AGREE)
    with pytest.raises(MeetingError, match="amendment"):
        texts.save_text(obj=proposal, field="text", text="Hold it in July.", expected_version=1, by=table.note_taker)
    assert Proposal.objects.get(pk=proposal.pk).text == "Hold the fair on 12 June."


def test_a_blocked_proposal_text_is_not_edited(table):
    proposal = Proposal.objects.create(
        item=table.decision, number=1, text="Hold the fair in June.", outcome=Proposal.Outcome.BLOCKED
    )

    with pytest.raises(MeetingError, match="amendment"):
        texts.save_text(obj=proposal, field="text", text="Edited.", expected_version=0, by=table.facilitator)


def test_only_the_three_live_texts_are_versioned(table):
    with pytest.raises(ValueError, match="not a versioned text"):
        texts.save_text(obj=table.info, field="title", text="New title", expected_version=0, by=table.note_taker)
    assert texts.version_field(table.info, "discussion") == "discussion_version"
