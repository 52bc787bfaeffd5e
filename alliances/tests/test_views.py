from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from alliances import services
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory, NormFactory
from alliances.tests.helpers import alliance_url, flash_messages, membership_of

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _queries(client, url: str) -> int:
    client.get(url)  # warm caches (content types, translations) so only the page's own queries count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- Alliance list and creation ---------------------------------------------------------------------


def test_alliance_list_shows_only_my_current_alliances(client, alliance, member_user):
    AllianceFactory(name="Someone Else's Alliance")
    left = AllianceFactory(name="Alliance I Left")
    MemberFactory(alliance=left, user=member_user, is_active=False, end_reason=Member.EndReason.LEFT)
    client.force_login(member_user)

    response = client.get(reverse("alliances:alliance_list"))

    page = response.content.decode()
    assert [m.alliance for m in response.context["memberships"]] == [alliance]
    assert "Barrio Readers" in page
    assert "Someone Else" not in page
    assert "Alliance I Left" not in page


def test_alliance_list_counts_only_active_members(client, alliance, steward_user, member_user):
    MemberFactory(alliance=alliance, is_active=False)
    client.force_login(member_user)

    response = client.get(reverse("alliances:alliance_list"))

    assert response.context["memberships"][0].member_count == 2
    assert "2 members" in response.content.decode()


def test_alliance_list_says_so_when_i_have_no_alliance(client, outsider):
    client.force_login(outsider)

    response = client.get(reverse("alliances:alliance_list"))

    assert "You are not a member of any alliance yet." in response.content.decode()


@pytest.mark.usefixtures("page_cache_off")
def test_alliance_list_makes_the_same_queries_for_1_or_20_alliances(client, outsider, django_assert_max_num_queries):
    MemberFactory(user=outsider)
    client.force_login(outsider)
    url = reverse("alliances:alliance_list")
    with_one = _queries(client, url)
    for _ in range(19):
        alliance = MemberFactory(user=outsider).alliance
        MemberFactory.create_batch(2, alliance=alliance)

    with django_assert_max_num_queries(with_one):
        response = client.get(url)

    assert len(response.context["memberships"]) == 20


def test_creating_an_alliance_makes_me_its_steward_and_opens_it(client, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("alliances:alliance_create"), {"name": "Escuela Abierta", "slug": "", "organisation": "PTA"}
    )

    alliance = Alliance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/alliances/escuela-abierta/"
    membership = membership_of(alliance, outsider)
    assert membership.is_steward
    assert membership.organisation == "PTA"


def test_new_alliance_page_shows_a_form(client, outsider):
    client.force_login(outsider)

    response = client.get(reverse("alliances:alliance_create"))

    assert response.status_code == 200
    assert 'name="name"' in response.content.decode()


# --- Alliance detail --------------------------------------------------------------------------------


def test_alliance_page_shows_purpose_norms_members_and_logistics(client, alliance, steward_user, member_user):
    NormFactory(alliance=alliance, text="Start on time")
    services.charter_set_logistics(alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY)
    client.force_login(member_user)

    page = client.get(alliance_url("alliance_detail", alliance)).content.decode()

    assert alliance.purpose in page
    assert "Start on time" in page
    assert "Stella Steward" in page
    assert "Mia Member" in page
    assert "Weekly" in page


def test_only_stewards_see_pending_invitations_on_the_alliance_page(client, alliance, steward_user, member_user):
    InvitationFactory(alliance=alliance, email="ana@example.org")

    client.force_login(member_user)
    assert "ana@example.org" not in client.get(alliance_url("alliance_detail", alliance)).content.decode()
    client.force_login(steward_user)
    assert "ana@example.org" in client.get(alliance_url("alliance_detail", alliance)).content.decode()


