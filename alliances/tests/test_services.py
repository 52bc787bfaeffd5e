from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from alliances import services
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from alliances.services import AllianceError, InvitationInvalid
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory
from alliances.tests.helpers import membership_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _texts(alliance: Alliance) -> list[str]:
    return [norm.text for norm in Norm.objects.filter(alliance=alliance).current()]


def _positions(alliance: Alliance) -> list[int]:
    return [norm.position for norm in Norm.objects.filter(alliance=alliance).current()]


@pytest.fixture
def norms(alliance, steward_user) -> list[Norm]:
    return [
        services.norm_add(alliance=alliance, text=text, agreed_on=None, by=steward_user)
        for text in ("Start on time", "Everyone speaks once", "Decide by consensus")
    ]


# --- Alliance ---------------------------------------------------------------------------------------


def test_creator_becomes_the_first_and_only_steward():
    creator = UserFactory(time_zone="America/Puerto_Rico")

    alliance = services.alliance_create(
        name="Escuela Abierta", slug="escuela-abierta", created_by=creator, organisation="PTA"
    )

    membership = Member.objects.get(alliance=alliance)
    assert membership.user == creator
    assert membership.is_steward
    assert membership.is_active
    assert membership.organisation == "PTA"
    assert alliance.created_by == creator
    assert alliance.time_zone == "America/Puerto_Rico"


def test_creating_an_alliance_with_a_taken_slug_fails_and_creates_nothing(alliance):
    creator = UserFactory()

    with pytest.raises(AllianceError, match="taken"):
        services.alliance_create(name="Other", slug="barrio-readers", created_by=creator)

    assert Alliance.objects.count() == 1
    assert not Member.objects.filter(user=creator).exists()


def test_an_alliance_cannot_take_a_slug_its_own_pages_use(db):
    # /alliances/new/ is the "establish an alliance" page: an alliance there could never be opened.
    with pytest.raises(AllianceError, match="taken"):
        services.alliance_create(name="New", slug="new", created_by=UserFactory())


# --- Last steward -----------------------------------------------------------------------------------


def test_last_steward_cannot_leave(alliance, steward_user, member_user):
    with pytest.raises(AllianceError, match="last steward"):
        services.member_leave(member=membership_of(alliance, steward_user))

    assert membership_of(alliance, steward_user).is_active


def test_last_steward_cannot_be_demoted(alliance, steward_user, member_user):
    with pytest.raises(AllianceError, match="at least one steward"):
        services.member_set_steward(member=membership_of(alliance, steward_user), is_steward=False, by=steward_user)

    assert membership_of(alliance, steward_user).is_steward


def test_last_steward_cannot_be_deactivated(alliance, steward_user, member_user):
    with pytest.raises(AllianceError, match="last steward"):
        services.member_deactivate(member=membership_of(alliance, steward_user), by=steward_user)

    assert membership_of(alliance, steward_user).is_active


def test_steward_can_leave_once_another_steward_exists(alliance, steward_user, member_user):
    services.member_set_steward(member=membership_of(alliance, member_user), is_steward=True, by=steward_user)

    services.member_leave(member=membership_of(alliance, steward_user))

    assert not membership_of(alliance, steward_user).is_active
    assert [m.user for m in Member.objects.filter(alliance=alliance).stewards()] == [member_user]


def test_steward_can_be_demoted_once_another_steward_exists(alliance, steward_user, member_user):
    services.member_set_steward(member=membership_of(alliance, member_user), is_steward=True, by=steward_user)

    services.member_set_steward(member=membership_of(alliance, steward_user), is_steward=False, by=member_user)

    assert not membership_of(alliance, steward_user).is_steward
    assert membership_of(alliance, member_user).is_steward


def test_steward_can_be_deactivated_once_another_steward_exists(alliance, steward_user, member_user):
    services.member_set_steward(member=membership_of(alliance, member_user), is_steward=True, by=steward_user)

    services.member_deactivate(member=membership_of(alliance, steward_user), by=member_user)

    ended = membership_of(alliance, steward_user)
    assert not ended.is_active
    assert not ended.is_steward


def test_a_former_member_cannot_be_made_steward(alliance, steward_user, member_user):
    services.member_leave(member=membership_of(alliance, member_user))

    with pytest.raises(AllianceError, match="former member"):
        services.member_set_steward(member=membership_of(alliance, member_user), is_steward=True, by=steward_user)


