"""Follow-up nudges: the owners of open to-dos are reminded, kindly and on time, and note takers followed up.

- **The to-dos digest.** Each to-do is named a few days before its due date (the alliance's
  `nudge_days_before`), on the day, and then every `nudge_overdue_every_days` while it is overdue. A person
  gets at most one such email a day, with all their to-dos that need it across their alliances, in their
  own morning (NUDGE_MORNING_HOUR, their time zone) and language. The days are counted in the reader's own
  calendar: the day their digest is for.
- **The follow-up digest.** Once a week, the note taker of each ended meeting that still has an open to-do
  hears which of its to-dos are done, open and overdue: one email for all their meetings.

Both are claimed by a `NudgeDigest` row, unique per person, kind and day, inserted in the transaction that
records the email (with the idempotency key `tasks.digest:<user>:<day>` or `tasks.followup:<user>:<monday>`):
a job that runs twice, or two workers at once, send each email once. Each chunk of people costs the same
few queries however many people and to-dos it holds (a person's email is rendered in Python, recorded by
`outbox.services.mail_send_each`).

Everyone can turn nudges off, from the profile or with the signed link in every nudge email, which the
`List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 8058 one-click) point to.
"""

import enum
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from accounts.models import User
from alliances.models import NUDGE_DAYS_BEFORE_MAX
from meetings.models import Meeting
from outbox.services import Address, Mail, absolute_url, mail_send_each
from tasks import links
from tasks.models import NudgeDigest, Todo
from tasks.services import today_for

UNSUBSCRIBE_SALT = "tasks.nudges-off"
ONE_CLICK = "List-Unsubscribe=One-Click"


class Reason(enum.StrEnum):
    """Why a to-do is in today's digest."""

    SOON = "soon"  # due in a few days
    TODAY = "today"
    OVERDUE = "overdue"


# --- Time --------------------------------------------------------------------------------------------


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def morning_day(time_zone: str, now: datetime) -> date | None:
    """The person's calendar day if it is their morning now (the digest's window), else None.

    The window is a few hours long (NUDGE_MORNING_HOURS), not one: an hourly job that runs late, or a
    zone half an hour off UTC, still finds everyone once; the claim keeps it to one email.
    """
    local = now.astimezone(zone_of(time_zone))
    start = settings.NUDGE_MORNING_HOUR
    return local.date() if start <= local.hour < start + settings.NUDGE_MORNING_HOURS else None


def reason_for(todo: Todo, today: date) -> Reason | None:
    """Whether `todo` (open) is due a nudge on `today`, and why, by its alliance's intervals."""
    days_left = (todo.due_on - today).days
    alliance = todo.alliance
    if days_left == 0:
        return Reason.TODAY
    if days_left > 0:
        return Reason.SOON if days_left == alliance.nudge_days_before else None
    return Reason.OVERDUE if -days_left % alliance.nudge_overdue_every_days == 0 else None


# --- Who -----------------------------------------------------------------------------------------------


def _nudged_people() -> QuerySet[User]:
    return User.objects.filter(is_active=True, nudges_enabled=True)


def _open_todos_of_members():
    """Open to-dos whose owner is still a member: a former member is no longer followed up."""
    return Todo.objects.open().filter(owner__is_active=True)


def digest_candidates(*, now: datetime) -> list[int]:
    """The people in their morning now, without today's digest, who own an open to-do that may need one.

    Three queries: the zones people live in, then the people, by pk. Whether a to-do needs a nudge today
    is decided per person by `todo_digests_send`, which may find it does not.
    """
    days: dict[date, list[str]] = defaultdict(list)
    for zone in _nudged_people().values_list("time_zone", flat=True).distinct().order_by():
        day = morning_day(zone, now)
        if day is not None:
            days[day].append(zone)
    if not days:
        return []
    in_morning = Q()
    for day, zones in days.items():
        sent = NudgeDigest.objects.filter(user=OuterRef("pk"), kind=NudgeDigest.Kind.TODOS, on_date=day)
        in_morning |= Q(~Exists(sent), time_zone__in=zones)
    latest_due = max(days) + timedelta(days=NUDGE_DAYS_BEFORE_MAX)
    owns = _open_todos_of_members().filter(owner__user=OuterRef("pk"), due_on__lte=latest_due)
    return list(_nudged_people().filter(in_morning, Exists(owns)).order_by("pk").values_list("pk", flat=True))


