"""Sending a meeting's draft agenda by email, with its calendar invitation, and the updates that follow.

- `meeting_send_agenda` emails every active member the agenda with a calendar invitation (REQUEST) and
  keeps a snapshot of what it showed, so the next send is an "Updated agenda" that says what changed.
  Its outbox key names the meeting's revision: a double click, or a second send of an unchanged agenda,
  emails nobody twice.
- `meeting_notify_rescheduled` / `meeting_notify_cancelled` are called by the rescheduling and cancelling
  services (meetings/services.py) inside their transactions: everyone who got the agenda gets an updated
  invitation or a cancellation (CANCEL), with the same UID and a higher SEQUENCE.
- `meeting_remind_agenda` reminds a facilitator, once per meeting, that its agenda was not sent yet.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from alliances import versions
from alliances.models import Member
from meetings import calendar
from meetings.agenda import markdown_render
from meetings.models import CLOSING_SEGMENTS, OPENING_SEGMENTS, AgendaItem, Meeting, Reflection
from meetings.services import MeetingError
from outbox.models import Message
from outbox.services import Address, absolute_url, mail_send


def _lock(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("alliance", "facilitator__user", "note_taker__user")
        .get(pk=meeting.pk)
    )


def _name(member: Member | None) -> str:
    return member.user.display_name if member is not None else ""


def _items(meeting: Meeting) -> list[AgendaItem]:
    return list(meeting.items.on_agenda().select_related("presenter__user"))


def _reflection(meeting: Meeting) -> Reflection | None:
    return Reflection.objects.filter(meeting=meeting).first()


# --- What was sent, and what changed since -------------------------------------------------------------


def agenda_snapshot(*, meeting: Meeting, items: list[AgendaItem], reflection: Reflection | None) -> dict[str, Any]:
    """The agenda as an email shows it, in JSON, kept on the meeting when it is sent."""
    return {
        "revision": meeting.revision,
        "starts_at": meeting.starts_at.isoformat(),
        "duration_minutes": meeting.duration_minutes,
        "time_zone": meeting.time_zone,
        "venue_address": meeting.venue_address,
        "video_link": meeting.video_link,
        "support_offered": meeting.support_offered,
        "facilitator_id": meeting.facilitator_id,
        "facilitator": _name(meeting.facilitator),
        "note_taker_id": meeting.note_taker_id,
        "note_taker": _name(meeting.note_taker),
        "segments": {segment.kind: segment.minutes for segment in meeting.segments.all()},
        "items": [
            {
                "id": item.pk,
                "title": item.title,
                "kind": item.kind,
                "minutes": item.minutes,
                "presenter_id": item.presenter_id,
                "description": item.description,
            }
            for item in items
        ],
        "reflection": (
            {"kind": reflection.kind, "text": reflection.text, "source": reflection.source, "link": reflection.link}
            if reflection is not None
            else None
        ),
    }


def agenda_changes(*, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two snapshots, as rows the email templates word in the reader's language.

    Each row has a `kind`: time (with the time `before`), venue, video_link, support, facilitator and
    note_taker (with the new `name`), item_added, item_removed, item_changed (with the `title`),
    items_reordered, segments, reflection.
    """
    changes: list[dict[str, Any]] = []
    if any(before.get(f) != after[f] for f in ("starts_at", "duration_minutes", "time_zone")):
        changes.append({"kind": "time", "before": parse_datetime(before.get("starts_at") or "")})
    for field, kind in (("venue_address", "venue"), ("video_link", "video_link"), ("support_offered", "support")):
        if before.get(field, "") != after[field]:
            changes.append({"kind": kind})
    for role in ("facilitator", "note_taker"):
        if before.get(f"{role}_id") != after[f"{role}_id"]:
            changes.append({"kind": role, "name": after[role]})
    old = {item["id"]: item for item in before.get("items", [])}
    new = {item["id"]: item for item in after["items"]}
    changes += [{"kind": "item_added", "title": item["title"]} for pk, item in new.items() if pk not in old]
    changes += [{"kind": "item_removed", "title": item["title"]} for pk, item in old.items() if pk not in new]
    changes += [
        {"kind": "item_changed", "title": item["title"]} for pk, item in new.items() if pk in old and old[pk] != item
    ]
    kept_before = [pk for pk in old if pk in new]
    kept_after = [pk for pk in new if pk in old]
    if kept_before != kept_after:
        changes.append({"kind": "items_reordered"})
    if before.get("segments", {}) != after["segments"]:
        changes.append({"kind": "segments"})
    if before.get("reflection") != after["reflection"]:
        changes.append({"kind": "reflection"})
    return changes


# --- The meeting page's box ------------------------------------------------------------------------------