def test_a_member_of_another_alliance_does_not_count_as_a_second_steward(alliance, steward_user):
    MemberFactory(alliance=AllianceFactory(), is_steward=True)

    with pytest.raises(AllianceError):
        services.member_leave(member=membership_of(alliance, steward_user))


# --- Leaving and deactivation -----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_member_who_leaves_keeps_the_row_and_loses_access(alliance, steward_user, member_user):
    services.member_leave(member=membership_of(alliance, member_user))

    row = membership_of(alliance, member_user)
    assert not row.is_active
    assert row.end_reason == Member.EndReason.LEFT
    assert row.ended_by == member_user
    assert row.ended_at == NOW
    assert not Alliance.objects.visible_to(member_user).exists()


@time_machine.travel(NOW, tick=False)
def test_a_deactivated_member_keeps_the_row_and_loses_access(alliance, steward_user, member_user):
    services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)

    row = membership_of(alliance, member_user)
    assert not row.is_active
    assert row.end_reason == Member.EndReason.DEACTIVATED
    assert row.ended_by == steward_user
    assert row.ended_at == NOW
    assert not Alliance.objects.visible_to(member_user).exists()


def test_deactivating_a_former_member_again_changes_nothing(alliance, steward_user, member_user):
    services.member_leave(member=membership_of(alliance, member_user))
    ended_at = membership_of(alliance, member_user).ended_at

    services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)

    row = membership_of(alliance, member_user)
    assert row.end_reason == Member.EndReason.LEFT
    assert row.ended_by == member_user
    assert row.ended_at == ended_at


def test_member_sets_the_organisation_they_represent(alliance, member_user):
    services.member_set_organisation(member=membership_of(alliance, member_user), organisation="Friends of the Library")

    assert membership_of(alliance, member_user).organisation == "Friends of the Library"


# --- Norms ------------------------------------------------------------------------------------------


def test_adding_a_norm_appends_it_at_the_end(alliance, steward_user, norms):
    added = services.norm_add(alliance=alliance, text="Phones away", agreed_on=None, by=steward_user)

    assert added.position == 4
    assert _texts(alliance) == ["Start on time", "Everyone speaks once", "Decide by consensus", "Phones away"]
    assert added.created_by == steward_user


def test_adding_a_norm_after_a_retirement_still_appends_it_at_the_end(alliance, steward_user, norms):
    services.norm_retire(norm=norms[0], by=steward_user)

    services.norm_add(alliance=alliance, text="Phones away", agreed_on=None, by=steward_user)

    assert _texts(alliance) == ["Everyone speaks once", "Decide by consensus", "Phones away"]
    assert _positions(alliance) == [1, 2, 3]


def test_moving_a_norm_up_swaps_it_with_the_one_above(alliance, steward_user, norms):
    moved = services.norm_move(norm=norms[2], direction="up", by=steward_user)

    assert moved.position == 2
    assert _texts(alliance) == ["Start on time", "Decide by consensus", "Everyone speaks once"]
    assert _positions(alliance) == [1, 2, 3]


def test_moving_a_norm_down_swaps_it_with_the_one_below(alliance, steward_user, norms):
    services.norm_move(norm=norms[0], direction="down", by=steward_user)

    assert _texts(alliance) == ["Everyone speaks once", "Start on time", "Decide by consensus"]


def test_moving_the_first_norm_up_or_the_last_down_changes_nothing(alliance, steward_user, norms):
    services.norm_move(norm=norms[0], direction="up", by=steward_user)
    services.norm_move(norm=norms[2], direction="down", by=steward_user)

    assert _texts(alliance) == ["Start on time", "Everyone speaks once", "Decide by consensus"]
    assert not CharterChange.objects.filter(kind=CharterChange.Kind.NORM_MOVED).exists()


def test_moving_a_norm_needs_up_or_down(alliance, steward_user, norms):
    with pytest.raises(AllianceError):
        services.norm_move(norm=norms[1], direction="sideways", by=steward_user)


def test_a_retired_norm_cannot_be_moved(alliance, steward_user, norms):
    services.norm_retire(norm=norms[1], by=steward_user)

    with pytest.raises(AllianceError, match="retired"):
        services.norm_move(norm=norms[1], direction="up", by=steward_user)


