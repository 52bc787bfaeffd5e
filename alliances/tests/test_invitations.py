"""Invitations end to end: the steward's form, the email, the link, the new or existing account."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from alliances import services
from alliances.models import Alliance, Invitation, Member
from alliances.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/invitations/[A-Za-z0-9_-]+/)")
NEW_ACCOUNT = {
    "display_name": "Ana Rivera",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
    "language": "es",
    "time_zone": "America/Puerto_Rico",
    "organisation": "Escuela Montessori",
}


def _invite(client, alliance: Alliance, steward_user, emails: str, capture) -> None:
    """Invite as the steward through the page, and run the jobs queued on commit (the sending)."""
    client.force_login(steward_user)
    with capture(execute=True):
        response = client.post(
            reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}), {"emails": emails}
        )
    assert response.status_code == 302, response.content.decode()
    client.logout()


def _link(message) -> str:
    [path] = set(LINK.findall(message.body))
    return path


def _pending(email: str) -> Invitation:
    return Invitation.objects.get(email=email, status=Invitation.Status.PENDING)


def _logged_in_user_id(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


@pytest.fixture
def invited(client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox):
    """ana@example.org has been invited through the page; returns the link in her email."""
    _invite(client, alliance, steward_user, "ana@example.org", django_capture_on_commit_callbacks)
    [message] = mailoutbox
    return _link(message)


# --- The email --------------------------------------------------------------------------------------


def test_steward_invites_two_people_and_each_gets_an_email_with_their_own_link(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    _invite(client, alliance, steward_user, "ana@example.org, Ben@Example.org", django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mailoutbox) == ["ana@example.org", "ben@example.org"]
    for message in mailoutbox:
        invitation = _pending(message.to[0])
        link = f"http://testserver/invitations/{invitation.token}/"
        assert "Barrio Readers" in message.subject
        assert link in message.body
        assert "Stella Steward" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert link in html
        assert message.reply_to == [steward_user.email]


def test_an_invitation_is_sent_once_only_after_the_steward_action_commits(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}), {"emails": "a@b.org"})

    assert mailoutbox == []
    for callback in callbacks:  # the commit's work: the send job (and the alliance's new version)
        callback()
    assert len(mailoutbox) == 1


# --- A new person -----------------------------------------------------------------------------------


def test_a_new_person_follows_the_link_and_sees_a_form_for_their_account(client, invited):
    response = client.get(invited)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Join Barrio Readers" in page
    assert "Create your account for ana@example.org to join." in page
    assert 'name="password1"' in page
    assert 'name="email"' not in page


def test_a_new_person_creates_an_account_and_joins(client, alliance, invited):
    response = client.post(invited, NEW_ACCOUNT)

    assert response.status_code == 302
    assert response["Location"] == alliance.get_absolute_url()
    user = User.objects.get(email="ana@example.org")
    assert user.is_email_confirmed
    assert (user.display_name, user.language, user.time_zone) == ("Ana Rivera", "es", "America/Puerto_Rico")
    assert user.check_password("a long enough passphrase")
    assert _logged_in_user_id(client) == user.pk
    membership = Member.objects.get(alliance=alliance, user=user)
    assert membership.is_active
    assert not membership.is_steward
    assert membership.organisation == "Escuela Montessori"
    assert _pending_count() == 0
    assert client.get(alliance.get_absolute_url()).status_code == 200


def _pending_count() -> int:
    return Invitation.objects.filter(status=Invitation.Status.PENDING).count()


def test_a_password_mismatch_shows_the_error_and_creates_nothing(client, alliance, invited):
    response = client.post(invited, {**NEW_ACCOUNT, "password2": "something else entirely"})

    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(email="ana@example.org").exists()
    assert Member.objects.filter(alliance=alliance).count() == 1  # the steward
    assert _pending("ana@example.org")
    assert _logged_in_user_id(client) is None


def test_a_weak_password_shows_the_error_and_creates_nothing(client, invited):
    response = client.post(invited, {**NEW_ACCOUNT, "password1": "12345678", "password2": "12345678"})

    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="ana@example.org").exists()
    assert _pending("ana@example.org")


def test_the_link_can_be_used_after_a_failed_attempt(client, alliance, invited):
    client.post(invited, {**NEW_ACCOUNT, "password2": "typo"})

    response = client.post(invited, NEW_ACCOUNT)

    assert response.status_code == 302
    assert Member.objects.filter(alliance=alliance, user__email="ana@example.org").exists()


# --- Someone with an account ------------------------------------------------------------------------


def test_an_invited_address_with_an_account_is_asked_to_sign_in(client, alliance, invited):
    UserFactory(email="ana@example.org")

    response = client.get(invited)

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is already an account for ana@example.org. Sign in to accept the invitation." in page
    assert f"{reverse('accounts:login')}?next={invited}" in page
    assert response.context["form"] is None


def test_posting_the_link_while_signed_out_with_an_existing_account_joins_nobody(client, alliance, invited):
    existing = UserFactory(email="ana@example.org")

    response = client.post(invited, NEW_ACCOUNT)

    assert response.status_code == 200
    assert not Member.objects.filter(user=existing).exists()
    assert _pending("ana@example.org")
    assert not User.objects.get(pk=existing.pk).check_password(NEW_ACCOUNT["password1"])


def test_a_signed_in_person_accepts_and_becomes_a_member(client, alliance, invited):
    ana = UserFactory(email="ana@example.org")
    client.force_login(ana)

    page = client.get(invited).content.decode()
    response = client.post(invited, {"organisation": "PTA"})

    assert "You will join as ana@example.org." in page
    assert response["Location"] == alliance.get_absolute_url()
    membership = Member.objects.get(alliance=alliance, user=ana)
    assert membership.organisation == "PTA"
    invitation = Invitation.objects.get(email="ana@example.org")
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, ana)


def test_signing_in_from_the_invitation_page_comes_back_to_it(client, alliance, invited):
    UserFactory(email="ana@example.org")

    response = client.post(
        f"{reverse('accounts:login')}?next={invited}", {"username": "ana@example.org", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == invited


def test_an_active_member_using_an_invitation_to_their_address_is_told_so_and_it_stays_pending(
    client, alliance, member_user, invited
):
    # Invited a moment before they joined by another invitation, say.
    invitation = InvitationFactory(alliance=alliance, email=member_user.email)
    client.force_login(member_user)

    response = client.post(invitation.get_absolute_url(), {"organisation": ""})

    assert response.status_code == 200
    assert "You are already a member of Barrio Readers." in response.content.decode()
    assert _pending(member_user.email)


# --- Links that no longer work ----------------------------------------------------------------------


def test_a_used_link_shows_a_clear_page(client, alliance, invited):
    client.post(invited, NEW_ACCOUNT)
    client.logout()

    response = client.get(invited)
    again = client.post(invited, NEW_ACCOUNT)

    assert response.status_code == 410
    assert "This invitation has been used already" in response.content.decode()
    assert "used" in response.content.decode()
    assert again.status_code == 410
    assert User.objects.filter(email="ana@example.org").count() == 1


def test_an_expired_link_shows_a_clear_page(client, alliance, invited):
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(invited)
        attempt = client.post(invited, NEW_ACCOUNT)

    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()
    assert "Ask a steward of Barrio Readers" in response.content.decode()
    assert attempt.status_code == 410
    assert not User.objects.filter(email="ana@example.org").exists()


def test_a_link_still_works_on_its_thirteenth_day(client, invited):
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        assert client.get(invited).status_code == 200


@pytest.mark.parametrize("tamper", [lambda link: link[:-2] + "X/", lambda link: link[:-10] + "/"])
def test_a_tampered_link_shows_a_clear_page(client, invited, tamper):
    response = client.get(tamper(invited))

    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_an_unknown_token_shows_a_clear_page(client, db):
    response = client.get(reverse("invitation_accept", kwargs={"token": "no-such-token"}))

    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_cancelled_link_shows_a_clear_page(client, alliance, steward_user, invited):
    client.force_login(steward_user)
    client.post(
        reverse("alliances:invitation_cancel", kwargs={"slug": alliance.slug, "pk": Invitation.objects.get().pk})
    )
    client.logout()

    response = client.get(invited)

    assert response.status_code == 410
    assert "This invitation was cancelled" in response.content.decode()


def test_resending_sends_a_new_link_and_the_old_one_stops_working(
    client, alliance, steward_user, invited, django_capture_on_commit_callbacks, mailoutbox
):
    invitation = Invitation.objects.get()
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("alliances:invitation_resend", kwargs={"slug": alliance.slug, "pk": invitation.pk}))
    client.logout()

    new_link = _link(mailoutbox[-1])
    invitation.refresh_from_db()
    assert len(mailoutbox) == 2
    assert new_link != invited
    assert new_link == invitation.get_absolute_url()
    old = client.get(invited)
    assert old.status_code == 404
    assert "not valid" in old.content.decode()
    assert client.post(new_link, NEW_ACCOUNT).status_code == 302


# --- Coming back ------------------------------------------------------------------------------------


def test_a_former_member_reinvited_comes_back_as_the_same_member(
    client, alliance, steward_user, member_user, django_capture_on_commit_callbacks, mailoutbox
):
    old = Member.objects.get(alliance=alliance, user=member_user)
    services.member_deactivate(member=old, by=steward_user)
    _invite(client, alliance, steward_user, member_user.email, django_capture_on_commit_callbacks)
    [message] = mailoutbox
    assert message.to == [f"Mia Member <{member_user.email}>"]
    link = _link(message)

    client.force_login(member_user)
    response = client.post(link, {"organisation": "Library"})

    assert response["Location"] == alliance.get_absolute_url()
    back = Member.objects.get(alliance=alliance, user=member_user)
    assert back.pk == old.pk
    assert back.is_active
    assert back.end_reason == ""
    assert back.organisation == "Library"
    assert client.get(alliance.get_absolute_url()).status_code == 200


def test_an_invitation_for_one_alliance_does_not_open_another(client, alliance, invited):
    other = Alliance.objects.create(name="Other", slug="other")

    client.post(invited, NEW_ACCOUNT)

    assert client.get(other.get_absolute_url()).status_code == 404


# --- Only the invited address may accept ------------------------------------------------------------


def _former_member(alliance, steward_user, member_user):
    services.member_deactivate(member=Member.objects.get(alliance=alliance, user=member_user), by=steward_user)
    return member_user


@pytest.fixture(params=["outsider", "former member", "active member"])
def other_account(request, alliance, steward_user, member_user, outsider):
    """Someone signed in who holds the link but is not ana@example.org."""
    if request.param == "outsider":
        return outsider
    if request.param == "former member":
        return _former_member(alliance, steward_user, member_user)
    return member_user


def test_signed_in_as_another_account_the_page_says_to_whom_it_was_sent_and_offers_to_sign_out(
    client, invited, other_account
):
    client.force_login(other_account)

    response = client.get(invited)

    page = response.content.decode()
    assert response.status_code == 200
    assert "This invitation was sent to ana@example.org. Only that address can accept it." in page
    assert f"You are signed in as {other_account.email}." in page
    assert f'action="{reverse("accounts:logout")}"' in page
    assert f'name="next" value="{invited}"' in page
    assert "Sign out and continue" in page
    assert "Join the alliance" not in page
    assert response.context.get("form") is None


def test_signed_in_as_another_account_posting_is_refused_and_changes_nothing(client, alliance, invited, other_account):
    was_active = Member.objects.active().filter(alliance=alliance, user=other_account).exists()
    client.force_login(other_account)

    response = client.post(invited, {"organisation": "Taken over"})

    assert response.status_code == 403
    assert "This invitation was sent to ana@example.org." in response.content.decode()
    assert _pending("ana@example.org")
    assert Member.objects.active().filter(alliance=alliance, user=other_account).exists() == was_active
    assert not Member.objects.filter(organisation="Taken over").exists()


def test_a_removed_member_cannot_come_back_with_someone_elses_link(
    client, alliance, steward_user, member_user, invited
):
    _former_member(alliance, steward_user, member_user)
    client.force_login(member_user)

    client.post(invited, {"organisation": ""})

    assert client.get(alliance.get_absolute_url()).status_code == 404
    assert _pending("ana@example.org")


def test_signing_out_from_the_invitation_page_comes_back_to_it_ready_to_create_the_account(
    client, alliance, outsider, invited
):
    client.force_login(outsider)

    signed_out = client.post(reverse("accounts:logout"), {"next": invited})
    page = client.get(signed_out["Location"])

    assert signed_out.status_code == 302
    assert signed_out["Location"] == invited
    assert _logged_in_user_id(client) is None
    assert "Create your account for ana@example.org to join." in page.content.decode()
    assert client.post(invited, NEW_ACCOUNT)["Location"] == alliance.get_absolute_url()
    assert Member.objects.active().filter(alliance=alliance, user__email="ana@example.org").exists()
    assert not Member.objects.filter(alliance=alliance, user=outsider).exists()


def test_the_invited_address_accepts_whatever_its_case(client, alliance, invited):
    ana = UserFactory(email="ana@example.org")
    User.objects.filter(pk=ana.pk).update(email="Ana@Example.ORG")  # an account from before addresses were lower-cased
    client.force_login(ana)

    response = client.post(invited, {"organisation": ""})

    assert response["Location"] == alliance.get_absolute_url()


# --- Links that are not links -----------------------------------------------------------------------


@pytest.mark.parametrize("token", ["%00", "abc%00def", "x" * 65, "%C3%B1and%C3%BA", "a.b", "%20"])
def test_a_malformed_token_shows_the_invalid_link_page(client, db, token):
    response = client.get(f"/invitations/{token}/")

    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_posting_to_a_malformed_token_creates_nothing(client, db):
    response = client.post("/invitations/%00/", NEW_ACCOUNT)

    assert response.status_code == 404
    assert not User.objects.exists()


# --- A batch with some addresses that need no invitation --------------------------------------------


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_members_and_invited_addresses_are_skipped_and_named_and_the_rest_are_invited(
    client, alliance, steward_user, member_user, django_capture_on_commit_callbacks, mailoutbox
):
    InvitationFactory(alliance=alliance, email="ben@example.org")
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}),
            {
                "emails": f"ana@example.org, {member_user.email.upper()}, ben@example.org, cai@example.org",
                "language": "en",
            },
        )

    assert response.status_code == 302
    assert _messages(response) == [
        ("success", "Invitation sent to ana@example.org, cai@example.org."),
        ("warning", f"Not invited, already a member: {member_user.email}."),
        (
            "warning",
            "Not invited again, already invited: ben@example.org. To send the email again, use “Resend” below.",
        ),
    ]
    assert sorted(message.to[0] for message in mailoutbox) == ["ana@example.org", "cai@example.org"]
    page = client.get(response["Location"]).content.decode()
    assert f"Not invited, already a member: {member_user.email}." in page


def test_a_batch_of_only_members_invites_nobody_and_says_so(
    client, alliance, steward_user, member_user, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}), {"emails": member_user.email}
        )

    assert _messages(response) == [("warning", f"Not invited, already a member: {member_user.email}.")]
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def _address_of_length(length: int) -> str:
    """A well-formed address (domain labels of at most 50 characters) of exactly `length` characters."""
    labels, left = [], length - len("a" * 64 + "@") - len("org")
    while left > 0:
        # Each label costs its letters and the dot after it; never leave a single character over.
        take = min(51, left - 2) if left - 51 == 1 else min(51, left)
        labels.append("b" * (take - 1))
        left -= take
    return "a" * 64 + "@" + ".".join(labels) + ".org"


@pytest.mark.parametrize("length", [255, 300, 320])
def test_an_address_longer_than_the_column_is_a_clear_error_and_nobody_is_invited(
    client, alliance, steward_user, length, mailoutbox
):
    too_long = _address_of_length(length)
    assert len(too_long) == length
    client.force_login(steward_user)

    response = client.post(
        reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}),
        {"emails": f"ana@example.org\n{too_long}"},
    )

    assert response.status_code == 400
    [error] = response.context["invitation_form"].errors["emails"]
    assert error.startswith("These addresses are longer than 254 characters: aaaa")
    assert "ana@example.org" not in error
    assert "longer than 254 characters" in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_address_of_exactly_254_characters_is_invited(client, alliance, steward_user):
    longest = _address_of_length(254)
    assert len(longest) == 254
    client.force_login(steward_user)

    response = client.post(reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}), {"emails": longest})

    assert response.status_code == 302
    assert Invitation.objects.get().email == longest


# --- The invitation's language ----------------------------------------------------------------------


def test_the_invite_form_offers_the_alliance_language_first(client, alliance, steward_user):
    alliance.language = "es"
    alliance.save()
    client.force_login(steward_user)

    form = client.get(reverse("alliances:member_list", kwargs={"slug": alliance.slug})).context["invitation_form"]

    assert form["language"].value() == "es"


def test_a_person_without_an_account_gets_the_invitation_in_the_language_the_steward_chose(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(steward_user)  # Stella reads English

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}),
            {"emails": "ana@example.org", "language": "es"},
        )

    [message] = mailoutbox
    assert Invitation.objects.get().language == "es"
    assert message.subject == "[Barrio Readers] Invitación para unirse a la alianza"


def test_a_person_with_an_account_gets_the_invitation_in_their_own_language(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(email="ana@example.org", language="en")
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}),
            {"emails": "ana@example.org", "language": "es"},
        )

    [message] = mailoutbox
    assert message.subject == "[Barrio Readers] You are invited to join the alliance"


def test_resending_keeps_the_invitation_language(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org", language="es")
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("alliances:invitation_resend", kwargs={"slug": alliance.slug, "pk": invitation.pk}))

    [message] = mailoutbox
    invitation.refresh_from_db()
    assert invitation.language == "es"
    assert message.subject == "[Barrio Readers] Invitación para unirse a la alianza"


def test_the_invitation_page_is_in_the_invitation_language_for_a_visitor_without_a_choice(client, alliance):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org", language="es")

    response = client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "Únase a Barrio Readers" in page
    assert "Crear mi cuenta y unirme" in page
    assert response.context["form"]["language"].value() == "es"


def test_the_invitation_page_has_a_language_switch_that_comes_back_to_it(client, alliance):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org", language="es")
    link = invitation.get_absolute_url()

    page = client.get(link).content.decode()
    switched = client.post(reverse("accounts:language_set"), {"language": "en", "next": link})
    again = client.get(switched["Location"]).content.decode()

    assert 'name="language" value="en" lang="en">English</button>' in page
    assert switched["Location"] == link
    assert '<html lang="en">' in again
    assert "Join Barrio Readers" in again
    assert 'name="language" value="es" lang="es">Español</button>' in again


def test_a_signed_in_reader_sees_the_invitation_page_in_their_own_language(client, alliance):
    ana = UserFactory(email="ana@example.org", language="en")
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org", language="es")
    client.force_login(ana)

    page = client.get(invitation.get_absolute_url()).content.decode()

    assert '<html lang="en">' in page
    assert "Join Barrio Readers" in page


def test_an_expired_invitation_page_is_in_the_invitation_language(client, alliance):
    invitation = InvitationFactory(alliance=alliance, language="es", expires_at=timezone.now() - timedelta(days=1))

    response = client.get(invitation.get_absolute_url())

    assert response.status_code == 410
    assert '<html lang="es">' in response.content.decode()
    assert response.context["reason"] == services.InvitationInvalid.Reason.EXPIRED


def test_the_alliance_language_is_a_charter_setting_the_invite_form_then_offers(client, alliance, steward_user):
    client.force_login(steward_user)
    logistics = {"cadence": "weekly", "time_zone": "UTC", "language": "es"}

    response = client.post(reverse("alliances:charter_logistics_edit", kwargs={"slug": alliance.slug}), logistics)
    form = client.get(reverse("alliances:member_list", kwargs={"slug": alliance.slug})).context["invitation_form"]

    assert response.status_code == 302
    alliance.refresh_from_db()
    assert alliance.language == "es"
    assert form["language"].value() == "es"


def test_a_logistics_form_without_the_language_keeps_the_saved_one(client, alliance, steward_user):
    alliance.language = "es"
    alliance.save()
    client.force_login(steward_user)

    client.post(
        reverse("alliances:charter_logistics_edit", kwargs={"slug": alliance.slug}),
        {"cadence": "weekly", "time_zone": "UTC"},
    )

    alliance.refresh_from_db()
    assert (alliance.cadence, alliance.language) == ("weekly", "es")
