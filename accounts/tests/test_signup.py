import re
from datetime import timedelta
from email.utils import parseaddr
from unittest import mock
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.hashers import get_hasher
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from accounts.services import confirmation_token
from accounts.tests.factories import PASSWORD, UserFactory
from outbox.models import Delivery

pytestmark = pytest.mark.django_db

SIGNUP_URL = reverse("accounts:signup")
# Valid, and within the form field's default limit of 320 characters, but longer than the column.
LONG_ADDRESS = "a" * 60 + "@" + ("b" * 60 + ".") * 3 + "example.org"
CONFIRM_LINK = re.compile(r"http://testserver(/accounts/confirm/[^/\s\"<]+/)")


def signup_data(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "Lucía Pérez",
        "email": "Lucia@Example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "language": "es",
        "time_zone": "America/Bogota",
        **overrides,
    }


def addresses(email) -> list[str]:
    # formataddr() encodes a non-ASCII name, so compare the bare addresses.
    return [parseaddr(to)[1] for to in email.to]


def html_of(email) -> str:
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return html


def confirm_path(email) -> str:
    """The confirmation link's path, the same in the text and the HTML part."""
    text_links = CONFIRM_LINK.findall(email.body)
    html_links = CONFIRM_LINK.findall(html_of(email))
    assert text_links, email.body
    assert set(html_links) == set(text_links)
    return text_links[0]


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    """Post the sign-up form and run the on-commit jobs, so that its emails are sent."""

    def post(**overrides: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(SIGNUP_URL, signup_data(**overrides))

    return post


@pytest.fixture
def unconfirmed(db) -> User:
    return UserFactory(email="new@example.org", email_confirmed_at=None)


# --- The form ------------------------------------------------------------------------------------------


def test_signup_page_offers_the_form(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    assert b"Create an account" in response.content
    assert response.context["form"]["time_zone"].value() == "UTC"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password2": "another horse battery staple"}, "password2", "The two passwords differ."),
        ({"password1": "password", "password2": "password"}, "password1", "This password is too common."),
        ({"password1": "lucia12", "password2": "lucia12"}, "password1", "This password is too short."),
        ({"email": "lucia.example.org"}, "email", "Enter a valid email address."),
        ({"email": LONG_ADDRESS}, "email", "Ensure this value has at most 254 characters (it has 255)."),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice."),
        ({"display_name": "Lucía\r\nBcc: many@example.org"}, "display_name", "Write this on one line"),
        ({"display_name": "Lucía\tPérez"}, "display_name", "Write this on one line"),
        ({"display_name": "Lucía\u2028Pérez"}, "display_name", "Write this on one line"),
        ({"display_name": "Lu\x00cía"}, "display_name", "Null characters are not allowed."),
        ({"display_name": "L" * 151}, "display_name", "at most 150 characters"),
        ({"email": "lu\x00cia@example.org"}, "email", "Null characters are not allowed."),
    ],
    ids=[
        "mismatched-passwords",
        "common-password",
        "short-password",
        "bad-email",
        "long-email",
        "missing-name",
        "bad-zone",
        "name-with-line-break",
        "name-with-tab",
        "name-with-line-separator",
        "name-with-nul",
        "long-name",
        "email-with-nul",
    ],
)
def test_bad_signup_shows_the_field_error_and_creates_nothing(sign_up, mailoutbox, overrides, field, message):
    response = sign_up(**overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message.encode() in response.content
    assert not User.objects.exists()
    assert not Delivery.objects.exists()
    assert mailoutbox == []


def test_a_name_with_letters_from_any_script_and_joiners_is_accepted(sign_up):
    # Zero-width joiners (format characters) are part of some names: only control characters are refused.
    sign_up(display_name="क्‍ष Ørsted-Núñez")

    assert User.objects.get().display_name == "क्‍ष Ørsted-Núñez"


def test_password_like_the_name_or_address_is_refused(sign_up):
    response = sign_up(email="zanzibar.quokka@example.org", password1="zanzibarquokka", password2="zanzibarquokka")

    assert "too similar" in " ".join(response.context["form"].errors["password1"])
    assert not User.objects.exists()


# --- A good sign-up ------------------------------------------------------------------------------------


def test_signup_creates_an_unconfirmed_account_with_the_chosen_settings(sign_up):
    response = sign_up()

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    user = User.objects.get()
    assert user.email == "lucia@example.org"
    assert user.display_name == "Lucía Pérez"
    assert user.language == "es"
    assert user.time_zone == "America/Bogota"
    assert user.check_password(PASSWORD)
    assert not user.is_email_confirmed
    assert "_auth_user_id" not in response.client.session


def test_signup_sends_one_multipart_confirmation_email_in_the_chosen_language(sign_up, mailoutbox):
    sign_up()

    [email] = mailoutbox
    assert addresses(email) == ["lucia@example.org"]
    with translation.override("es"):
        # Written this way, the test holds whether or not the Spanish catalogue has this string yet.
        assert email.subject == gettext("Confirm your email address for Round Table")
    assert '<html lang="es">' in html_of(email)
    assert Delivery.objects.get().language == "es"
    token = urlsplit(confirm_path(email)).path.split("/")[-2]
    assert confirm_path(email) == reverse("accounts:signup_confirm", kwargs={"token": token})


def test_signup_done_page_says_check_your_email(sign_up, client):
    sign_up()

    response = client.get(reverse("accounts:signup_done"))

    assert response.status_code == 200
    assert b"Check your email" in response.content
    assert b"Lucia@Example.org" in response.content


def test_signup_with_an_existing_address_looks_the_same_and_emails_the_owner(sign_up, client, mailoutbox):
    owner = UserFactory(email="lucia@example.org", display_name="Lucía", language="en")
    fresh = sign_up(email="fresh@example.org")
    mailoutbox.clear()

    response = sign_up(
        display_name="Someone Else", password1="a different long phrase", password2="a different long phrase"
    )

    # The same answer as for a new address: nobody learns from it who has an account.
    assert response.status_code == fresh.status_code == 302
    assert response.url == fresh.url
    assert User.objects.filter(email__iexact="lucia@example.org").count() == 1
    owner.refresh_from_db()
    assert owner.display_name == "Lucía"
    assert owner.check_password(PASSWORD)
    [email] = mailoutbox
    assert addresses(email) == ["lucia@example.org"]
    assert email.subject == "You already have a Round Table account"
    assert "http://testserver/accounts/login/" in email.body
    assert "http://testserver/accounts/password/reset/" in email.body
    assert not CONFIRM_LINK.search(email.body)
    page = client.get(reverse("accounts:signup_done"))
    assert b"Check your email" in page.content


@pytest.mark.parametrize("existing", [None, "confirmed", "unconfirmed"])
def test_signup_hashes_the_password_once_whether_or_not_the_address_has_an_account(sign_up, existing):
    # The time a sign-up takes must not tell whether the address has a confirmed account: hashing is most
    # of it, so every branch hashes the password once (timing itself is too noisy to test).
    if existing:
        UserFactory(email="lucia@example.org", email_confirmed_at=timezone.now() if existing == "confirmed" else None)
    hasher_class = type(get_hasher())
    with mock.patch.object(hasher_class, "encode", autospec=True, side_effect=hasher_class.encode) as encode:
        response = sign_up()

    assert response.status_code == 302
    assert [call.args[1] for call in encode.call_args_list] == [PASSWORD]


def test_signing_up_again_before_confirming_sends_a_new_link_and_keeps_one_account(sign_up, mailoutbox):
    sign_up()
    sign_up(email="LUCIA@example.org")

    assert User.objects.count() == 1
    assert len(mailoutbox) == 2
    assert all(CONFIRM_LINK.search(email.body) for email in mailoutbox)


def test_signing_up_again_before_confirming_uses_the_latest_password(sign_up, client, mailoutbox):
    # Someone who did not get the first email signs up again with another password; or someone else
    # signed up with their address first. Either way the person who confirms must be able to sign in
    # with the password they chose last, and an earlier sign-up's password must not survive.
    sign_up(password1="a first long passphrase", password2="a first long passphrase")
    sign_up(display_name="Lucía P.", language="en", time_zone="Europe/Madrid")

    user = User.objects.get()
    assert user.check_password(PASSWORD)
    assert not user.check_password("a first long passphrase")
    assert (user.display_name, user.language, user.time_zone) == ("Lucía P.", "en", "Europe/Madrid")
    client.post(confirm_path(mailoutbox[-1]), {"password": PASSWORD})
    client.post(reverse("accounts:logout"))
    response = client.post(reverse("accounts:login"), {"username": "lucia@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_signed_in_person_is_sent_on_from_the_signup_page(client):
    client.force_login(UserFactory())

    response = client.get(SIGNUP_URL)

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")


# --- Signing in before and after confirming -------------------------------------------------------------


def test_unconfirmed_account_cannot_sign_in_and_is_told_to_confirm(client, unconfirmed):
    response = client.post(reverse("accounts:login"), {"username": "new@example.org", "password": PASSWORD})

    assert response.status_code == 200
    assert b"Confirm your email address first" in response.content
    assert "_auth_user_id" not in client.session


def test_confirmed_account_can_sign_in(client):
    user = UserFactory(email="old@example.org")

    response = client.post(reverse("accounts:login"), {"username": "old@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# --- The confirmation link -----------------------------------------------------------------------------


def test_opening_the_link_only_shows_a_button(client, sign_up, mailoutbox):
    sign_up()
    path = confirm_path(mailoutbox[0])

    # Mail scanners open every link: a GET must not confirm.
    response = client.get(path)

    assert response.status_code == 200
    assert b"Confirm my address" in response.content
    assert b'method="post"' in response.content
    assert not User.objects.get().is_email_confirmed
    assert "_auth_user_id" not in client.session


def test_pressing_the_button_confirms_and_signs_in(client, sign_up, mailoutbox):
    sign_up()

    response = client.post(confirm_path(mailoutbox[0]), {"password": PASSWORD}, follow=True)

    user = User.objects.get()
    assert user.is_email_confirmed
    assert client.session["_auth_user_id"] == str(user.pk)
    assert response.redirect_chain[0] == (reverse("alliances:alliance_list"), 302)
    assert [str(m) for m in response.context["messages"]] == [
        "Your email address is confirmed. Welcome to Round Table!"
    ]


def test_a_used_link_says_the_address_is_confirmed_and_signs_nobody_in(client, unconfirmed):
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})
    client.post(path, {"password": PASSWORD})
    confirmed_at = User.objects.get().email_confirmed_at
    client.post(reverse("accounts:logout"))

    response = client.post(path, {"password": PASSWORD})

    assert response.status_code == 400
    assert b"Your address is already confirmed" in response.content
    assert "_auth_user_id" not in client.session
    assert User.objects.get().email_confirmed_at == confirmed_at


def test_confirming_needs_the_password_chosen_at_sign_up(client, unconfirmed):
    # Someone else may have signed up with this address: a click alone must not confirm their account.
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})

    response = client.post(path, {"password": "not the password at all"})

    assert response.status_code == 200
    assert b"That is not the password chosen when signing up." in response.content
    assert reverse("accounts:password_reset").encode() in response.content
    assert not User.objects.get().is_email_confirmed
    assert "_auth_user_id" not in client.session


def test_guessing_the_password_on_the_confirmation_page_is_rate_limited(client, unconfirmed, settings):
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})
    for _ in range(settings.LOGIN_RATE_LIMIT):
        client.post(path, {"password": "a wrong guess"})

    response = client.post(path, {"password": PASSWORD})

    assert response.status_code == 429
    assert not User.objects.get().is_email_confirmed


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_link_shows_a_clear_page_and_offers_a_new_link(client, unconfirmed, method):
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})

    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = getattr(client, method)(path)

    assert response.status_code == 400
    assert b"This confirmation link has expired" in response.content
    assert reverse("accounts:signup_resend").encode() in response.content
    assert not User.objects.get().is_email_confirmed
    assert "_auth_user_id" not in client.session


