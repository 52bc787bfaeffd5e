import importlib
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory, NormFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- Alliance ---------------------------------------------------------------------------------------


def test_visible_to_lists_only_alliances_the_user_is_an_active_member_of(alliance, member_user, outsider):
    other = AllianceFactory()
    former = AllianceFactory()
    MemberFactory(alliance=former, user=member_user, is_active=False, end_reason=Member.EndReason.LEFT)

    assert list(Alliance.objects.visible_to(member_user)) == [alliance]
    assert not Alliance.objects.visible_to(outsider).exists()
    assert other not in Alliance.objects.visible_to(member_user)


def test_visible_to_an_anonymous_reader_is_empty(alliance, member_user):
    assert not Alliance.objects.visible_to(AnonymousUser()).exists()


def test_cadence_display_shows_the_custom_text_only_for_a_custom_cadence():
    custom = Alliance(cadence=Alliance.Cadence.CUSTOM, cadence_custom="the first Tuesday of each month")
    weekly = Alliance(cadence=Alliance.Cadence.WEEKLY, cadence_custom="left over")

    assert custom.cadence_display == "the first Tuesday of each month"
    assert weekly.cadence_display == "Weekly"


def test_has_logistics_is_false_until_something_is_agreed():
    assert not Alliance().has_logistics
    assert Alliance(meeting_time=time(18, 0)).has_logistics
    assert Alliance(video_link="https://meet.example.org/x").has_logistics


def test_alliance_url_is_its_slug(alliance):
    assert alliance.get_absolute_url() == "/alliances/barrio-readers/"


def test_two_alliances_cannot_share_a_slug(alliance):
    with pytest.raises(IntegrityError), transaction.atomic():
        AllianceFactory(slug="barrio-readers")


def test_database_refuses_a_weekday_beyond_sunday(alliance):
    with pytest.raises(IntegrityError), transaction.atomic():
        Alliance.objects.filter(pk=alliance.pk).update(meeting_weekday=7)


# --- Member -----------------------------------------------------------------------------------------


def test_a_person_is_a_member_of_an_alliance_once(alliance, member_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(alliance=alliance, user=member_user)


def test_database_refuses_a_former_member_holding_the_steward_role(alliance, steward_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(user=steward_user).update(is_active=False)


def test_stewards_are_the_active_members_with_the_role(alliance, steward_user, member_user):
    MemberFactory(alliance=alliance, is_active=False, is_steward=False)

    assert [m.user for m in Member.objects.filter(alliance=alliance).stewards()] == [steward_user]
    assert Member.objects.filter(alliance=alliance).active().count() == 2


def test_members_are_ordered_by_display_name(alliance, steward_user, member_user):
    MemberFactory(alliance=alliance, user__display_name="Aaron Early")

    names = [m.user.display_name for m in Member.objects.filter(alliance=alliance)]

    assert names == ["Aaron Early", "Mia Member", "Stella Steward"]


# --- Norm -------------------------------------------------------------------------------------------


def test_current_norms_leave_out_retired_ones_and_follow_position(alliance):
    third = NormFactory(alliance=alliance, position=3, text="Third")
    first = NormFactory(alliance=alliance, position=1, text="First")
    NormFactory(alliance=alliance, position=2, text="Retired", retired_at=timezone.now())

    assert list(Norm.objects.filter(alliance=alliance).current()) == [first, third]


def test_a_norm_is_retired_once_it_has_a_retirement_time(alliance):
    norm = NormFactory(alliance=alliance)
    assert not norm.is_retired

    norm.retired_at = timezone.now()

    assert norm.is_retired


# --- CharterChange ----------------------------------------------------------------------------------


def test_charter_history_lists_the_newest_change_first(alliance):
    older = CharterChange.objects.create(alliance=alliance, kind=CharterChange.Kind.PURPOSE, changed_at=NOW)
    newer = CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.LOGISTICS, changed_at=NOW + timedelta(minutes=1)
    )

    assert list(CharterChange.objects.filter(alliance=alliance)) == [newer, older]


# --- Invitation -------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_invitation_expires_fourteen_days_after_it_is_made(alliance):
    invitation = InvitationFactory(alliance=alliance)

    assert invitation.expires_at == NOW + timedelta(days=14)
    assert not invitation.is_expired
    with time_machine.travel(NOW + timedelta(days=14)):
        assert invitation.is_expired


def test_each_invitation_gets_its_own_long_token(alliance):
    first, second = InvitationFactory(alliance=alliance), InvitationFactory(alliance=alliance)

    assert first.token != second.token
    assert len(first.token) >= 40


def test_pending_invitations_leave_out_accepted_cancelled_and_expired_ones(alliance):
    pending = InvitationFactory(alliance=alliance)
    InvitationFactory(alliance=alliance, status=Invitation.Status.ACCEPTED)
    InvitationFactory(alliance=alliance, status=Invitation.Status.CANCELLED)
    InvitationFactory(alliance=alliance, expires_at=timezone.now() - timedelta(seconds=1))

    assert list(Invitation.objects.pending()) == [pending]


def test_database_allows_one_pending_invitation_per_address_and_alliance(alliance):
    InvitationFactory(alliance=alliance, email="ana@example.org")
    InvitationFactory(alliance=alliance, email="ana@example.org", status=Invitation.Status.CANCELLED)
    InvitationFactory(email="ana@example.org")  # another alliance

    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(alliance=alliance, email="ana@example.org")


def test_deleting_a_user_keeps_the_alliance_they_created(alliance):
    creator = UserFactory()
    Alliance.objects.filter(pk=alliance.pk).update(created_by=creator)

    creator.delete()

    alliance.refresh_from_db()
    assert alliance.created_by is None


# --- Charter history: settings stored as values, read in the reader's language ---------------------


def _logistics_change(alliance, before: dict, after: dict) -> CharterChange:
    return CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.LOGISTICS, before_values=before, after_values=after
    )


