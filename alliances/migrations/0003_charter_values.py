"""Norms become multi-line text with a checked length; logistics changes store values, not sentences.

Logistics changes were stored as "label: value" lines in the language of the steward who saved them
("how often we meet: Monthly", or "con qué frecuencia nos reunimos: Mensual"). This migration reads those
lines back into values, with the labels and choices as they were in English and in Spanish, so that the
history is rendered in each reader's language. A change whose text cannot be read this way keeps its text,
and the history shows it as it is.

The tables are frozen here on purpose: a migration must not follow later changes to the models' labels.
"""

import datetime

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

# Field name → its labels as they were written (English, Spanish).
LABELS = {
    "cadence": ("how often we meet", "con qué frecuencia nos reunimos"),
    "cadence_custom": ("other cadence", "otra frecuencia"),
    "meeting_weekday": ("usual day", "día habitual"),
    "meeting_time": ("usual start time", "hora habitual de inicio"),
    "meeting_duration_minutes": ("usual duration (minutes)", "duración habitual (minutos)"),
    "time_zone": ("time zone", "zona horaria"),
    "language": ("language", "idioma"),
    "venue_address": ("usual venue address", "dirección habitual del lugar de reunión"),
    "video_link": ("video-call link", "enlace de videollamada"),
    "info_sharing": ("how we share information", "cómo compartimos la información"),
    "info_link": ("information link", "enlace de información"),
}
FIELD_BY_LABEL = {label: name for name, labels in LABELS.items() for label in labels}

# Field name → {value: (English, Spanish)} for the fields that were shown by their choice's label.
CHOICES = {
    "cadence": {
        "weekly": ("Weekly", "Semanal"),
        "biweekly": ("Every two weeks", "Cada dos semanas"),
        "monthly": ("Monthly", "Mensual"),
        "custom": ("Other (describe)", "Otra (descríbala)"),
    },
    "meeting_weekday": {
        0: ("Monday", "Lunes"),
        1: ("Tuesday", "Martes"),
        2: ("Wednesday", "Miércoles"),
        3: ("Thursday", "Jueves"),
        4: ("Friday", "Viernes"),
        5: ("Saturday", "Sábado"),
        6: ("Sunday", "Domingo"),
    },
    "language": {"en": ("English", "Inglés"), "es": ("Spanish", "Español")},
}
VALUE_BY_LABEL = {
    name: {label: value for value, labels in choices.items() for label in labels} for name, choices in CHOICES.items()
}

# Text areas: their value may go on over several lines.
MULTI_LINE = {"venue_address", "info_sharing"}


class Unreadable(ValueError):
    pass


def _value(name, text):
    if name in VALUE_BY_LABEL:
        if text not in VALUE_BY_LABEL[name]:
            raise Unreadable(text)
        return VALUE_BY_LABEL[name][text]
    if name == "meeting_time":
        try:
            moment = datetime.time.fromisoformat(text)
        except ValueError as exc:
            raise Unreadable(text) from exc
        return moment.isoformat(timespec="minutes" if not moment.second else "seconds")
    if name == "meeting_duration_minutes":
        if not text.isdigit():
            raise Unreadable(text)
        return int(text)
    return text


def read_summary(text):
    """The values in an old "label: value" summary; raises Unreadable if a line is not one of them."""
    values = {}
    current = None
    for line in text.split("\n") if text else []:
        label, separator, rest = line.partition(": ")
        name = FIELD_BY_LABEL.get(label) if separator else None
        if name and name not in values:
            values[name] = _value(name, rest)
            current = name
        elif current in MULTI_LINE:
            values[current] += "\n" + line
        else:
            raise Unreadable(line)
    return values


def summaries_to_values(apps, schema_editor):
    CharterChange = apps.get_model("alliances", "CharterChange")
    for change in CharterChange.objects.filter(kind="logistics").iterator():
        try:
            before, after = read_summary(change.before), read_summary(change.after)
        except Unreadable:
            continue
        if not (before or after):
            continue
        change.before_values, change.after_values = before, after
        change.before, change.after = "", ""
        change.save(update_fields=["before_values", "after_values", "before", "after"])


def _line(name, value):
    if name in CHOICES:
        value = CHOICES[name].get(value, (value,))[0]
    return f"{LABELS[name][0]}: {value}"


def values_to_summaries(apps, schema_editor):
    """Going back: English summaries of the values, as the old code wrote them."""
    CharterChange = apps.get_model("alliances", "CharterChange")
    for change in CharterChange.objects.filter(kind="logistics").exclude(before_values={}, after_values={}):
        for side in ("before", "after"):
            values = getattr(change, f"{side}_values")
            lines = [_line(name, values[name]) for name in LABELS if values.get(name) not in (None, "")]
            setattr(change, side, "\n".join(lines))
        change.save(update_fields=["before", "after"])


class Migration(migrations.Migration):
    dependencies = [
        ("alliances", "0002_alliance_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="charterchange",
            name="after_values",
            field=models.JSONField(blank=True, default=dict, verbose_name="settings after"),
        ),
        migrations.AddField(
            model_name="charterchange",
            name="before_values",
            field=models.JSONField(blank=True, default=dict, verbose_name="settings before"),
        ),
        migrations.AlterField(
            model_name="norm",
            name="text",
            field=models.TextField(verbose_name="norm"),
        ),
        migrations.AddConstraint(
            model_name="norm",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("text"), 1000
                ),
                name="alliances_norm_text_length",
            ),
        ),
        migrations.RunPython(summaries_to_values, values_to_summaries),
    ]