def test_link_still_works_before_it_expires(client, unconfirmed):
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})

    with time_machine.travel(timezone.now() + timedelta(days=2, hours=23)):
        client.post(path, {"password": PASSWORD})

    assert User.objects.get().is_email_confirmed


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_link_shows_a_clear_page(client, unconfirmed, method):
    token = confirmation_token(unconfirmed)
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")

    response = getattr(client, method)(reverse("accounts:signup_confirm", kwargs={"token": tampered}))

    assert response.status_code == 400
    assert b"This confirmation link is not valid" in response.content
    assert reverse("accounts:signup_resend").encode() in response.content
    assert not User.objects.get().is_email_confirmed


def test_link_for_another_address_stops_working(client, unconfirmed):
    path = reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(unconfirmed)})
    User.objects.filter(pk=unconfirmed.pk).update(email="changed@example.org")

    response = client.post(path)

    assert response.status_code == 400
    assert not User.objects.get().is_email_confirmed


# --- Sign-up closed ------------------------------------------------------------------------------------


def test_closed_signup_says_it_is_by_invitation(client, settings):
    settings.ALLOW_SIGNUP = False

    response = client.get(SIGNUP_URL)

    assert response.status_code == 403
    assert b"Sign-up is by invitation" in response.content


def test_closed_signup_creates_nothing(sign_up, settings, mailoutbox):
    settings.ALLOW_SIGNUP = False

    response = sign_up()

    assert response.status_code == 403
    assert not User.objects.exists()
    assert mailoutbox == []


