"""The error every domain service raises when one of its rules stops an action.

Each app subclasses it (`AllianceError`, later `MeetingError`), so that a view, a command or a job can
catch any of them the same way and show the message: it is written for the person who tried.
"""


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""
