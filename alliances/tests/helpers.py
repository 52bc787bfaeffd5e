"""Helpers shared by the alliance tests (fixtures for the three kinds of reader live in the root conftest.py)."""

from typing import Any

from django.contrib.messages import get_messages
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from alliances.models import Alliance, Member


def alliance_url(name: str, alliance: Alliance, **kwargs: Any) -> str:
    """The URL of one of an alliance's pages: `alliance_url("norm_edit", alliance, pk=3)`."""
    return reverse(f"alliances:{name}", kwargs={"slug": alliance.slug, **kwargs})


def membership_of(alliance: Alliance, user: User) -> Member:
    return Member.objects.get(alliance=alliance, user=user)


def flash_messages(response: HttpResponse) -> list[str]:
    """The messages the next page shows (Django's messages framework)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def queries_of(client: Client, url: str) -> int:
    """How many queries one read of a page costs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def read_until_kept(client: Client, url: str) -> None:
    """Read a page until its copy and the reader's membership both come from the cache (2 queries)."""
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert queries_of(client, url) == 2
