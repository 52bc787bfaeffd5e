# Load the Celery app with Django so that `job.delay_on_commit()` uses its configuration.
from roundtable.celery import app as celery_app

__all__ = ["celery_app"]
