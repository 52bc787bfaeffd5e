from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
INVALID_LOGIN = "That email address and password do not match. Check both and try again."
TOO_MANY = "Too many sign-in attempts. Wait a few minutes, then try again."


@pytest.fixture
def user(db) -> User:
    return UserFactory(email="person@example.org")


def sign_in(client, email: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN_URL, {"username": email, "password": password, **extra})


def form_errors(response) -> list[str]:
    return [str(error) for error in response.context["form"].non_field_errors()]


def test_login_page_shows_the_form(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_right_password_signs_in_and_goes_to_the_alliances(client, user):
    response = sign_in(client, "person@example.org")

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_address_in_any_case_signs_in(client, user):
    response = sign_in(client, "Person@Example.org")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_and_unknown_address_get_the_same_error(client, user):
    wrong_password = sign_in(client, "person@example.org", "not the password at all")
    unknown_address = sign_in(client, "nobody@example.org")

    assert wrong_password.status_code == unknown_address.status_code == 200
    assert form_errors(wrong_password) == form_errors(unknown_address) == [INVALID_LOGIN]
    assert INVALID_LOGIN.encode() in wrong_password.content
    assert INVALID_LOGIN.encode() in unknown_address.content
    assert "_auth_user_id" not in client.session


def test_closed_account_cannot_sign_in(client):
    UserFactory(email="gone@example.org", is_active=False)

    response = sign_in(client, "gone@example.org")

    assert form_errors(response) == [INVALID_LOGIN]
    assert "_auth_user_id" not in client.session


def test_signed_in_person_is_sent_on_from_the_login_page(client, user):
    client.force_login(user)

    response = client.get(LOGIN_URL)

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")


# --- next ----------------------------------------------------------------------------------------------


def test_login_page_keeps_next_for_the_form(client):
    response = client.get(LOGIN_URL, {"next": "/accounts/profile/"})

    assert b'name="next" value="/accounts/profile/"' in response.content


@pytest.mark.parametrize(
    "next_url", ["/accounts/profile/", "/alliances/?tab=mine", "http://testserver/accounts/profile/"]
)
def test_safe_next_is_followed_after_sign_in(client, user, next_url):
    response = sign_in(client, "person@example.org", next=next_url)

    assert response.status_code == 302
    assert response.url == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://evil.example/accounts/profile/",
        "javascript:alert(1)",
        "/\\evil.example",
    ],
)
def test_unsafe_next_goes_to_the_default_page(client, user, next_url):
    response = sign_in(client, "person@example.org", next=next_url)

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")


@pytest.mark.parametrize("next_url", ["foo", "home", "alliances:alliance_list", "foo.bar", "x" * 400, "a\x00b"])
def test_next_that_is_not_a_url_goes_to_the_default_page_after_signing_in(client, user, next_url):
    # redirect() would take a bare word for a URL name: "foo" was a 500 after the sign-in went through.
    response = sign_in(client, "person@example.org", next=next_url)

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_next_that_is_not_a_url_is_harmless_for_a_signed_in_reader(client, user):
    client.force_login(user)

    response = client.get(LOGIN_URL, {"next": "foo"})

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")


def test_next_in_the_query_string_is_followed_too(client, user):
    response = client.post(
        f"{LOGIN_URL}?next=/accounts/profile/", {"username": "person@example.org", "password": PASSWORD}
    )

    assert response.url == "/accounts/profile/"


def test_private_page_sends_to_sign_in_and_back(client, user):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/accounts/profile/"

    response = client.post(response.url, {"username": "person@example.org", "password": PASSWORD})

    assert response.url == "/accounts/profile/"


# --- Rate limit ----------------------------------------------------------------------------------------


@pytest.fixture
def limit(settings) -> int:
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_RATE_WINDOW = 15 * 60
    return settings.LOGIN_RATE_LIMIT


def fail(client, email: str, times: int) -> None:
    for _ in range(times):
        assert sign_in(client, email, "not the password at all").status_code == 200


def test_failures_below_the_limit_do_not_block(client, user, limit):
    fail(client, "person@example.org", limit - 1)

    assert sign_in(client, "person@example.org").status_code == 302


def test_too_many_failures_block_even_the_right_password_without_checking_it(client, user, limit):
    fail(client, "person@example.org", limit)

    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        response = sign_in(client, "person@example.org")

    assert response.status_code == 429
    assert TOO_MANY.encode() in response.content
    check_password.assert_not_called()
    assert "_auth_user_id" not in client.session
    # The address stays in the form, so that the person can try again later without retyping it.
    assert b'value="person@example.org"' in response.content


def test_limit_counts_the_address_in_any_case(client, user, limit):
    fail(client, "Person@Example.org", limit)

    assert sign_in(client, "person@example.org").status_code == 429


def test_blocked_address_does_not_block_another(client, user, limit):
    other = UserFactory(email="other@example.org")
    fail(client, "person@example.org", limit)

    response = sign_in(client, "other@example.org")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_unknown_addresses_are_limited_the_same_way(client, limit):
    fail(client, "nobody@example.org", limit)

    response = sign_in(client, "nobody@example.org")

    assert response.status_code == 429
    assert TOO_MANY.encode() in response.content


