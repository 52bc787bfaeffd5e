from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    # "tasks" is the to-dos app (the product's word is to-do); Celery job modules are named jobs.py.
    name = "tasks"
    verbose_name = _("To-dos")