def _read(change: CharterChange, language: str) -> list[tuple[str, str, str]]:
    with translation.override(language):
        return [(c.label, c.before, c.after) for c in change.setting_changes()]


def test_a_settings_change_lists_only_what_changed_in_the_order_of_the_form(alliance):
    change = _logistics_change(
        alliance,
        {"cadence": "weekly", "meeting_weekday": 1, "time_zone": "UTC", "venue_address": ""},
        {"cadence": "monthly", "meeting_weekday": 1, "time_zone": "America/New_York", "venue_address": None},
    )

    assert _read(change, "en") == [
        ("How often we meet", "Weekly", "Monthly"),
        ("Time zone", "Coordinated Universal Time (UTC)", "United States — New York"),
    ]


def test_a_settings_change_reads_in_spanish_for_a_spanish_reader(alliance):
    change = _logistics_change(
        alliance,
        {"cadence": "", "meeting_weekday": None, "meeting_time": None, "language": "en"},
        {"cadence": "monthly", "meeting_weekday": 1, "meeting_time": "18:30", "language": "es"},
    )

    assert _read(change, "es") == [
        ("Con qué frecuencia nos reunimos", "(sin definir)", "Mensual"),
        ("Día habitual", "(sin definir)", "Martes"),
        ("Hora habitual de inicio", "(sin definir)", "18:30"),
        ("Idioma", "Inglés", "Español"),
    ]
    # The time in each reader's own format.
    assert _read(change, "en")[2] == ("Usual start time", "(not set)", "6:30 p.m.")


def _migration():
    return importlib.import_module("alliances.migrations.0003_charter_values")


ENGLISH_SUMMARY = (
    "how often we meet: Monthly\n"
    "usual day: Tuesday\n"
    "usual start time: 18:30:00\n"
    "usual duration (minutes): 90\n"
    "time zone: America/New_York\n"
    "usual venue address: Biblioteca Municipal\n"
    "Calle Luna 5: San Juan"
)
SPANISH_SUMMARY = (
    "con qué frecuencia nos reunimos: Otra (descríbala)\n"
    "otra frecuencia: el primer martes\n"
    "día habitual: Domingo\n"
    "zona horaria: America/Puerto_Rico\n"
    "enlace de videollamada: https://meet.example.org/x"
)


def test_the_migration_reads_english_and_spanish_summaries_back_into_values():
    read_summary = _migration().read_summary

    assert read_summary(ENGLISH_SUMMARY) == {
        "cadence": "monthly",
        "meeting_weekday": 1,
        "meeting_time": "18:30",
        "meeting_duration_minutes": 90,
        "time_zone": "America/New_York",
        # A text area's value goes on over several lines, even one that looks like "label: value".
        "venue_address": "Biblioteca Municipal\nCalle Luna 5: San Juan",
    }
    assert read_summary(SPANISH_SUMMARY) == {
        "cadence": "custom",
        "cadence_custom": "el primer martes",
        "meeting_weekday": 6,
        "time_zone": "America/Puerto_Rico",
        "video_link": "https://meet.example.org/x",
    }
    assert read_summary("") == {}


def test_the_migration_turns_old_summaries_into_values_and_keeps_what_it_cannot_read(alliance):
    readable = CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.LOGISTICS, before="time zone: UTC", after=SPANISH_SUMMARY
    )
    unreadable = CharterChange.objects.create(
        alliance=alliance,
        kind=CharterChange.Kind.LOGISTICS,
        before="time zone: UTC",
        after="how often we meet: Fortnightly-ish",
    )
    purpose = CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.PURPOSE, before="time zone: UTC", after="Every child reads."
    )

    _migration().summaries_to_values(django_apps, None)

    readable.refresh_from_db()
    assert (readable.before, readable.after) == ("", "")
    assert readable.before_values == {"time_zone": "UTC"}
    assert readable.after_values["cadence"] == "custom"
    # The Spanish steward's change, now read in English.
    assert _read(readable, "en")[0] == ("How often we meet", "(not set)", "Other (describe)")
    unreadable.refresh_from_db()
    assert unreadable.after == "how often we meet: Fortnightly-ish"
    assert not unreadable.has_values
    purpose.refresh_from_db()
    assert (purpose.before, purpose.after, purpose.before_values) == ("time zone: UTC", "Every child reads.", {})


def test_the_migration_can_go_back_to_english_summaries(alliance):
    change = _logistics_change(alliance, {"time_zone": "UTC"}, {"cadence": "monthly", "meeting_weekday": 1})

    _migration().values_to_summaries(django_apps, None)

    change.refresh_from_db()
    assert (change.before, change.after) == ("time zone: UTC", "how often we meet: Monthly\nusual day: Tuesday")


# --- Norm length ------------------------------------------------------------------------------------


def test_database_refuses_a_norm_over_the_limit(alliance):
    with pytest.raises(IntegrityError), transaction.atomic():
        NormFactory(alliance=alliance, text="x" * 1001)


def test_the_meeting_time_zone_is_named_in_the_readers_language():
    alliance = Alliance(time_zone="America/New_York")

    with translation.override("es"):
        assert alliance.time_zone_name == "Estados Unidos — Nueva York"
    with translation.override("en"):
        assert alliance.time_zone_name == "United States — New York"
