"""Hostile input on every alliance form: a clear form error and nothing saved, never a 500.

Run these on PostgreSQL too (DATABASE_URL=postgres://…): SQLite stores a NUL or an over-long value that
PostgreSQL refuses with an error, so a missing check shows only there.
"""

import pytest
from django.urls import reverse

from accounts.models import User
from alliances.models import Alliance, Invitation, Member
from alliances.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
# A line break in a one-line value ends up in email headers and page titles.
CRLF = "Readers\r\nBcc: everyone@example.org"
ACCOUNT = {
    "display_name": "Ana Rivera",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
    "language": "es",
    "time_zone": "America/Puerto_Rico",
    "organisation": "",
}


def _errors(response, form_name: str = "form") -> dict:
    return response.context[form_name].errors


@pytest.mark.parametrize(
    "changes",
    [
        {"name": NUL},
        {"name": "x" * 151},
        {"name": CRLF},
        {"slug": NUL},
        {"slug": "x" * 61},
        {"slug": "lectores-ñ"},
        {"organisation": NUL},
        {"organisation": "x" * 201},
        {"organisation": CRLF},
    ],
    ids=[
        "nul-name",
        "long-name",
        "crlf-name",
        "nul-slug",
        "long-slug",
        "unicode-slug",
        "nul-organisation",
        "long-organisation",
        "crlf-organisation",
    ],
)
def test_establishing_an_alliance_with_bad_input_is_a_form_error(client, outsider, changes):
    client.force_login(outsider)

    response = client.post(
        reverse("alliances:alliance_create"), {"name": "Readers", "slug": "", "organisation": "", **changes}
    )

    assert response.status_code == 200
    assert set(_errors(response)) == set(changes)
    assert not Alliance.objects.exists()


@pytest.mark.parametrize("organisation", [NUL, "x" * 201, CRLF], ids=["nul", "long", "crlf"])
def test_member_details_with_bad_input_are_a_form_error(client, alliance, member_user, organisation):
    client.force_login(member_user)

    response = client.post(
        reverse("alliances:member_edit", kwargs={"slug": alliance.slug}), {"organisation": organisation}
    )

    assert response.status_code == 200
    assert "organisation" in _errors(response)
    assert Member.objects.get(user=member_user).organisation == ""


@pytest.mark.parametrize(
    ("data", "field"),
    [({"emails": f"ana@example.org {NUL}"}, "emails"), ({"emails": "ana@example.org", "language": NUL}, "language")],
    ids=["nul-address", "nul-language"],
)
def test_invitations_with_bad_input_are_a_form_error(client, alliance, steward_user, data, field):
    client.force_login(steward_user)

    response = client.post(reverse("alliances:invitation_create", kwargs={"slug": alliance.slug}), data)

    assert response.status_code == 400
    assert list(_errors(response, "invitation_form")) == [field]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("organisation", [NUL, "x" * 201, CRLF], ids=["nul", "long", "crlf"])
def test_accepting_with_bad_input_is_a_form_error(client, alliance, organisation):
    ana = User.objects.create_user("ana@example.org", "a long enough passphrase", display_name="Ana")
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org")
    client.force_login(ana)

    response = client.post(invitation.get_absolute_url(), {"organisation": organisation})

    assert response.status_code == 200
    assert "organisation" in _errors(response)
    assert not Member.objects.filter(user=ana).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"display_name": NUL},
        {"display_name": "x" * 151},
        {"organisation": NUL},
        {"organisation": "x" * 201},
        {"organisation": CRLF},
        {"language": NUL},
        {"time_zone": NUL},
        {"password1": NUL, "password2": NUL},
    ],
    ids=[
        "nul-name",
        "long-name",
        "nul-organisation",
        "long-organisation",
        "crlf-organisation",
        "nul-language",
        "nul-zone",
        "nul-password",
    ],
)
def test_a_new_account_from_an_invitation_with_bad_input_is_a_form_error(client, alliance, changes):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org")

    response = client.post(invitation.get_absolute_url(), {**ACCOUNT, **changes})

    assert response.status_code == 200
    assert set(changes) & set(_errors(response))
    assert not User.objects.filter(email="ana@example.org").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING
