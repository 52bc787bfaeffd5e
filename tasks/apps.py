from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    # "tasks" is the to-dos app (the product's word is to-do); Celery job modules are named jobs.py.
    name = "tasks"
    verbose_name = _("To-dos")

    def ready(self) -> None:
        # Every change to what an alliance's pages show gives the alliance a new version (alliances/versions.py).
        from alliances import versions
        from tasks.models import Todo, TodoUpdate

        versions.watch(Todo, versions.own_alliance)
        versions.watch(
            TodoUpdate, lambda row: Todo.objects.filter(pk=row.todo_id).values_list("alliance_id", flat=True)
        )