def test_moving_a_norm_skips_over_retired_ones(alliance, steward_user, norms):
    services.norm_retire(norm=norms[1], by=steward_user)

    services.norm_move(norm=norms[2], direction="up", by=steward_user)

    assert _texts(alliance) == ["Decide by consensus", "Start on time"]


@time_machine.travel(NOW, tick=False)
def test_retiring_a_norm_removes_it_from_the_list_renumbers_the_rest_and_keeps_it(alliance, steward_user, norms):
    services.norm_retire(norm=norms[0], by=steward_user)

    assert _texts(alliance) == ["Everyone speaks once", "Decide by consensus"]
    assert _positions(alliance) == [1, 2]
    retired = Norm.objects.get(pk=norms[0].pk)
    assert retired.is_retired
    assert retired.retired_at == NOW
    assert retired.retired_by == steward_user
    assert retired.text == "Start on time"


def test_retiring_a_norm_twice_records_it_once(alliance, steward_user, norms):
    services.norm_retire(norm=norms[0], by=steward_user)
    services.norm_retire(norm=Norm.objects.get(pk=norms[0].pk), by=steward_user)

    assert CharterChange.objects.filter(kind=CharterChange.Kind.NORM_RETIRED).count() == 1


def test_a_retired_norm_cannot_be_edited(alliance, steward_user, norms):
    services.norm_retire(norm=norms[0], by=steward_user)

    with pytest.raises(AllianceError, match="retired"):
        services.norm_edit(norm=Norm.objects.get(pk=norms[0].pk), text="Changed", agreed_on=None, by=steward_user)

    assert Norm.objects.get(pk=norms[0].pk).text == "Start on time"


def test_editing_a_norm_keeps_its_place(alliance, steward_user, norms):
    services.norm_edit(
        norm=norms[1], text="Everyone speaks before anyone speaks twice", agreed_on=None, by=steward_user
    )

    assert _texts(alliance) == ["Start on time", "Everyone speaks before anyone speaks twice", "Decide by consensus"]


# --- Charter history --------------------------------------------------------------------------------


def _only_change(alliance: Alliance, kind: str) -> CharterChange:
    return CharterChange.objects.get(alliance=alliance, kind=kind)


@time_machine.travel(NOW, tick=False)
def test_setting_the_purpose_records_who_when_before_and_after(alliance, steward_user):
    old = alliance.purpose

    services.charter_set_purpose(
        alliance=alliance, purpose="Every child reads.", agreed_on=date(2026, 2, 1), by=steward_user
    )

    alliance.refresh_from_db()
    assert alliance.purpose == "Every child reads."
    assert alliance.purpose_agreed_on == date(2026, 2, 1)
    change = _only_change(alliance, CharterChange.Kind.PURPOSE)
    assert (change.changed_by, change.changed_at, change.before, change.after) == (
        steward_user,
        NOW,
        old,
        "Every child reads.",
    )


@time_machine.travel(NOW, tick=False)
def test_adding_a_norm_records_who_when_and_the_text(alliance, steward_user):
    norm = services.norm_add(alliance=alliance, text="Start on time", agreed_on=None, by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.NORM_ADDED)
    assert (change.norm, change.changed_by, change.changed_at, change.before, change.after) == (
        norm,
        steward_user,
        NOW,
        "",
        "Start on time",
    )


def test_editing_a_norm_records_the_text_before_and_after(alliance, steward_user, norms):
    services.norm_edit(norm=norms[0], text="Start and end on time", agreed_on=None, by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.NORM_EDITED)
    assert (change.norm, change.changed_by, change.before, change.after) == (
        norms[0],
        steward_user,
        "Start on time",
        "Start and end on time",
    )


def test_editing_only_the_agreement_date_of_a_norm_records_no_text_change(alliance, steward_user, norms):
    services.norm_edit(norm=norms[0], text="Start on time", agreed_on=date(2026, 1, 5), by=steward_user)

    assert Norm.objects.get(pk=norms[0].pk).agreed_on == date(2026, 1, 5)
    assert not CharterChange.objects.filter(kind=CharterChange.Kind.NORM_EDITED).exists()


def test_moving_a_norm_records_its_old_and_new_position(alliance, steward_user, norms):
    services.norm_move(norm=norms[2], direction="up", by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.NORM_MOVED)
    assert (change.norm, change.changed_by, change.before, change.after) == (norms[2], steward_user, "3", "2")


