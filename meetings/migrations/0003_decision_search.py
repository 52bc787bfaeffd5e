"""The decision log's full-text search: a GIN index per text-search configuration, on PostgreSQL only.

Each index is on the very expression `DecisionQuerySet.matching()` searches
(`to_tsvector('<config>'::regconfig, COALESCE(text, ''))`), so PostgreSQL reads the index. SQLite has no
text search (the log searches with `icontains` there) and no such index.

The indexes are built from `meetings.models.search_indexes()` as they are today: a later change of the
search expression needs a migration of its own that drops these and makes the new ones.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIGS = ["english", "simple", "spanish"]


def _indexes() -> list[GinIndex]:
    return [
        GinIndex(SearchVector("text", config=config), name=f"meetings_decision_search_{config}") for config in CONFIGS
    ]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    decision = apps.get_model("meetings", "Decision")
    for index in _indexes():
        schema_editor.add_index(decision, index)


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    decision = apps.get_model("meetings", "Decision")
    for index in _indexes():
        schema_editor.remove_index(decision, index)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0002_run_of_show")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
