"""The benchmark's to-dos (tasks/bench.py): the sizes the issue asks for, and a share for who signs in."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory
from tasks.bench import _shares, bench_todos
from tasks.models import Todo

pytestmark = pytest.mark.django_db


def test_shares_split_a_total_exactly_in_proportion():
    bench = _shares(40_000, [40] * 200 + [400])
    assert sum(bench) == 40_000
    assert set(bench[:200]) <= {190, 191}
    assert bench[200] in (1904, 1905)
    assert sum(_shares(8_000, [40] * 200 + [400])) == 8_000
    assert _shares(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert _shares(7, [2, 5]) == [2, 5]


def test_the_bench_has_40000_to_dos_8000_open_spread_by_size_with_a_share_for_who_signs_in(db):
    small, large = AllianceFactory(), AllianceFactory()
    members = {
        small: MemberFactory.create_batch(4, alliance=small),
        large: MemberFactory.create_batch(16, alliance=large),
    }
    signed_in = members[large][0].user
    members[small].append(MemberFactory(alliance=small, user=signed_in))
    for alliance in (small, large):
        for weeks in (2, 4, 6):
            MeetingFactory(
                alliance=alliance, starts_at=timezone.now() - timedelta(weeks=weeks), status=Meeting.Status.ENDED
            )

    created = bench_todos(members_by_alliance=members, signed_in=[signed_in], smoke=False, rng=random.Random(8))

    assert created == Todo.objects.count() == 40_000
    assert Todo.objects.open().count() == 8_000
    per_alliance = Counter(Todo.objects.values_list("alliance_id", flat=True))
    assert abs(per_alliance[large.pk] - 40_000 * 16 / 21) < 1
    mine = Todo.objects.filter(owner__user=signed_in)
    assert 0.07 * 40_000 < mine.count() < 0.13 * 40_000
    assert mine.open().filter(alliance=small).exists()
    assert mine.open().filter(alliance=large).exists()
    assert Todo.objects.filter(status=Todo.Status.DROPPED).exclude(drop_reason="").count() > 0
    assert Todo.objects.open().overdue(timezone.localdate()).exists()
    assert Todo.objects.filter(meeting__isnull=False).count() > 0.7 * 40_000