# --- Sending the link again ----------------------------------------------------------------------------


@pytest.fixture
def resend(client, django_capture_on_commit_callbacks):
    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("accounts:signup_resend"), {"email": email})

    return post


def test_resend_page_shows_a_form(client):
    response = client.get(reverse("accounts:signup_resend"))

    assert response.status_code == 200
    assert b"Send the confirmation link again" in response.content


def test_resend_sends_a_new_working_link_to_an_unconfirmed_account(resend, client, mailoutbox, unconfirmed):
    response = resend("NEW@example.org")

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    [email] = mailoutbox
    assert addresses(email) == ["new@example.org"]
    client.post(confirm_path(email), {"password": PASSWORD})
    assert User.objects.get().is_email_confirmed


@pytest.mark.parametrize("address", ["nobody@example.org", "old@example.org"], ids=["unknown", "confirmed"])
def test_resend_to_other_addresses_sends_nothing_but_looks_the_same(resend, mailoutbox, unconfirmed, address):
    UserFactory(email="old@example.org")
    known = resend("new@example.org")
    mailoutbox.clear()

    response = resend(address)

    assert response.status_code == known.status_code == 302
    assert response.url == known.url
    assert mailoutbox == []


def test_resend_with_a_bad_address_shows_the_error(resend, mailoutbox):
    response = resend("not an address")

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert mailoutbox == []
