import re
from email.utils import parseaddr
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET_URL = reverse("accounts:password_reset")
RESET_LINK = re.compile(r"http://testserver(/accounts/password/reset/[^/\s\"<]+/[^/\s\"<]+/)")
NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def user(db) -> User:
    return UserFactory(email="person@example.org", language="es")


@pytest.fixture
def request_reset(client, django_capture_on_commit_callbacks):
    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET_URL, {"email": email})

    return post


def reset_path(email) -> str:
    [path] = set(RESET_LINK.findall(email.body))
    [(html, _)] = email.alternatives
    assert set(RESET_LINK.findall(html)) == {path}
    return path


def set_new_password(client, path: str, password: str = NEW_PASSWORD):
    """Follow the emailed link as a browser does, then send the new password."""
    response = client.get(path)
    assert response.status_code == 302  # Django hides the token from the Referer header behind a redirect.
    form_url = response.url
    assert client.get(form_url).context["validlink"]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_reset_page_shows_the_form(client):
    response = client.get(RESET_URL)

    assert response.status_code == 200
    assert b"Reset your password" in response.content


def test_known_address_gets_one_email_with_a_link(request_reset, mailoutbox, user):
    response = request_reset("Person@Example.org")

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    [email] = mailoutbox
    assert [parseaddr(to)[1] for to in email.to] == ["person@example.org"]
    with translation.override("es"):
        assert email.subject == gettext("Choose a new Round Table password")
    assert reset_path(email)
    [(html, _)] = email.alternatives
    assert '<html lang="es">' in html


def test_unknown_address_gets_nothing_but_the_same_page(request_reset, client, mailoutbox, user):
    known = request_reset("person@example.org")
    mailoutbox.clear()

    response = request_reset("nobody@example.org")

    assert response.status_code == known.status_code == 302
    assert response.url == known.url
    assert mailoutbox == []
    page = client.get(response.url)
    assert b"Check your email" in page.content


def test_closed_account_gets_nothing(request_reset, mailoutbox):
    UserFactory(email="gone@example.org", is_active=False)

    request_reset("gone@example.org")

    assert mailoutbox == []


def test_link_lets_you_choose_a_new_password_and_sign_in_with_it(request_reset, client, mailoutbox, user):
    request_reset("person@example.org")

    response = set_new_password(client, reset_path(mailoutbox[0]))

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    assert b"Your new password is saved" in client.get(response.url).content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    old = client.post(reverse("accounts:login"), {"username": "person@example.org", "password": PASSWORD})
    assert old.status_code == 200
    new = client.post(reverse("accounts:login"), {"username": "person@example.org", "password": NEW_PASSWORD})
    assert new.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_weak_new_password_is_refused(request_reset, client, mailoutbox, user):
    request_reset("person@example.org")

    response = set_new_password(client, reset_path(mailoutbox[0]), password="password")

    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_used_link_does_not_work_again(request_reset, client, mailoutbox, user):
    request_reset("person@example.org")
    path = reset_path(mailoutbox[0])
    set_new_password(client, path)

    response = client.get(path, follow=True)

    assert response.status_code == 200
    assert not response.context["validlink"]
    assert b"This link does not work" in response.content
    assert RESET_URL.encode() in response.content


def test_tampered_link_does_not_work(request_reset, client, mailoutbox, user):
    request_reset("person@example.org")
    path = reset_path(mailoutbox[0])
    uid, token = path.split("/")[-3:-1]
    changed = token[:-1] + ("0" if token[-1] != "0" else "1")
    tampered = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": changed})

    response = client.get(tampered, follow=True)

    assert not response.context["validlink"]
    assert b"This link does not work" in response.content
    # Nor can the form be posted to directly.
    client.post(tampered, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_link_for_another_account_does_not_work(request_reset, client, mailoutbox, user):
    other = UserFactory(email="other@example.org")
    request_reset("person@example.org")
    path = reset_path(mailoutbox[0])
    uid = path.split("/")[-3]
    swapped = path.replace(f"/{uid}/", f"/{urlsafe_base64_encode(force_bytes(other.pk))}/")

    response = client.get(swapped, follow=True)

    assert b"This link does not work" in response.content


def test_resetting_confirms_an_unconfirmed_account(request_reset, client, mailoutbox):
    user = UserFactory(email="new@example.org", email_confirmed_at=None)
    request_reset("new@example.org")

    set_new_password(client, reset_path(mailoutbox[0]))

    user.refresh_from_db()
    assert user.is_email_confirmed
    response = client.post(reverse("accounts:login"), {"username": "new@example.org", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_signed_in_person_can_change_the_password(client, user):
    client.force_login(user)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Still signed in: Django updates the session hash after a password change.
    assert client.get(reverse("accounts:profile")).status_code == 200


def change_password(client, old_password: str):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_wrong_current_passwords_are_limited_like_sign_ins(client, user, settings):
    settings.LOGIN_RATE_LIMIT = 3
    client.force_login(user)
    for _ in range(3):
        response = change_password(client, "a wrong guess")
        assert response.status_code == 200
        assert response.context["form"].has_error("old_password", "password_incorrect")

    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        response = change_password(client, PASSWORD)

    assert response.status_code == 429
    with translation.override("es"):  # the reader's language
        assert gettext("Too many sign-in attempts. Wait a few minutes, then try again.") in response.content.decode()
    check_password.assert_not_called()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_wrong_current_passwords_count_towards_the_sign_in_limit(client, user, settings):
    settings.LOGIN_RATE_LIMIT = 3
    client.force_login(user)
    for _ in range(3):
        change_password(client, "a wrong guess")
    client.post(reverse("accounts:logout"))

    response = client.post(reverse("accounts:login"), {"username": "person@example.org", "password": PASSWORD})

    assert response.status_code == 429


def test_other_mistakes_on_the_password_change_form_are_not_counted(client, user, settings):
    settings.LOGIN_RATE_LIMIT = 2
    client.force_login(user)
    for _ in range(3):
        response = client.post(
            reverse("accounts:password_change"),
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "not the same"},
        )
        assert response.status_code == 200

    assert change_password(client, PASSWORD).status_code == 302


def test_admin_password_change_is_the_sites_limited_one(client, settings):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)

    response = client.get(reverse("admin:password_change"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change")