def test_retiring_a_norm_records_its_text(alliance, steward_user, norms):
    services.norm_retire(norm=norms[1], by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.NORM_RETIRED)
    assert (change.norm, change.changed_by, change.before, change.after) == (
        norms[1],
        steward_user,
        "Everyone speaks once",
        "",
    )


@time_machine.travel(NOW, tick=False)
def test_setting_the_logistics_records_a_readable_before_and_after(alliance, steward_user):
    services.charter_set_logistics(
        alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY, meeting_weekday=Alliance.Weekday.TUESDAY
    )
    services.charter_set_logistics(
        alliance=alliance,
        by=steward_user,
        cadence=Alliance.Cadence.MONTHLY,
        meeting_time=time(18, 30),
        meeting_duration_minutes=90,
    )

    latest = CharterChange.objects.filter(alliance=alliance, kind=CharterChange.Kind.LOGISTICS).first()
    assert latest.changed_by == steward_user
    assert latest.changed_at == NOW
    # Values, not sentences in the saving steward's language: each reader gets them in their own.
    assert latest.before_values["cadence"] == "weekly"
    assert latest.before_values["meeting_weekday"] == 1
    assert latest.before_values["meeting_time"] is None
    assert latest.after_values["cadence"] == "monthly"
    assert latest.after_values["meeting_time"] == "18:30"
    assert latest.after_values["meeting_duration_minutes"] == 90
    assert latest.after_values["time_zone"] == "UTC"
    assert (latest.before, latest.after) == ("", "")
    assert CharterChange.objects.filter(kind=CharterChange.Kind.LOGISTICS).count() == 2


def test_logistics_history_is_recorded_in_no_language_and_read_in_the_readers(alliance, steward_user):
    # A Spanish steward saves; the history holds no Spanish words, and an English reader reads English.
    with translation.override("es"):
        services.charter_set_logistics(
            alliance=alliance, by=steward_user, cadence=Alliance.Cadence.MONTHLY, time_zone="America/New_York"
        )
    change = CharterChange.objects.get(kind=CharterChange.Kind.LOGISTICS)

    with translation.override("en"):
        english = [(c.label, c.before, c.after) for c in change.setting_changes()]
    with translation.override("es"):
        spanish = [(c.label, c.before, c.after) for c in change.setting_changes()]

    assert english == [
        ("How often we meet", "(not set)", "Monthly"),
        ("Time zone", "Coordinated Universal Time (UTC)", "United States — New York"),
    ]
    assert spanish[0][0] == "Con qué frecuencia nos reunimos"
    assert spanish[0][2] == "Mensual"
    assert spanish[1][0] == "Zona horaria"
    assert spanish[1][2] == "Estados Unidos — Nueva York"


def test_saving_unchanged_logistics_records_no_change(alliance, steward_user):
    services.charter_set_logistics(alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY)

    services.charter_set_logistics(alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY)

    assert CharterChange.objects.filter(kind=CharterChange.Kind.LOGISTICS).count() == 1


def test_a_custom_cadence_requires_a_description(alliance, steward_user):
    with pytest.raises(AllianceError, match="how often"):
        services.charter_set_logistics(
            alliance=alliance, by=steward_user, cadence=Alliance.Cadence.CUSTOM, cadence_custom=""
        )

    alliance.refresh_from_db()
    assert alliance.cadence == ""
    assert not CharterChange.objects.exists()


def test_a_custom_cadence_with_a_description_is_saved(alliance, steward_user):
    services.charter_set_logistics(
        alliance=alliance, by=steward_user, cadence=Alliance.Cadence.CUSTOM, cadence_custom="first Tuesday"
    )

    alliance.refresh_from_db()
    assert alliance.cadence_display == "first Tuesday"


def test_choosing_a_regular_cadence_drops_the_custom_description(alliance, steward_user):
    services.charter_set_logistics(
        alliance=alliance, by=steward_user, cadence=Alliance.Cadence.CUSTOM, cadence_custom="first Tuesday"
    )

    services.charter_set_logistics(
        alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY, cadence_custom="first Tuesday"
    )

    alliance.refresh_from_db()
    assert alliance.cadence_custom == ""


