"""The run of show's rules that the database itself holds."""

import pytest
from django.db import IntegrityError, transaction

from meetings.models import Proposal, RoundRobin, Stance
from meetings.tests.run_helpers import round_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance):
    return round_table(alliance)


def test_a_stand_aside_or_a_block_without_a_reason_is_refused_by_the_database(table):
    proposal = Proposal.objects.create(item=table.decision, number=1, text="Hold the fair in June.")
    Stance.objects.create(proposal=proposal, member=table.steward, kind=Stance.Kind.AGREE)

    for kind, member in ((Stance.Kind.STAND_ASIDE, table.others[0]), (Stance.Kind.BLOCK, table.others[1])):
        with pytest.raises(IntegrityError), transaction.atomic():
            Stance.objects.create(proposal=proposal, member=member, kind=kind, reason="")
    Stance.objects.create(proposal=proposal, member=table.others[0], kind=Stance.Kind.BLOCK, reason="Too soon.")


def test_an_item_has_one_open_proposal_at_a_time_and_numbered_versions(table):
    Proposal.objects.create(item=table.decision, number=1, text="June.", outcome=Proposal.Outcome.BLOCKED)
    Proposal.objects.create(item=table.decision, number=2, text="July.")

    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(item=table.decision, number=3, text="August.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(item=table.decision, number=2, text="July again.", outcome="blocked")


def test_a_round_robin_is_on_an_item_or_the_evaluation_and_one_at_a_time(table):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundRobin.objects.create(meeting=table.meeting, item=table.info, is_evaluation=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundRobin.objects.create(meeting=table.meeting, item=None, is_evaluation=False)
    RoundRobin.objects.create(meeting=table.meeting, item=table.info)

    with pytest.raises(IntegrityError), transaction.atomic():
        RoundRobin.objects.create(meeting=table.meeting, is_evaluation=True)