def chunks(ids: Sequence[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or settings.NUDGE_CHUNK_SIZE
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


# --- The unsubscribe link ------------------------------------------------------------------------------


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User) -> str:
    return absolute_url(reverse("tasks:nudges_unsubscribe", kwargs={"token": unsubscribe_token(user)}))


def user_for_unsubscribe(token: str) -> tuple[User | None, bool]:
    """The person a link turns nudges off for, and whether it expired (then the person is None)."""
    max_age = settings.NUDGE_UNSUBSCRIBE_MAX_AGE_DAYS * 24 * 60 * 60
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return None, True
    except signing.BadSignature:
        return None, False
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None, False
    return User.objects.filter(pk=payload["u"], is_active=True).first(), False


@transaction.atomic
def nudges_turn_off(*, user: User) -> User:
    """Stop every nudge email to `user` (the profile turns them on again); doing it twice changes nothing."""
    User.objects.filter(pk=user.pk).update(nudges_enabled=False)
    user.nudges_enabled = False
    return user


def unsubscribe_headers(user: User) -> dict[str, str]:
    """RFC 8058: the link to POST to, and the word that says a POST there needs no other step."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(user)}>", "List-Unsubscribe-Post": ONE_CLICK}


# --- Claiming and recording ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """One person's email to record, if they are still due it when claimed."""

    user: User
    on_date: date
    key: str
    context: dict
    todos: dict[str, str]


def _claim_and_record(kind: str, template: str, digests: Iterable[Digest]) -> int:
    """Insert the claims, keep the ones this call made, record their emails: in one transaction."""
    digests = list(digests)
    if not digests:
        return 0
    token = uuid.uuid4()
    with transaction.atomic():
        # On PostgreSQL an insert that meets another transaction's uncommitted row of the same person and
        # day waits for it, then inserts nothing if it committed: the claim goes to one job only.
        NudgeDigest.objects.bulk_create(
            [NudgeDigest(user=d.user, kind=kind, on_date=d.on_date, claim=token, todos=d.todos) for d in digests],
            ignore_conflicts=True,
        )
        mine = set(NudgeDigest.objects.filter(claim=token).values_list("user_id", flat=True))
        mails = [
            Mail(
                template=template,
                recipient=Address.for_user(d.user),
                context=d.context,
                key=d.key,
                headers=unsubscribe_headers(d.user),
            )
            for d in digests
            if d.user.pk in mine
        ]
        return len(mail_send_each(mails=mails))


def _urls(user: User) -> dict[str, str]:
    return {
        "unsubscribe_url": unsubscribe_url(user),
        "profile_url": absolute_url(reverse("accounts:profile")),
        "my_todos_url": absolute_url(reverse("tasks:my_todos")),
    }


def _todo_url(todo: Todo) -> str:
    return absolute_url(reverse("tasks:todo_detail", kwargs={"slug": todo.alliance.slug, "pk": todo.pk}))


# --- The to-dos digest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    todo: Todo
    reason: Reason
    days: int  # until the due date (soon), or since it (overdue)
    done_url: str
    url: str


REASON_ORDER = {Reason.OVERDUE: 0, Reason.TODAY: 1, Reason.SOON: 2}


def todo_digests_send(*, user_ids: Sequence[int], now: datetime) -> int:
    """Record the to-dos digest of each of these people who is due one now; return how many were recorded.

    For each person in their morning, without today's digest, with a to-do that needs a nudge today.
    A constant number of queries for the whole chunk: the people, their open to-dos (with alliance and
    owner), then the claims and the emails.
    """
    people = {}
    for user in _nudged_people().filter(pk__in=user_ids):
        day = morning_day(user.time_zone, now)
        if day is not None:
            people[user.pk] = (user, day)
    if not people:
        return 0
    latest_due = max(day for _, day in people.values()) + timedelta(days=NUDGE_DAYS_BEFORE_MAX)
    todos = (
        _open_todos_of_members()
        .filter(owner__user__in=list(people), due_on__lte=latest_due)
        .select_related("alliance", "owner")
        .order_by("due_on", "pk")
    )
    items: dict[int, list[DigestItem]] = defaultdict(list)
    for todo in todos:
        user_id = todo.owner.user_id
        reason = reason_for(todo, people[user_id][1])
        if reason is not None:
            days = abs((todo.due_on - people[user_id][1]).days)
            items[user_id].append(DigestItem(todo, reason, days, links.done_link(todo), _todo_url(todo)))
    digests = []
    for user_id, own in items.items():
        user, day = people[user_id]
        own.sort(key=lambda item: (REASON_ORDER[item.reason], item.todo.due_on, item.todo.pk))
        digests.append(
            Digest(
                user=user,
                on_date=day,
                key=f"tasks.digest:{user.pk}:{day.isoformat()}",
                context={"items": own, "day": day, **_urls(user)},
                todos={str(item.todo.pk): item.reason.value for item in own},
            )
        )
    return _claim_and_record(NudgeDigest.Kind.TODOS, "todo_digest", digests)


# --- The note taker's follow-up digest -----------------------------------------------------------------


def week_of(now: datetime) -> date:
    """The Monday (UTC) of the week a follow-up digest is for."""
    today = now.astimezone(zoneinfo.ZoneInfo("UTC")).date()
    return today - timedelta(days=today.weekday())


def _followed_meetings():
    """Ended meetings with an open to-do, whose note taker is still a member and wants nudges."""
    return Meeting.objects.filter(
        Exists(_open_todos_of_members().filter(meeting=OuterRef("pk"))),
        status=Meeting.Status.ENDED,
        note_taker__is_active=True,
        note_taker__user__is_active=True,
        note_taker__user__nudges_enabled=True,
    )


def followup_candidates(*, now: datetime) -> list[int]:
    """The note takers due this week's follow-up digest (one query)."""
    sent = NudgeDigest.objects.filter(user=OuterRef("pk"), kind=NudgeDigest.Kind.FOLLOWUP, on_date=week_of(now))
    noted = _followed_meetings().filter(note_taker__user=OuterRef("pk"))
    return list(User.objects.filter(Exists(noted), ~Exists(sent)).order_by("pk").values_list("pk", flat=True))


@dataclass(frozen=True)
class FollowupMeeting:
    meeting: Meeting
    done: list[Todo]
    overdue: list[Todo]
    open: list[Todo]
    dropped: list[Todo]
    url: str


def followup_digests_send(*, user_ids: Sequence[int], now: datetime) -> int:
    """Record this week's follow-up digest of each of these note takers; return how many were recorded.

    Three reads for the whole chunk (the meetings, their to-dos with owners, and the claims), then the
    emails. Overdue is counted in each alliance's own day, as the to-do pages count it.
    """
    week = week_of(now)
    meetings = list(
        _followed_meetings()
        .filter(note_taker__user__in=list(user_ids))
        .select_related("alliance", "note_taker__user")
        .order_by("starts_at", "pk")
    )
    if not meetings:
        return 0
    by_meeting: dict[int, list[Todo]] = defaultdict(list)
    for todo in Todo.objects.filter(meeting__in=meetings).select_related("owner__user").order_by("due_on", "pk"):
        by_meeting[todo.meeting_id].append(todo)
    per_user: dict[int, list[FollowupMeeting]] = defaultdict(list)
    users: dict[int, User] = {}
    for meeting in meetings:
        user = meeting.note_taker.user
        users[user.pk] = user
        today = today_for(meeting.alliance, now)
        todos = by_meeting[meeting.pk]
        per_user[user.pk].append(
            FollowupMeeting(
                meeting=meeting,
                done=[t for t in todos if t.status == Todo.Status.DONE],
                overdue=[t for t in todos if t.is_overdue(today)],
                open=[t for t in todos if t.is_open and not t.is_overdue(today)],
                dropped=[t for t in todos if t.status == Todo.Status.DROPPED],
                url=absolute_url(meeting.get_absolute_url()),
            )
        )
    digests = [
        Digest(
            user=users[user_id],
            on_date=week,
            key=f"tasks.followup:{user_id}:{week.isoformat()}",
            context={"meetings": followed, **_urls(users[user_id])},
            todos={str(t.pk): t.status for f in followed for t in (*f.done, *f.overdue, *f.open, *f.dropped)},
        )
        for user_id, followed in per_user.items()
    ]
    return _claim_and_record(NudgeDigest.Kind.FOLLOWUP, "followup_digest", digests)