# --- "Before" is what was saved, whatever the caller's instance holds --------------------------------
# A ModelForm validating with `instance=alliance` writes the typed values onto that instance. The
# services re-read the row under a lock, so the history's "before" is still the saved value.


def test_setting_the_purpose_records_the_saved_purpose_as_before_even_from_a_changed_instance(alliance, steward_user):
    alliance.purpose = "Typed into the form"

    services.charter_set_purpose(alliance=alliance, purpose="Every child reads.", agreed_on=None, by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.PURPOSE)
    assert change.before == "Every child in the barrio reads by the end of third grade."
    assert change.after == "Every child reads."


def test_setting_the_logistics_records_the_saved_values_as_before_even_from_a_changed_instance(alliance, steward_user):
    services.charter_set_logistics(alliance=alliance, by=steward_user, venue_address="Biblioteca")
    alliance.venue_address = "Typed into the form"
    alliance.cadence = Alliance.Cadence.MONTHLY

    services.charter_set_logistics(alliance=alliance, by=steward_user, venue_address="Plaza")

    latest = CharterChange.objects.filter(kind=CharterChange.Kind.LOGISTICS).first()
    assert latest.before_values["venue_address"] == "Biblioteca"
    assert latest.after_values["venue_address"] == "Plaza"
    # Only what the call set changed: the instance's stray cadence was not saved.
    assert latest.after_values["cadence"] == ""
    assert Alliance.objects.get(pk=alliance.pk).cadence == ""


def test_editing_a_norm_records_the_saved_text_as_before_even_from_a_changed_instance(alliance, steward_user, norms):
    norms[0].text = "Typed into the form"

    services.norm_edit(norm=norms[0], text="Start and end on time", agreed_on=None, by=steward_user)

    change = _only_change(alliance, CharterChange.Kind.NORM_EDITED)
    assert (change.before, change.after) == ("Start on time", "Start and end on time")


def test_a_norm_retired_after_it_was_loaded_cannot_be_edited(alliance, steward_user, norms):
    stale = Norm.objects.get(pk=norms[0].pk)
    services.norm_retire(norm=norms[0], by=steward_user)

    with pytest.raises(AllianceError, match="retired"):
        services.norm_edit(norm=stale, text="Changed", agreed_on=None, by=steward_user)

    assert Norm.objects.get(pk=norms[0].pk).text == "Start on time"


def test_a_membership_that_ended_after_it_was_loaded_cannot_change_its_organisation(
    alliance, steward_user, member_user
):
    stale = membership_of(alliance, member_user)
    services.member_leave(member=membership_of(alliance, member_user))

    with pytest.raises(AllianceError, match="no longer a member"):
        services.member_set_organisation(member=stale, organisation="PTA")

    assert membership_of(alliance, member_user).organisation == ""


def test_charter_services_lock_the_row_they_read_before(postgresql, alliance, steward_user, norms):
    # The "before" read and the write must not interleave with another steward's save.
    with CaptureQueriesContext(connection) as queries:
        services.charter_set_purpose(alliance=alliance, purpose="New", agreed_on=None, by=steward_user)
        services.charter_set_logistics(alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY)
        services.norm_edit(norm=norms[0], text="Changed", agreed_on=None, by=steward_user)
        services.member_set_organisation(member=membership_of(alliance, steward_user), organisation="PTA")

    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 4, locking


def test_norm_services_refuse_a_text_over_the_limit(alliance, steward_user, norms):
    with pytest.raises(AllianceError, match="at most 1,000 characters"):
        services.norm_add(alliance=alliance, text="x" * 1001, agreed_on=None, by=steward_user)
    with pytest.raises(AllianceError, match="this one has 1,200"):
        services.norm_edit(norm=norms[0], text="x" * 1200, agreed_on=None, by=steward_user)

    assert _texts(alliance) == ["Start on time", "Everyone speaks once", "Decide by consensus"]


def test_logistics_accept_only_logistics_fields(alliance, steward_user):
    with pytest.raises(TypeError):
        services.charter_set_logistics(alliance=alliance, by=steward_user, name="Renamed")


# --- Invitations ------------------------------------------------------------------------------------


def test_an_invitation_is_stored_for_the_normalised_address(alliance, steward_user):
    invitation = services.invitation_create(alliance=alliance, email="  Ana@Example.ORG ", invited_by=steward_user)

    assert invitation.email == "ana@example.org"
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.invited_by == steward_user


