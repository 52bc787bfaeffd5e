"""The benchmark's data set (`manage.py seed_bench`), which bench/run.py loads into its own database."""

from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from alliances.management.commands.seed_bench import (
    BENCH_PASSWORD,
    LARGE_SLUG,
    MEMBER_EMAIL,
    STEWARD_EMAIL,
    TYPICAL_SLUG,
)
from alliances.models import Alliance, CharterChange, Invitation, Member
from meetings.models import AgendaItem, Meeting

pytestmark = pytest.mark.django_db


def test_the_full_data_set_has_the_sizes_the_benchmark_reports():
    call_command("seed_bench")

    active = Counter(Member.objects.active().values_list("alliance__slug", flat=True))
    assert active.pop(LARGE_SLUG) == 400
    assert len(active) == 200
    assert set(active.values()) == {40}
    assert 2900 <= User.objects.count() <= 3100
    per_person = Counter(Member.objects.active().values_list("user_id", flat=True))
    assert sum(1 for count in per_person.values() if count >= 2) > User.objects.count() / 2
    # Every alliance has former members, stewards, pending invitations and a charter history.
    assert Member.objects.filter(is_active=False).values("alliance").distinct().count() == 201
    assert Member.objects.stewards().values("alliance").distinct().count() == 201
    assert Invitation.objects.pending().values("alliance").distinct().count() == 201
    assert CharterChange.objects.values("alliance").distinct().count() == 201
    assert CharterChange.objects.filter(alliance__slug=TYPICAL_SLUG).count() >= 20
    # 50 meetings held by every alliance, 8 items each; the two measured alliances have one coming up.
    held = Counter(Meeting.objects.past().values_list("alliance__slug", flat=True))
    assert len(held) == 201
    assert set(held.values()) == {50}
    assert AgendaItem.objects.filter(meeting__alliance__slug=TYPICAL_SLUG).count() == 51 * 8
    assert set(Meeting.objects.upcoming().values_list("alliance__slug", flat=True)) == {TYPICAL_SLUG, LARGE_SLUG}


def test_the_printed_logins_sign_in_through_the_form_and_reach_their_pages(client, capsys):
    call_command("seed_bench", "--smoke")
    printed = capsys.readouterr().out

    assert BENCH_PASSWORD in printed
    assert STEWARD_EMAIL in printed
    assert MEMBER_EMAIL in printed
    response = client.post(reverse("accounts:login"), {"username": STEWARD_EMAIL, "password": BENCH_PASSWORD})
    assert response.status_code == 302
    invite = reverse("alliances:invitation_create", kwargs={"slug": LARGE_SLUG})
    assert invite in client.get(reverse("alliances:member_list", kwargs={"slug": LARGE_SLUG})).content.decode()
    client.logout()
    client.post(reverse("accounts:login"), {"username": MEMBER_EMAIL, "password": BENCH_PASSWORD})
    page = client.get(reverse("alliances:member_list", kwargs={"slug": LARGE_SLUG}))
    assert page.status_code == 200
    assert invite not in page.content.decode()


def test_a_second_run_is_refused_and_changes_nothing():
    call_command("seed_bench", "--smoke")
    counts = (User.objects.count(), Alliance.objects.count(), Member.objects.count())

    with pytest.raises(CommandError, match="fills an empty database only"):
        call_command("seed_bench", "--smoke")

    assert (User.objects.count(), Alliance.objects.count(), Member.objects.count()) == counts


def test_a_database_with_any_account_is_left_alone():
    UserFactory(email="real.person@example.org")

    with pytest.raises(CommandError, match=r"already holds accounts \(1\)"):
        call_command("seed_bench", "--smoke")

    assert list(User.objects.values_list("email", flat=True)) == ["real.person@example.org"]