def sending_context(*, meeting: Meeting, member: Member) -> dict:
    """What the meeting page's "Send agenda" box needs (no query: all on the meeting row)."""
    kwargs = {"slug": meeting.alliance.slug, "pk": meeting.pk}
    sent = meeting.agenda_sent_count > 0
    return {
        "agenda_sending": {
            "sent": sent,
            "sent_at": meeting.agenda_sent_at,
            "version": meeting.agenda_sent_count,
            "up_to_date": sent and meeting.agenda_sent_revision == meeting.revision,
            "can_send": meeting.can_edit(member) and not meeting.is_cancelled and meeting.starts_at > timezone.now(),
            "send_url": reverse("meetings:agenda_send", kwargs=kwargs),
            "ics_url": reverse("meetings:agenda_ics", kwargs=kwargs),
        }
    }


# --- Sending the agenda ------------------------------------------------------------------------------------


def _email_context(meeting: Meeting, items: list[AgendaItem], reflection: Reflection | None) -> dict[str, Any]:
    segments = {segment.kind: segment for segment in meeting.segments.all()}
    opening = [segments[kind] for kind in OPENING_SEGMENTS if kind in segments]
    closing = [segments[kind] for kind in CLOSING_SEGMENTS if kind in segments]
    return {
        "meeting": meeting,
        "alliance": meeting.alliance,
        "facilitator_name": _name(meeting.facilitator),
        "note_taker_name": _name(meeting.note_taker),
        "opening_segments": opening,
        "items": [
            EmailItem(
                title=item.title,
                # Lazy: worded in each reader's language when their copy is rendered.
                kind=AgendaItem.Kind(item.kind).label,
                minutes=item.minutes,
                presenter=_name(item.presenter),
                description=item.description,
                description_html=markdown_render(item.description) if item.description else "",
            )
            for item in items
        ],
        "closing_segments": closing,
        "planned_minutes": sum(s.minutes for s in opening + closing) + sum(i.minutes for i in items),
        "reflection": reflection,
        "meeting_url": absolute_url(meeting.get_absolute_url()),
        "ics_url": absolute_url(
            reverse("meetings:agenda_ics", kwargs={"slug": meeting.alliance.slug, "pk": meeting.pk})
        ),
    }


@dataclass(frozen=True)
class EmailItem:
    """An agenda item as the email shows it."""

    title: str
    kind: Any
    minutes: int
    presenter: str
    description: str
    description_html: str


def _reply_to(meeting: Meeting) -> str:
    return meeting.facilitator.user.email if meeting.facilitator is not None else ""


def _active_members(meeting: Meeting):
    return Member.objects.active().filter(alliance_id=meeting.alliance_id).select_related("user").order_by("pk")


@transaction.atomic
def meeting_send_agenda(*, meeting: Meeting, sent_by: Member) -> Meeting:
    """Email the agenda with a calendar invitation to every active member; return the meeting.

    The first send is the draft agenda; a later one, after the agenda or the meeting changed, is the
    "Updated agenda" and says what changed since the version sent before. The outbox key names the
    revision, so the same version is never emailed twice (a double click sends once).
    """
    if not meeting.can_edit(sent_by):
        raise PermissionDenied
    meeting = _lock(meeting)
    if meeting.is_cancelled:
        raise MeetingError(_("This meeting was cancelled: its agenda cannot be sent."))
    now = timezone.now()
    if meeting.starts_at <= now:
        raise MeetingError(_("This meeting has already started: its agenda can no longer be sent."))
    key = f"meetings.agenda:{meeting.pk}:{meeting.revision}"
    if meeting.agenda_sent_revision == meeting.revision or Message.objects.filter(key=key).exists():
        raise MeetingError(_("This version of the agenda has already been sent. Change it to send an update."))

    items = _items(meeting)
    reflection = _reflection(meeting)
    snapshot = agenda_snapshot(meeting=meeting, items=items, reflection=reflection)
    previous = meeting.agenda_sent_snapshot or {}
    is_update = meeting.agenda_sent_count > 0
    members = list(_active_members(meeting))
    # Every calendar update must carry a higher SEQUENCE than the copy people hold.
    meeting.sequence += 1
    mail_send(
        template="agenda",
        recipients=[Address.for_user(m.user) for m in members],
        context={
            **_email_context(meeting, items, reflection),
            "is_update": is_update,
            "version": meeting.agenda_sent_count + 1,
            "changes": agenda_changes(before=previous, after=snapshot) if is_update else [],
        },
        scope=meeting.alliance.mail_scope,
        reply_to=_reply_to(meeting),
        key=key,
        attachments_for=lambda address: calendar.invitation_files(
            meeting=meeting, method=calendar.REQUEST, attendee=address
        ),
    )
    # Who has the event in their calendar: they get its updates and its cancellation.
    snapshot["recipients"] = sorted(set(previous.get("recipients", [])) | {m.user_id for m in members})
    snapshot["calendar_starts_at"] = snapshot["starts_at"]
    Meeting.objects.filter(pk=meeting.pk).update(
        sequence=F("sequence") + 1,
        agenda_sent_at=now,
        agenda_sent_revision=meeting.revision,
        agenda_sent_count=F("agenda_sent_count") + 1,
        agenda_sent_snapshot=snapshot,
    )
    versions.bump(meeting.alliance_id)  # update() sends no signal
    meeting.refresh_from_db()
    return meeting


