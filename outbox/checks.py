"""Start-up checks for the timing settings that the outbox's once-only promise rests on.

`outbox.services.deliveries_sweep()` takes a claim older than OUTBOX_STALE_SECONDS for the claim of a
dead worker and sends its delivery again: if a live job may run longer than that, a slow job and the
sweeper both send. And a send job stops claiming after OUTBOX_JOB_BUDGET_SECONDS so that it ends before
the soft time limit interrupts it.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility)
def check_outbox_timing(app_configs=None, **kwargs) -> list[Warning]:
    warnings = []
    hard_limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    soft_limit = getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", None)
    stale, budget = settings.OUTBOX_STALE_SECONDS, settings.OUTBOX_JOB_BUDGET_SECONDS
    if hard_limit is None:
        warnings.append(
            Warning(
                "CELERY_TASK_TIME_LIMIT is not set: a send job may run for ever, longer than OUTBOX_STALE_SECONDS.",
                hint="Set CELERY_TASK_TIME_LIMIT below OUTBOX_STALE_SECONDS.",
                id="outbox.W001",
            )
        )
    elif stale <= hard_limit:
        warnings.append(
            Warning(
                f"OUTBOX_STALE_SECONDS ({stale:g}) is not above CELERY_TASK_TIME_LIMIT "
                f"({hard_limit:g}): the sweeper may release the claims of a job that is still sending, and those "
                "emails are sent twice.",
                hint="Raise OUTBOX_STALE_SECONDS above CELERY_TASK_TIME_LIMIT (the default is twice as long).",
                id="outbox.W001",
            )
        )
    if soft_limit is not None and budget >= soft_limit:
        warnings.append(
            Warning(
                f"OUTBOX_JOB_BUDGET_SECONDS ({budget:g}) is not below "
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft_limit:g}): send jobs will be stopped by the time limit "
                "instead of handing their remaining deliveries to a fresh job.",
                hint="Keep OUTBOX_JOB_BUDGET_SECONDS well below CELERY_TASK_SOFT_TIME_LIMIT.",
                id="outbox.W002",
            )
        )
    return warnings
