import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from accounts.middleware import UserPreferencesMiddleware
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("accounts:profile")
LANGUAGE_URL = reverse("accounts:language_set")


@pytest.fixture
def user(db) -> User:
    return UserFactory(email="person@example.org", display_name="Pat Doe", language="en", time_zone="UTC")


def profile_data(**overrides: str) -> dict[str, str]:
    return {"display_name": "Patricia Doe", "language": "es", "time_zone": "America/Bogota", **overrides}


# --- The profile page ----------------------------------------------------------------------------------


def test_profile_is_private(client):
    response = client.get(PROFILE_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={PROFILE_URL}"


def test_profile_shows_the_current_settings(client, user):
    client.force_login(user)

    response = client.get(PROFILE_URL)

    assert response.status_code == 200
    assert b"Signed in as person@example.org." in response.content
    form = response.context["form"]
    assert (form["display_name"].value(), form["language"].value(), form["time_zone"].value()) == (
        "Pat Doe",
        "en",
        "UTC",
    )
    assert b'value="Pat Doe"' in response.content


def test_saving_the_profile_stores_name_language_and_zone(client, user):
    client.force_login(user)

    response = client.post(PROFILE_URL, profile_data())

    assert response.status_code == 302
    assert response.url == PROFILE_URL
    user.refresh_from_db()
    assert (user.display_name, user.language, user.time_zone) == ("Patricia Doe", "es", "America/Bogota")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "es"


@pytest.mark.parametrize("secure", [True, False])
def test_profile_language_cookie_is_secure_when_the_site_is(client, user, settings, secure):
    settings.LANGUAGE_COOKIE_SECURE = secure
    client.force_login(user)

    response = client.post(PROFILE_URL, profile_data())

    cookie = response.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    assert bool(cookie["secure"]) is secure
    assert cookie["samesite"] == "Lax"


def test_saved_profile_shows_a_message(client, user):
    client.force_login(user)

    response = client.post(PROFILE_URL, profile_data(language="en"), follow=True)

    assert "Your profile has been saved." in [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"language": "xx"}, "language"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "Pat\r\nBcc: many@example.org"}, "display_name"),
        ({"display_name": "Pat\x00Doe"}, "display_name"),
        ({"display_name": "P" * 151}, "display_name"),
        ({"time_zone": "UTC\x00"}, "time_zone"),
        ({"language": "e\x00s"}, "language"),
    ],
    ids=[
        "unknown-zone",
        "no-zone",
        "unknown-language",
        "no-name",
        "name-with-line-break",
        "name-with-nul",
        "long-name",
        "zone-with-nul",
        "language-with-nul",
    ],
)
def test_invalid_profile_shows_the_error_and_saves_nothing(client, user, overrides, field):
    client.force_login(user)

    response = client.post(PROFILE_URL, profile_data(**overrides))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    user.refresh_from_db()
    assert (user.display_name, user.language, user.time_zone) == ("Pat Doe", "en", "UTC")
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_after_saving_pages_are_in_the_chosen_language_and_zone(client, user):
    client.force_login(user)
    client.post(PROFILE_URL, profile_data())

    response = client.get(PROFILE_URL)

    assert b'<html lang="es">' in response.content
    assert response.headers["Content-Language"] == "es"
    # The tz context processor reports the zone that templates render datetimes in.
    assert response.context["TIME_ZONE"] == "America/Bogota"


def test_profile_language_wins_over_the_browser(client, user):
    user.language = "es"
    user.save()
    client.force_login(user)

    response = client.get(PROFILE_URL, headers={"accept-language": "en"})

    assert b'<html lang="es">' in response.content


# --- UserPreferencesMiddleware -------------------------------------------------------------------------


def run_middleware(user) -> tuple[str, str]:
    """The language and zone active while the view runs."""
    seen = {}

    def view(request):
        seen["language"] = translation.get_language()
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = user
    UserPreferencesMiddleware(view)(request)
    return seen["language"], seen["zone"]


def test_middleware_activates_the_readers_language_and_zone():
    user = UserFactory.build(language="es", time_zone="Asia/Kolkata")

    assert run_middleware(user) == ("es", "Asia/Kolkata")


def test_middleware_leaves_anonymous_readers_in_the_default_zone():
    timezone.activate("Asia/Kolkata")  # As left behind by an earlier request on this thread.

    _, zone = run_middleware(AnonymousUser())

    assert zone == "UTC"


def test_middleware_survives_a_zone_that_no_longer_exists():
    user = UserFactory.build(language="en", time_zone="Atlantis/Capital")

    assert run_middleware(user) == ("en", "UTC")


# --- The language switch -------------------------------------------------------------------------------


def test_language_switch_sets_the_cookie_for_anonymous_readers(client):
    response = client.post(LANGUAGE_URL, {"language": "es", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert b'<html lang="es">' in client.get("/accounts/login/").content


def test_language_switch_saves_the_language_of_a_signed_in_reader(client, user):
    client.force_login(user)

    response = client.post(LANGUAGE_URL, {"language": "es", "next": PROFILE_URL})

    assert response.url == PROFILE_URL
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "es"
    user.refresh_from_db()
    assert user.language == "es"
    assert (user.display_name, user.time_zone) == ("Pat Doe", "UTC")
    assert b'<html lang="es">' in client.get(PROFILE_URL).content


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_language_switch_redirects_only_to_safe_next(client, next_url):
    response = client.post(LANGUAGE_URL, {"language": "es", "next": next_url})

    assert response.status_code == 302
    assert response.url == reverse("home")


@pytest.mark.parametrize("next_url", ["foo", "home", "alliances:alliance_list", "x" * 400, "a\x00b"])
def test_language_switch_with_a_next_that_is_not_a_url_goes_home(client, next_url):
    # redirect() would take a bare word for a URL name: "foo" was a 500.
    response = client.post(LANGUAGE_URL, {"language": "es", "next": next_url})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_language_switch_cookie_is_secure_when_the_site_is(client, settings):
    settings.LANGUAGE_COOKIE_SECURE = True

    response = client.post(LANGUAGE_URL, {"language": "es", "next": "/"})

    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME]["secure"]


def test_language_switch_ignores_an_unknown_language(client, user):
    client.force_login(user)

    response = client.post(LANGUAGE_URL, {"language": "xx", "next": PROFILE_URL})

    assert response.url == PROFILE_URL
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    user.refresh_from_db()
    assert user.language == "en"


def test_language_switch_is_post_only(client):
    assert client.get(LANGUAGE_URL, {"language": "es"}).status_code == 405
