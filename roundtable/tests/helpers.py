"""Helpers shared by the test files of every app (import them; fixtures live in the root conftest.py)."""

import html
import re

from django.http import HttpResponse


def page_text(response: HttpResponse) -> str:
    """What a reader sees in the page's <main>: its text without tags, entities decoded, spaces collapsed."""
    content = response.content.decode()
    main = re.search(r"<main\b[^>]*>(.*)</main>", content, re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", main.group(1) if main else content)
    return " ".join(html.unescape(text).split())
