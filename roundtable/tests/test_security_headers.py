"""The Content Security Policy every page is sent with, and pages that keep to it.

A policy that allowed inline script would let one escaping slip run code in a reader's session; a page
with inline script or style under this policy would be silently broken for its reader. Both are checked.
"""

import re

import pytest
from django.urls import reverse

from outbox.services import Address, mail_send
from outbox.tests.factories import make_operator

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def _assert_strict(response) -> None:
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    html = response.content.decode()
    # What the policy would block, and so what no page may rely on.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/no-such-page/"])
def test_public_pages_and_the_not_found_page_carry_the_strict_policy(client, path):
    _assert_strict(client.get(path))


def test_members_pages_carry_the_strict_policy(client, alliance, steward_user):
    client.force_login(steward_user)

    for name in ("alliance_detail", "charter_detail", "charter_logistics_edit", "member_list"):
        response = client.get(reverse(f"alliances:{name}", args=[alliance.slug]))
        assert response.status_code == 200
        _assert_strict(response)
    _assert_strict(client.get(reverse("accounts:profile")))


def test_an_emails_html_shown_to_an_operator_runs_sandboxed(client, member_user):
    # The email's HTML is shown from our own origin: sandboxed, nothing in it can script the operator's session.
    delivery = mail_send(
        template="password_reset", recipients=[Address.for_user(member_user)], context={"user": member_user}
    ).deliveries.get()
    client.force_login(make_operator())

    response = client.get(reverse("outbox:delivery_html", args=[delivery.pk]))

    assert response.status_code == 200
    policy = _policy(response)
    assert "sandbox" in policy
    assert policy["default-src"] == ["'none'"]
    assert "script-src" not in policy
