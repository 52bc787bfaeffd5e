from django.db import migrations


class Migration(migrations.Migration):
    # A migration of its own: PostgreSQL refuses to alter a table in the transaction that updated its
    # rows (0002), while their deferred foreign-key checks are pending.
    dependencies = [
        ("outbox", "0002_message_scope_key_secret"),
    ]

    operations = [
        migrations.RemoveField(model_name="message", name="alliance"),
        migrations.RemoveField(model_name="message", name="members_only"),
    ]