def test_an_active_member_cannot_be_invited(alliance, steward_user, member_user):
    with pytest.raises(AllianceError, match="already a member"):
        services.invitation_create(alliance=alliance, email=member_user.email.upper(), invited_by=steward_user)

    assert not Invitation.objects.exists()


def test_an_address_with_a_pending_invitation_cannot_be_invited_again(alliance, steward_user):
    services.invitation_create(alliance=alliance, email="ana@example.org", invited_by=steward_user)

    with pytest.raises(AllianceError, match="already been invited"):
        services.invitation_create(alliance=alliance, email="ANA@example.org", invited_by=steward_user)

    assert Invitation.objects.count() == 1


def test_an_expired_invitation_makes_way_for_a_new_one(alliance, steward_user):
    old = InvitationFactory(alliance=alliance, email="ana@example.org", expires_at=timezone.now())

    new = services.invitation_create(alliance=alliance, email="ana@example.org", invited_by=steward_user)

    old.refresh_from_db()
    assert old.status == Invitation.Status.CANCELLED
    assert new.status == Invitation.Status.PENDING
    assert new.token != old.token


def test_a_batch_skips_members_and_invited_addresses_and_invites_the_rest(alliance, steward_user, member_user):
    InvitationFactory(alliance=alliance, email="ben@example.org")

    results = services.invitations_create(
        alliance=alliance,
        emails=["ana@example.org", member_user.email, "BEN@example.org", "cai@example.org"],
        invited_by=steward_user,
    )

    assert [(r.email, r.skipped) for r in results] == [
        ("ana@example.org", None),
        (member_user.email, services.InvitationSkip.ALREADY_MEMBER),
        ("ben@example.org", services.InvitationSkip.ALREADY_INVITED),
        ("cai@example.org", None),
    ]
    assert sorted(Invitation.objects.pending().values_list("email", flat=True)) == [
        "ana@example.org",
        "ben@example.org",
        "cai@example.org",
    ]


def test_a_batch_with_an_address_too_long_for_the_column_invites_nobody(alliance, steward_user):
    too_long = "a" * 64 + "@" + "b" * 186 + ".org"  # 255 characters: a valid address the column cannot hold

    with pytest.raises(AllianceError, match="at most 254 characters"):
        services.invitations_create(alliance=alliance, emails=["ana@example.org", too_long], invited_by=steward_user)

    assert not Invitation.objects.exists()


def test_an_invitation_is_in_the_alliance_language_unless_the_steward_chooses_another(alliance, steward_user):
    alliance.language = "es"
    alliance.save()

    default = services.invitation_create(alliance=alliance, email="ana@example.org", invited_by=steward_user)
    chosen = services.invitation_create(
        alliance=alliance, email="ben@example.org", invited_by=steward_user, language="en"
    )

    assert (default.language, chosen.language) == ("es", "en")
    with pytest.raises(AllianceError, match="Choose a language"):
        services.invitation_create(alliance=alliance, email="cai@example.org", invited_by=steward_user, language="fr")


def test_a_new_alliance_invites_in_its_founders_language(db):
    founder = UserFactory(language="es")

    alliance = services.alliance_create(name="Lectores", slug="lectores", created_by=founder)

    assert alliance.language == "es"


def test_a_cancelled_invitation_cannot_be_cancelled_or_resent(alliance, steward_user):
    invitation = services.invitation_create(alliance=alliance, email="ana@example.org", invited_by=steward_user)
    services.invitation_cancel(invitation=invitation, by=steward_user)

    with pytest.raises(AllianceError):
        services.invitation_cancel(invitation=invitation, by=steward_user)
    with pytest.raises(AllianceError):
        services.invitation_resend(invitation=invitation, by=steward_user)


@time_machine.travel(NOW, tick=False)
def test_resending_gives_a_new_token_and_a_fresh_fourteen_days(alliance, steward_user):
    invitation = InvitationFactory(alliance=alliance, expires_at=NOW + timedelta(days=1))
    old_token = invitation.token

    services.invitation_resend(invitation=invitation, by=steward_user)

    invitation.refresh_from_db()
    assert invitation.token != old_token
    assert invitation.expires_at == NOW + timedelta(days=14)
    assert invitation.invited_by == steward_user


