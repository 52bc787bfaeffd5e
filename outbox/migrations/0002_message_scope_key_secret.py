from django.db import migrations, models

# The templates that carried a single-use link when the flag was introduced: messages recorded before it
# are marked, so that the outbox pages redact their links too.
SECRET_TEMPLATES = ["password_reset", "signup_confirm", "invitation"]


def forwards(apps, schema_editor):
    Message = apps.get_model("outbox", "Message")
    Delivery = apps.get_model("outbox", "Delivery")
    for alliance_id in Message.objects.exclude(alliance=None).values_list("alliance_id", flat=True).distinct():
        Message.objects.filter(alliance_id=alliance_id).update(scope=f"alliance:{alliance_id}")
    Message.objects.filter(template__in=SECRET_TEMPLATES).update(secret=True)
    # Skipped deliveries gave their reason in English; it becomes data.
    Delivery.objects.filter(status="skipped").update(skip_reason="left", last_error="")


def backwards(apps, schema_editor):
    Message = apps.get_model("outbox", "Message")
    Delivery = apps.get_model("outbox", "Delivery")
    for message in Message.objects.filter(scope__startswith="alliance:"):
        message.alliance_id = int(message.scope.removeprefix("alliance:"))
        message.save(update_fields=["alliance"])
    Delivery.objects.filter(status="skipped").update(last_error="No longer a member of the alliance.")


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="scope",
            field=models.CharField(blank=True, max_length=100, verbose_name="scope"),
        ),
        migrations.AddField(
            model_name="message",
            name="key",
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name="idempotency key"),
        ),
        migrations.AddField(
            model_name="message",
            name="secret",
            field=models.BooleanField(default=False, verbose_name="carries a single-use link"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="skip_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("left", "The recipient left before it was sent."),
                    ("removed", "The recipient was removed before it was sent."),
                ],
                max_length=20,
                verbose_name="why skipped",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["scope"], name="outbox_message_scope_idx"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("key",), name="outbox_message_key_unique"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