@pytest.mark.usefixtures("page_cache_off")
def test_alliance_page_makes_the_same_queries_for_3_or_30_members(
    client, alliance, steward_user, member_user, django_assert_max_num_queries
):
    MemberFactory(alliance=alliance)
    NormFactory.create_batch(2, alliance=alliance)
    InvitationFactory(alliance=alliance)
    client.force_login(steward_user)
    url = alliance_url("alliance_detail", alliance)
    with_three = _queries(client, url)
    MemberFactory.create_batch(27, alliance=alliance, organisation="Library")
    NormFactory.create_batch(10, alliance=alliance)
    InvitationFactory.create_batch(5, alliance=alliance)

    with django_assert_max_num_queries(with_three):
        response = client.get(url)

    assert len(response.context["members"]) == 30


# --- Charter ----------------------------------------------------------------------------------------


def test_charter_page_shows_edit_buttons_only_to_stewards(client, alliance, steward_user, member_user):
    NormFactory(alliance=alliance)
    edit_purpose = alliance_url("charter_purpose_edit", alliance)

    client.force_login(member_user)
    assert edit_purpose not in client.get(alliance_url("charter_detail", alliance)).content.decode()
    client.force_login(steward_user)
    assert edit_purpose in client.get(alliance_url("charter_detail", alliance)).content.decode()


def test_steward_edits_the_purpose_and_history_records_the_old_text(client, alliance, steward_user):
    old = alliance.purpose
    client.force_login(steward_user)

    response = client.post(
        alliance_url("charter_purpose_edit", alliance),
        {"purpose": "Every child reads.", "purpose_agreed_on": "2026-02-01"},
    )

    assert response.status_code == 302
    assert response["Location"] == alliance_url("charter_detail", alliance)
    alliance.refresh_from_db()
    assert alliance.purpose == "Every child reads."
    change = CharterChange.objects.get(kind=CharterChange.Kind.PURPOSE)
    assert (change.before, change.after, change.changed_by) == (old, "Every child reads.", steward_user)