def _calendar_holders(meeting: Meeting) -> list[Member]:
    """The active members who got the agenda, and so hold the event in their calendar."""
    received = (meeting.agenda_sent_snapshot or {}).get("recipients", [])
    if not received:
        return []
    return list(_active_members(meeting).filter(user_id__in=received))


def _notify(meeting: Meeting, *, template: str, method: str, key_prefix: str, context: dict[str, Any]) -> None:
    holders = _calendar_holders(meeting)
    if not holders:
        return
    mail_send(
        template=template,
        recipients=[Address.for_user(m.user) for m in holders],
        context={
            "meeting": meeting,
            "alliance": meeting.alliance,
            "meeting_url": absolute_url(meeting.get_absolute_url()),
            "facilitator_name": _name(meeting.facilitator),
            **context,
        },
        scope=meeting.alliance.mail_scope,
        reply_to=_reply_to(meeting),
        key=f"{key_prefix}:{meeting.pk}:{meeting.sequence}",
        attachments_for=lambda address: calendar.invitation_files(meeting=meeting, method=method, attendee=address),
    )


@transaction.atomic
def meeting_notify_rescheduled(*, meeting: Meeting) -> None:
    """Send everyone who got the agenda an updated invitation: same UID, higher SEQUENCE, the new time or place.

    Called by `meeting_reschedule` inside its transaction, after it saved the change and raised the
    meeting's SEQUENCE (which it does even when nobody got the agenda yet, so that an agenda.ics
    downloaded before the change is replaced by one downloaded after it).
    """
    meeting = _lock(meeting)
    snapshot = meeting.agenda_sent_snapshot or {}
    was = parse_datetime(snapshot.get("calendar_starts_at") or "")
    _notify(
        meeting,
        template="meeting_rescheduled",
        method=calendar.REQUEST,
        key_prefix="meetings.rescheduled",
        context={"was": was if was != meeting.starts_at else None},
    )
    if snapshot.get("recipients"):
        # The time people's calendars now hold, for the next reschedule's "was".
        snapshot["calendar_starts_at"] = meeting.starts_at.isoformat()
        Meeting.objects.filter(pk=meeting.pk).update(agenda_sent_snapshot=snapshot)
        versions.bump(meeting.alliance_id)


@transaction.atomic
def meeting_notify_cancelled(*, meeting: Meeting) -> None:
    """Send everyone who got the agenda a cancellation whose calendar part (CANCEL) removes the event.

    Called by `meeting_cancel` inside its transaction, after it raised the SEQUENCE: same UID, higher
    SEQUENCE, STATUS:CANCELLED. Members who never got the agenda have no event to remove; the meeting
    page shows them the cancellation.
    """
    meeting = _lock(meeting)
    _notify(meeting, template="meeting_cancelled", method=calendar.CANCEL, key_prefix="meetings.cancelled", context={})


# --- The reminder to send it -------------------------------------------------------------------------------


def meetings_due_agenda_reminder(*, now: datetime) -> list[int]:
    """The meetings whose facilitator should be reminded now that their agenda has not been sent.

    Less than the alliance's `agenda_reminder_days` away, not cancelled, not started, agenda never sent,
    never reminded. The window is per alliance, so it is checked here on the few upcoming candidates
    rather than in SQL (duration arithmetic on a column differs between SQLite and PostgreSQL).
    """
    candidates = (
        Meeting.objects.upcoming(now)
        .filter(agenda_sent_at__isnull=True, agenda_reminder_sent_at__isnull=True, facilitator__isnull=False)
        .values_list("pk", "starts_at", "alliance__agenda_reminder_days")
    )
    return [pk for pk, starts_at, days in candidates if starts_at < now + timedelta(days=days)]


@transaction.atomic
def meeting_remind_agenda(*, meeting_id: int, now: datetime) -> bool:
    """Remind the facilitator that the agenda is not sent yet; true if this call sent the reminder.

    Claimed by a conditional UPDATE on `agenda_reminder_sent_at`: of two jobs that run at once (or a job
    that runs twice), one changes the row and sends; the other changes nothing and sends nothing.
    """
    meeting = Meeting.objects.select_related("alliance", "facilitator__user").filter(pk=meeting_id).first()
    if meeting is None or meeting.facilitator is None or not meeting.facilitator.is_active:
        return False
    window_end = now + timedelta(days=meeting.alliance.agenda_reminder_days)
    claimed = Meeting.objects.filter(
        pk=meeting.pk,
        status=Meeting.Status.SCHEDULED,
        starts_at__gt=now,
        starts_at__lt=window_end,
        agenda_sent_at__isnull=True,
        agenda_reminder_sent_at__isnull=True,
    ).update(agenda_reminder_sent_at=now)
    if claimed != 1:
        return False
    mail_send(
        template="agenda_reminder",
        recipients=[Address.for_user(meeting.facilitator.user)],
        context={
            "meeting": meeting,
            "alliance": meeting.alliance,
            "meeting_url": absolute_url(meeting.get_absolute_url()),
        },
        scope=meeting.alliance.mail_scope,
        key=f"meetings.agenda_reminder:{meeting.pk}",
    )
    return True
