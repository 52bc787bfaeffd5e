"""The demo that `make run` loads: what someone trying Round Table signs in with."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from alliances.models import Alliance
from meetings.models import Meeting

pytestmark = pytest.mark.django_db


def test_every_login_the_demo_prints_signs_in_and_sees_the_demo_alliance(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    logins = re.findall(r"[\w.]+@example\.org", printed)
    password = re.search(r"password (\S+?)\.", printed).group(1)
    assert set(logins) >= {"demo@example.org", "ana@example.org", "ben@example.org", "elena@example.org"}
    for email in set(logins):
        client.logout()
        response = client.post(reverse("accounts:login"), {"username": email, "password": password}, follow=True)
        assert "Barrio Readers Alliance" in response.content.decode(), email


def test_running_the_demo_twice_changes_nothing_the_second_time():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    alliance = Alliance.objects.get(slug="barrio-readers")
    assert alliance.members.filter(is_active=True).count() == 6
    assert alliance.norms.count() == 3


def test_the_demo_has_meetings_held_with_rotating_roles_and_an_upcoming_one_with_its_agenda(client):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    alliance = Alliance.objects.get(slug="barrio-readers")
    now = timezone.now()

    past = list(Meeting.objects.for_alliance(alliance).past(now))
    upcoming = Meeting.objects.for_alliance(alliance).upcoming(now).get()

    assert len(past) == 6
    # Every member has facilitated in the demo's history, and nobody held both roles of one meeting.
    assert {m.facilitator_id for m in past} == set(alliance.members.values_list("pk", flat=True))
    assert all(m.facilitator_id != m.note_taker_id for m in past)
    assert upcoming.items.count() == 3
    assert upcoming.reflection.source == "Frederick Douglass"
    assert upcoming.segments.count() == 6
