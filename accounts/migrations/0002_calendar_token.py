"""Each person's calendar feed token (a key and a secret): added empty, given to every existing person
(each their own random values), then made unique with a random default for new people.

A unique column with a callable default cannot be added in one step: the default would be computed once
and given to every existing row.
"""

from django.db import migrations, models

import accounts.models


def give_tokens(apps, schema_editor) -> None:
    User = apps.get_model("accounts", "User")
    users = list(User.objects.only("pk"))
    for user in users:
        user.calendar_key = accounts.models.new_calendar_key()
        user.calendar_secret = accounts.models.new_calendar_secret()
    User.objects.bulk_update(users, ["calendar_key", "calendar_secret"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="calendar_key",
            field=models.CharField(editable=False, max_length=12, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="calendar_secret",
            field=models.CharField(editable=False, max_length=32, default=""),
        ),
        migrations.RunPython(give_tokens, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="user",
            name="calendar_key",
            field=models.CharField(
                default=accounts.models.new_calendar_key, editable=False, max_length=12, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="calendar_secret",
            field=models.CharField(default=accounts.models.new_calendar_secret, editable=False, max_length=32),
        ),
    ]
