from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Email delivery")

    def ready(self) -> None:
        # Register the jobs with Celery in every process: the services enqueue them by name
        # (outbox/queue.py) so that outbox.services need not import outbox.jobs, which imports it.
        # Also the start-up checks of the outbox's timing settings (outbox/checks.py).
        from outbox import checks, jobs  # noqa: F401