def test_sign_in_works_again_after_the_window(client, user, limit, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail(client, "person@example.org", limit)
        assert sign_in(client, "person@example.org").status_code == 429

        traveller.shift(timedelta(seconds=settings.LOGIN_RATE_WINDOW - 5))
        assert sign_in(client, "person@example.org").status_code == 429

        traveller.shift(timedelta(seconds=10))
        response = sign_in(client, "person@example.org")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_successful_sign_in_clears_the_failures_of_the_address(client, user, limit):
    fail(client, "person@example.org", limit - 1)
    sign_in(client, "person@example.org")
    client.post(reverse("accounts:logout"))

    fail(client, "person@example.org", limit - 1)

    assert sign_in(client, "person@example.org").status_code == 302


def test_one_ip_trying_many_addresses_is_limited(client, user, limit):
    for n in range(limit * 5):
        sign_in(client, f"guess{n}@example.org", "not the password at all")

    response = sign_in(client, "person@example.org")

    assert response.status_code == 429


# --- Per account and address: a stranger cannot lock the owner out -------------------------------------

STRANGER = "203.0.113.66"
OWNER = "198.51.100.7"


def sign_in_from(client, address: str, email: str, password: str = PASSWORD, **meta: str):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=address, **meta)


def test_a_strangers_failures_do_not_lock_the_owner_out_from_another_address(client, user, limit):
    for _ in range(limit * 2):
        sign_in_from(client, STRANGER, "person@example.org", "not the password at all")
    assert sign_in_from(client, STRANGER, "person@example.org").status_code == 429

    response = sign_in_from(client, OWNER, "person@example.org")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_guesses_at_one_account_from_many_addresses_meet_the_per_account_ceiling(client, user, limit, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = 6
    for n in range(6):
        sign_in_from(client, f"203.0.113.{n}", "person@example.org", "not the password at all")

    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        response = sign_in_from(client, OWNER, "person@example.org")

    assert response.status_code == 429
    check_password.assert_not_called()


def test_per_account_ceiling_lifts_after_the_window(client, user, limit, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = 6
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for n in range(6):
            sign_in_from(client, f"203.0.113.{n}", "person@example.org", "not the password at all")
        assert sign_in_from(client, OWNER, "person@example.org").status_code == 429

        traveller.shift(timedelta(seconds=settings.LOGIN_RATE_WINDOW + 5))
        response = sign_in_from(client, OWNER, "person@example.org")

    assert response.status_code == 302


def test_ipv6_guesses_from_one_64_count_as_one_address(client, user, limit):
    for n in range(limit):
        sign_in_from(client, f"2001:db8:1:2::{n + 1:x}", "person@example.org", "not the password at all")

    assert sign_in_from(client, "2001:db8:1:2:ffff::1", "person@example.org").status_code == 429
    assert sign_in_from(client, "2001:db8:1:3::1", "person@example.org").status_code == 302


# --- Behind a reverse proxy ------------------------------------------------------------------------------

PROXY = "10.0.0.1"


def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(client, user, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # One visitor fails at many accounts until their address is limited…
    for n in range(limit * 5):
        sign_in_from(client, PROXY, f"guess{n}@example.org", "wrong", HTTP_X_FORWARDED_FOR=STRANGER)
    assert sign_in_from(client, PROXY, "person@example.org", HTTP_X_FORWARDED_FOR=STRANGER).status_code == 429

    # …and everyone else behind the same proxy still signs in.
    response = sign_in_from(client, PROXY, "person@example.org", HTTP_X_FORWARDED_FOR=OWNER)

    assert response.status_code == 302


def test_a_made_up_forwarded_address_does_not_escape_the_limit(client, user, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(limit):
        # The visitor sends an X-Forwarded-For of their own; the proxy appends the address it saw.
        sign_in_from(client, PROXY, "person@example.org", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {STRANGER}")

    response = sign_in_from(client, PROXY, "person@example.org", HTTP_X_FORWARDED_FOR=f"192.0.2.200, {STRANGER}")

    assert response.status_code == 429


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(client, user, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(limit):
        sign_in_from(client, STRANGER, "person@example.org", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert sign_in_from(client, STRANGER, "person@example.org", HTTP_X_FORWARDED_FOR=OWNER).status_code == 429


# --- The admin's sign-in -------------------------------------------------------------------------------


@pytest.fixture
def operator(db) -> User:
    return UserFactory(email="operator@example.org", is_staff=True, is_superuser=True)


def test_admin_login_page_sends_to_the_sites_sign_in_with_the_admin_as_next(client):
    response = client.get("/admin/login/", {"next": "/admin/accounts/user/"})

    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_admin_pages_lead_to_the_sites_sign_in_and_back(client, operator):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN_URL}?next=%2Fadmin%2F"

    response = client.post(response.redirect_chain[-1][0], {"username": "operator@example.org", "password": PASSWORD})

    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_posting_passwords_to_the_admin_login_checks_none(client, operator):
    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        for _ in range(20):
            response = client.post("/admin/login/", {"username": "operator@example.org", "password": PASSWORD})
            assert response.status_code == 302
            assert response.url.startswith(LOGIN_URL)

    check_password.assert_not_called()
    assert "_auth_user_id" not in client.session


def test_admin_guesses_meet_the_sign_in_limit(client, operator, limit):
    fail(client, "operator@example.org", limit)

    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        response = sign_in(client, "operator@example.org", next="/admin/")

    assert response.status_code == 429
    check_password.assert_not_called()
    assert client.get("/admin/").status_code == 302


def test_signed_in_reader_without_admin_access_is_refused_not_looped(client, user):
    client.force_login(user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert len(response.redirect_chain) == 1


def test_signed_in_operator_on_the_admin_login_goes_on_to_the_admin(client, operator):
    client.force_login(operator)

    response = client.get("/admin/login/", {"next": "foo"})

    assert response.url == "/admin/"


# --- Sign out ------------------------------------------------------------------------------------------


def test_logout_is_post_only(client, user):
    client.force_login(user)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_signs_out_and_goes_to_the_login_page(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == LOGIN_URL
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:profile")).status_code == 302