def test_steward_edits_the_logistics_and_history_records_the_change(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(
        alliance_url("charter_logistics_edit", alliance),
        {
            "cadence": "custom",
            "cadence_custom": "the first Tuesday of each month",
            "meeting_weekday": "1",
            "meeting_time": "18:30",
            "meeting_duration_minutes": "90",
            "time_zone": "America/Puerto_Rico",
            "venue_address": "Biblioteca Municipal",
            "video_link": "https://meet.example.org/barrio",
            "info_sharing": "Mailing list",
            "info_link": "",
        },
    )

    assert response.status_code == 302
    alliance.refresh_from_db()
    assert alliance.cadence_display == "the first Tuesday of each month"
    assert alliance.meeting_time == time(18, 30)
    assert alliance.time_zone == "America/Puerto_Rico"
    change = CharterChange.objects.get(kind=CharterChange.Kind.LOGISTICS)
    assert change.changed_by == steward_user
    assert change.before_values["cadence_custom"] == ""
    assert change.after_values["cadence_custom"] == "the first Tuesday of each month"
    assert change.after_values["venue_address"] == "Biblioteca Municipal"


def test_logistics_form_starts_with_the_saved_logistics(client, alliance, steward_user):
    services.charter_set_logistics(alliance=alliance, by=steward_user, venue_address="Biblioteca Municipal")
    client.force_login(steward_user)

    response = client.get(alliance_url("charter_logistics_edit", alliance))

    assert "Biblioteca Municipal" in response.content.decode()


def test_steward_adds_a_norm_at_the_end_of_the_list(client, alliance, steward_user):
    NormFactory(alliance=alliance, text="Start on time", position=1)
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_create", alliance), {"text": "Phones away", "agreed_on": "2026-02-01"})

    assert response.status_code == 302
    assert [n.text for n in Norm.objects.current()] == ["Start on time", "Phones away"]
    assert CharterChange.objects.filter(kind=CharterChange.Kind.NORM_ADDED, after="Phones away").exists()


def test_steward_edits_a_norm_and_history_records_before_and_after(client, alliance, steward_user):
    norm = NormFactory(alliance=alliance, text="Start on time")
    client.force_login(steward_user)

    form_page = client.get(alliance_url("norm_edit", alliance, pk=norm.pk))
    response = client.post(alliance_url("norm_edit", alliance, pk=norm.pk), {"text": "Start and end on time"})

    assert "Start on time" in form_page.content.decode()
    assert response.status_code == 302
    change = CharterChange.objects.get(kind=CharterChange.Kind.NORM_EDITED)
    assert (change.before, change.after) == ("Start on time", "Start and end on time")


def test_a_norm_of_another_alliance_is_not_found(client, alliance, steward_user):
    elsewhere = NormFactory(alliance=AllianceFactory())
    client.force_login(steward_user)

    assert client.get(alliance_url("norm_edit", alliance, pk=elsewhere.pk)).status_code == 404
    assert client.post(alliance_url("norm_retire", alliance, pk=elsewhere.pk)).status_code == 404
    assert client.post(alliance_url("norm_move", alliance, pk=elsewhere.pk), {"direction": "up"}).status_code == 404
    assert Norm.objects.get(pk=elsewhere.pk).retired_at is None


def test_moving_a_norm_with_a_plain_form_reorders_and_goes_back_to_the_charter(client, alliance, steward_user):
    first = NormFactory(alliance=alliance, text="First", position=1)
    second = NormFactory(alliance=alliance, text="Second", position=2)
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_move", alliance, pk=second.pk), {"direction": "up"})

    assert response.status_code == 302
    assert response["Location"] == alliance_url("charter_detail", alliance)
    assert list(Norm.objects.current()) == [second, first]


def test_moving_a_norm_with_htmx_returns_only_the_norm_list(client, alliance, steward_user):
    NormFactory(alliance=alliance, text="First", position=1)
    second = NormFactory(alliance=alliance, text="Second", position=2)
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_move", alliance, pk=second.pk), {"direction": "up"}, headers=HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="norm-list"' in page
    assert "<html" not in page
    assert page.index("Second") < page.index("First")


def test_retiring_a_norm_with_htmx_returns_the_list_without_it(client, alliance, steward_user):
    NormFactory(alliance=alliance, text="Keep me", position=1)
    gone = NormFactory(alliance=alliance, text="Retire me", position=2)
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_retire", alliance, pk=gone.pk), headers=HTMX)

    page = response.content.decode()
    assert 'id="norm-list"' in page
    assert "<html" not in page
    assert "Keep me" in page
    assert "Retire me" not in page


def test_a_retired_norm_leaves_the_charter_but_stays_in_its_history(client, alliance, steward_user, member_user):
    norm = NormFactory(alliance=alliance, text="Phones away")
    client.force_login(steward_user)
    client.post(alliance_url("norm_retire", alliance, pk=norm.pk))

    client.force_login(member_user)
    charter = client.get(alliance_url("charter_detail", alliance)).content.decode()
    history = client.get(alliance_url("charter_history", alliance)).content.decode()

    assert "Phones away" not in charter
    assert "Phones away" in history
    assert "retired by Stella Steward" in history


def test_charter_history_lists_each_change_with_who_made_it(client, alliance, steward_user, member_user):
    services.charter_set_purpose(alliance=alliance, purpose="Every child reads.", agreed_on=None, by=steward_user)
    first = services.norm_add(alliance=alliance, text="Start on time", agreed_on=None, by=steward_user)
    services.norm_add(alliance=alliance, text="Phones away", agreed_on=None, by=steward_user)
    services.norm_move(norm=first, direction="down", by=steward_user)
    client.force_login(member_user)

    page = client.get(alliance_url("charter_history", alliance)).content.decode()

    assert "Purpose changed" in page
    assert "Every child reads." in page
    assert "Norm added" in page
    assert "“Start on time” moved from position 1 to 2." in page
    assert "by Stella Steward" in page


def test_a_spanish_reader_reads_a_logistics_change_in_spanish_and_nothing_looks_like_a_link(
    client, alliance, steward_user, member_user
):
    # Saved by an English-speaking steward; stored as values, so the Spanish reader gets Spanish words.
    services.charter_set_logistics(
        alliance=alliance, by=steward_user, cadence=Alliance.Cadence.MONTHLY, meeting_weekday=Alliance.Weekday.TUESDAY
    )
    services.charter_set_purpose(alliance=alliance, purpose="Every child reads.", agreed_on=None, by=steward_user)
    member_user.language = "es"
    member_user.save(update_fields=["language"])
    client.force_login(member_user)

    page = client.get(alliance_url("charter_history", alliance)).content.decode()

    assert "Logística modificada" in page
    assert "<dt>Con qué frecuencia nos reunimos</dt>" in page
    assert "Mensual" in page
    assert "Martes" in page
    assert "Monthly" not in page
    assert "how often we meet" not in page
    # Before and after are labelled text: no <ins> (underlined, like a link), no links.
    history = page[page.index("<ol") : page.index("</ol>")]
    assert "<ins" not in history
    assert "<a " not in history
    assert "Antes:" in history
    assert "Después:" in history


# --- Members ----------------------------------------------------------------------------------------


def test_member_list_shows_members_and_links_to_former_members(client, alliance, steward_user, member_user):
    gone = MemberFactory(alliance=alliance, user__display_name="Fran Former")
    services.member_deactivate(member=gone, by=steward_user)
    client.force_login(member_user)

    response = client.get(alliance_url("member_list", alliance))
    former = client.get(alliance_url("former_member_list", alliance)).content.decode()

    page = response.content.decode()
    assert "Mia Member" in page
    assert f'href="{alliance_url("former_member_list", alliance)}">Former members</a>' in page
    assert "Fran Former" not in page
    assert "invitation_form" not in response.context
    assert "Fran Former" in former
    assert "Deactivated by a steward, " in former


@pytest.mark.usefixtures("page_cache_off")
def test_member_list_makes_the_same_queries_for_3_or_30_members(
    client, alliance, steward_user, member_user, django_assert_max_num_queries
):
    services.member_deactivate(member=MemberFactory(alliance=alliance), by=steward_user)
    MemberFactory(alliance=alliance)
    InvitationFactory(alliance=alliance)
    client.force_login(steward_user)
    url = alliance_url("member_list", alliance)
    with_three = _queries(client, url)
    for former in MemberFactory.create_batch(5, alliance=alliance):
        services.member_deactivate(member=former, by=steward_user)
    MemberFactory.create_batch(27, alliance=alliance, organisation="Library")
    InvitationFactory.create_batch(5, alliance=alliance, invited_by=UserFactory())

    with django_assert_max_num_queries(with_three):
        response = client.get(url)

    assert len(response.context["members"]) == 30


def test_steward_makes_a_member_a_steward_and_back(client, alliance, steward_user, member_user):
    target = membership_of(alliance, member_user)
    client.force_login(steward_user)

    client.post(alliance_url("member_steward", alliance, pk=target.pk), {"steward": "1"})
    assert membership_of(alliance, member_user).is_steward

    response = client.post(alliance_url("member_steward", alliance, pk=target.pk), {"steward": "0"})
    assert not membership_of(alliance, member_user).is_steward
    assert response["Location"] == alliance_url("member_list", alliance)


def test_demoting_the_last_steward_shows_why_and_changes_nothing(client, alliance, steward_user, member_user):
    client.force_login(steward_user)

    response = client.post(
        alliance_url("member_steward", alliance, pk=membership_of(alliance, steward_user).pk),
        {"steward": "0"},
        follow=True,
    )

    assert "at least one steward" in response.content.decode()
    assert membership_of(alliance, steward_user).is_steward


def test_steward_removes_a_member_who_then_loses_access(client, alliance, steward_user, member_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("member_deactivate", alliance, pk=membership_of(alliance, member_user).pk))

    assert response.status_code == 302
    row = membership_of(alliance, member_user)
    assert (row.is_active, row.end_reason, row.ended_by) == (False, Member.EndReason.DEACTIVATED, steward_user)
    client.force_login(member_user)
    assert client.get(alliance_url("alliance_detail", alliance)).status_code == 404


def test_removing_the_last_steward_shows_why_and_changes_nothing(client, alliance, steward_user, member_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("member_deactivate", alliance, pk=membership_of(alliance, steward_user).pk))

    assert any("last steward" in text for text in flash_messages(response))
    assert membership_of(alliance, steward_user).is_active


def test_a_steward_who_removes_themselves_goes_to_their_alliance_list(client, alliance, steward_user, member_user):
    services.member_set_steward(member=membership_of(alliance, member_user), is_steward=True, by=steward_user)
    client.force_login(steward_user)

    response = client.post(alliance_url("member_deactivate", alliance, pk=membership_of(alliance, steward_user).pk))

    assert response["Location"] == reverse("alliances:alliance_list")


def test_leave_page_asks_before_leaving(client, alliance, member_user):
    client.force_login(member_user)

    response = client.get(alliance_url("member_leave", alliance))

    assert response.status_code == 200
    assert "Leave the alliance" in response.content.decode()
    assert membership_of(alliance, member_user).is_active


def test_a_member_who_leaves_loses_access_and_their_row_is_kept(client, alliance, steward_user, member_user):
    client.force_login(member_user)

    response = client.post(alliance_url("member_leave", alliance))

    assert response["Location"] == reverse("alliances:alliance_list")
    row = membership_of(alliance, member_user)
    assert (row.is_active, row.end_reason, row.ended_by) == (False, Member.EndReason.LEFT, member_user)
    assert client.get(alliance_url("alliance_detail", alliance)).status_code == 404
    assert "Barrio Readers" not in client.get(reverse("alliances:alliance_list")).content.decode()


def test_the_last_steward_trying_to_leave_is_told_why_and_stays(client, alliance, steward_user, member_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("member_leave", alliance), follow=True)

    assert "The last steward cannot leave" in response.content.decode()
    assert membership_of(alliance, steward_user).is_active


def test_a_member_edits_the_organisation_they_represent(client, alliance, member_user):
    client.force_login(member_user)

    response = client.post(alliance_url("member_edit", alliance), {"organisation": "Friends of the Library"})

    assert response.status_code == 302
    assert membership_of(alliance, member_user).organisation == "Friends of the Library"


def test_a_member_of_another_alliance_cannot_be_managed_from_this_one(client, alliance, steward_user):
    elsewhere = MemberFactory(alliance=AllianceFactory())
    client.force_login(steward_user)

    assert client.post(alliance_url("member_deactivate", alliance, pk=elsewhere.pk)).status_code == 404
    assert client.post(alliance_url("member_steward", alliance, pk=elsewhere.pk), {"steward": "1"}).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.is_active
    assert not elsewhere.is_steward


# --- Invitations, from the steward's side -----------------------------------------------------------


def test_steward_sees_the_invitation_form_and_pending_invitations(client, alliance, steward_user):
    InvitationFactory(alliance=alliance, email="ana@example.org", invited_by=steward_user)
    client.force_login(steward_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    assert 'name="emails"' in page
    assert "ana@example.org" in page
    assert "invited by Stella Steward" in page


def test_steward_invites_and_is_told_who_was_invited(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("invitation_create", alliance), {"emails": "ana@example.org"})

    assert response["Location"] == alliance_url("member_list", alliance)
    assert flash_messages(response) == ["Invitation sent to ana@example.org."]
    assert Invitation.objects.get().email == "ana@example.org"


def test_steward_cancels_an_invitation(client, alliance, steward_user):
    invitation = InvitationFactory(alliance=alliance)
    client.force_login(steward_user)

    client.post(alliance_url("invitation_cancel", alliance, pk=invitation.pk))
    response = client.post(alliance_url("invitation_cancel", alliance, pk=invitation.pk))

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CANCELLED
    assert flash_messages(response)[-1] == "This invitation is no longer pending."


def test_an_invitation_of_another_alliance_cannot_be_cancelled_from_this_one(client, alliance, steward_user):
    elsewhere = InvitationFactory()
    client.force_login(steward_user)

    assert client.post(alliance_url("invitation_cancel", alliance, pk=elsewhere.pk)).status_code == 404
    assert client.post(alliance_url("invitation_resend", alliance, pk=elsewhere.pk)).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == Invitation.Status.PENDING
