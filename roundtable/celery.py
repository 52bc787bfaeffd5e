"""The Celery app. Jobs live in each app's jobs.py, so that "tasks" always means to-dos."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roundtable.settings")

app = Celery("roundtable")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

# The folder broker of the embedded set-up writes into folders that must exist; both the web process
# (which sends) and the worker (which reads) load this module, so creating them here covers both.
if app.conf.broker_url == "filesystem://":
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = app.conf.broker_transport_options.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