@pytest.mark.parametrize(
    ("status", "expires_in", "reason"),
    [
        (Invitation.Status.ACCEPTED, timedelta(days=1), InvitationInvalid.Reason.USED),
        (Invitation.Status.CANCELLED, timedelta(days=1), InvitationInvalid.Reason.CANCELLED),
        (Invitation.Status.PENDING, timedelta(seconds=-1), InvitationInvalid.Reason.EXPIRED),
    ],
)
def test_an_unusable_invitation_cannot_be_accepted(alliance, outsider, status, expires_in, reason):
    invitation = InvitationFactory(alliance=alliance, status=status, expires_at=timezone.now() + expires_in)

    with pytest.raises(InvitationInvalid) as excinfo:
        services.invitation_accept(invitation=invitation, user=outsider)

    assert excinfo.value.reason == reason
    assert not Member.objects.filter(user=outsider).exists()


def test_accepting_makes_a_member_and_uses_up_the_invitation(alliance, outsider):
    invitation = InvitationFactory(alliance=alliance, email=outsider.email)

    membership = services.invitation_accept(invitation=invitation, user=outsider, organisation="PTA")

    invitation.refresh_from_db()
    assert membership.is_active
    assert not membership.is_steward
    assert membership.organisation == "PTA"
    assert invitation.status == Invitation.Status.ACCEPTED
    assert invitation.accepted_by == outsider


def test_accepting_an_invitation_sent_to_your_address_confirms_it(alliance):
    unconfirmed = UserFactory(email_confirmed_at=None)
    invitation = InvitationFactory(alliance=alliance, email=unconfirmed.email)

    services.invitation_accept(invitation=invitation, user=unconfirmed)

    unconfirmed.refresh_from_db()
    assert unconfirmed.is_email_confirmed


@pytest.mark.parametrize("who", ["outsider", "member", "removed"])
def test_only_the_invited_address_can_accept(alliance, steward_user, outsider, member_user, who):
    if who == "removed":
        services.member_deactivate(member=membership_of(alliance, member_user), by=steward_user)
    user = outsider if who == "outsider" else member_user
    invitation = InvitationFactory(alliance=alliance, email="someone-else@example.org")

    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=invitation, user=user)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert Member.objects.active().filter(alliance=alliance, user=user).count() == (who == "member")


def test_an_active_member_cannot_accept_another_invitation(alliance, member_user):
    invitation = InvitationFactory(alliance=alliance, email=member_user.email)

    with pytest.raises(AllianceError, match="already a member"):
        services.invitation_accept(invitation=invitation, user=member_user)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_a_former_member_who_accepts_comes_back_as_the_same_row(alliance, steward_user, member_user):
    old = membership_of(alliance, member_user)
    services.member_deactivate(member=old, by=steward_user)
    invitation = InvitationFactory(alliance=alliance, email=member_user.email)

    back = services.invitation_accept(invitation=invitation, user=member_user, organisation="Library")

    assert back.pk == old.pk
    assert back.is_active
    assert (back.end_reason, back.ended_at, back.ended_by) == ("", None, None)
    assert back.organisation == "Library"
    assert Member.objects.filter(alliance=alliance, user=member_user).count() == 1


def test_accepting_with_a_new_account_creates_a_confirmed_account(alliance):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org")

    membership = services.invitation_accept_new_user(
        invitation=invitation,
        display_name="Ana Rivera",
        password="a long enough passphrase",
        language="es",
        time_zone="America/Puerto_Rico",
        organisation="Escuela",
    )

    user = membership.user
    assert user.email == "ana@example.org"
    assert user.is_email_confirmed
    assert user.check_password("a long enough passphrase")
    assert (user.language, user.time_zone) == ("es", "America/Puerto_Rico")
    assert membership.organisation == "Escuela"


def test_accepting_with_a_new_account_fails_when_the_address_has_one(alliance, outsider):
    invitation = InvitationFactory(alliance=alliance, email=outsider.email.upper())

    with pytest.raises(AllianceError, match="exists already"):
        services.invitation_accept_new_user(
            invitation=invitation,
            display_name="Ana",
            password="a long enough passphrase",
            language="en",
            time_zone="UTC",
        )

    assert not Member.objects.filter(user=outsider).exists()
