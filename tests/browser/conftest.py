"""Real-browser tests: Playwright driving Debian's chromium (a browser download is impossible here)."""

import os
import re
import shutil

import pytest

# pytest-django's live_server runs in a thread; Playwright's sync API runs an event loop in this one,
# which makes Django refuse ORM calls from the test unless told this is fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no internet: without these, chromium keeps trying to reach Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium not found at {CHROMIUM}: CI must install it (apt-get install chromium).")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings):
    """The live server, with the links in emails pointing at it."""
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server


def link_in_email(delivery, path_prefix: str) -> str:
    """The first link in an email's text that goes to the given path."""
    match = re.search(rf"https?://\S+{re.escape(path_prefix)}\S*", delivery.text)
    assert match, f"no link to {path_prefix} in: {delivery.text}"
    return match.group(0)


def signed_in_page(browser, site, member, *, viewport: dict | None = None, **context_options):
    """A page in a new browser context (its own cookies), signed in as the member's user."""
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **context_options)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site.url}])
    return context.new_page()
