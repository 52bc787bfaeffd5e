"""The meetings of an alliance, under /alliances/<slug>/ (included from roundtable/urls.py).

Every view fetches the reader's membership first (`alliances.access.get_membership`), so a non-member
gets 404 for all of these; alliances/tests/test_permissions.py enumerates `meeting_patterns`.
"""

app_name = "meetings"

# Each part of the app adds its URLs to its own list; `meeting_patterns` is all of them.
schedule_patterns: list = []  # meetings, roles, apologies: meetings/views/meetings.py
agenda_patterns: list = []  # items, proposals, segments, reflection, print: meetings/views/agenda.py
sending_patterns: list = []  # send agenda, agenda.ics: meetings/views/sending.py

meeting_patterns = [*schedule_patterns, *agenda_patterns, *sending_patterns]
urlpatterns = meeting_patterns
