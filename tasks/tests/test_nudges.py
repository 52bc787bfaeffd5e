"""Follow-up nudges: the daily to-dos digest in each person's morning, the note taker's weekly follow-up,
and the one-click way to stop them (tasks/nudges.py, tasks/jobs.py)."""

import threading
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr

import pytest
import time_machine
from django.core import signing
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory
from outbox.models import Delivery, Message
from roundtable.celery import app as celery_app
from tasks import jobs, links, nudges
from tasks.models import NudgeDigest, Todo
from tasks.tests.factories import TodoFactory

pytestmark = pytest.mark.django_db

# A Tuesday in winter: Madrid is UTC+1, Mexico City UTC-6 (no daylight saving there since 2022).
DAY = date(2027, 1, 12)
MADRID_MORNING = datetime(2027, 1, 12, 7, 5, tzinfo=UTC)  # 08:05 in Madrid, 01:05 in Mexico City
MEXICO_MORNING = datetime(2027, 1, 12, 14, 5, tzinfo=UTC)  # 08:05 in Mexico City, 15:05 in Madrid


@pytest.fixture
def alliance_es(db) -> Alliance:
    return AllianceFactory(name="Lectores del Barrio", slug="lectores", time_zone="Europe/Madrid")


def person(alliance: Alliance, *, zone: str = "UTC", language: str = "en", name: str = "") -> Member:
    return MemberFactory(alliance=alliance, user__time_zone=zone, user__language=language, user__display_name=name)


def run_job(moment: datetime, capture) -> None:
    """The hourly beat job at `moment`, its chunk jobs inline (eager), and the send jobs after commit."""
    with time_machine.travel(moment, tick=False), capture(execute=True):
        jobs.send_todo_digests()


def emails_to(mailbox, user) -> list:
    return [email for email in mailbox if parseaddr(email.to[0])[1] == user.email]


# --- In each person's own morning, once ---------------------------------------------------------------


def test_madrid_and_mexico_city_each_get_one_digest_in_their_own_morning(
    alliance_es, django_capture_on_commit_callbacks, mailoutbox
):
    ana = person(alliance_es, zone="Europe/Madrid", language="es", name="Ana")
    luis = person(alliance_es, zone="America/Mexico_City", name="Luis")
    TodoFactory(alliance=alliance_es, owner=ana, text="Reservar la sala", due_on=DAY)
    TodoFactory(alliance=alliance_es, owner=luis, text="Call the library", due_on=DAY)

    received: dict[str, list[int]] = {"ana": [], "luis": []}
    for hour in range(24):  # the beat job, every hour of the day (UTC), at five past
        before = {"ana": len(emails_to(mailoutbox, ana.user)), "luis": len(emails_to(mailoutbox, luis.user))}
        run_job(datetime(2027, 1, 12, hour, 5, tzinfo=UTC), django_capture_on_commit_callbacks)
        for name, member in (("ana", ana), ("luis", luis)):
            if len(emails_to(mailoutbox, member.user)) > before[name]:
                received[name].append(hour)

    # 08:05 in Madrid is 07:05 UTC; 08:05 in Mexico City is 14:05 UTC. Once each, whatever the later runs.
    assert received == {"ana": [7], "luis": [14]}
    [ana_email] = emails_to(mailoutbox, ana.user)
    assert "Reservar la sala" in ana_email.body
    assert "Call the library" not in ana_email.body
    assert Delivery.objects.get(recipient=ana.user).language == "es"
    assert 'lang="es"' in ana_email.alternatives[0].content
    assert NudgeDigest.objects.filter(kind=NudgeDigest.Kind.TODOS).count() == 2


def test_someone_whose_stored_zone_is_unknown_gets_the_digest_in_the_utc_morning(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    member = person(alliance, zone="Atlantis/Capital")  # saved before zones were checked, or since removed
    TodoFactory(alliance=alliance, owner=member, due_on=DAY)

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)  # 07:05 UTC: not yet
    assert mailoutbox == []
    run_job(datetime(2027, 1, 12, 8, 5, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1


def test_the_digest_names_every_to_do_due_across_alliances_each_with_its_one_click_link(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    other = AllianceFactory(name="Parents United")
    member = person(alliance, zone="Europe/Madrid", name="Mia")
    elsewhere = MemberFactory(alliance=other, user=member.user)
    due_today = TodoFactory(alliance=alliance, owner=member, text="Print the flyers", due_on=DAY)
    overdue = TodoFactory(alliance=other, owner=elsewhere, text="Email the principal", due_on=DAY - timedelta(days=3))
    soon = TodoFactory(alliance=alliance, owner=member, text="Book the hall", due_on=DAY + timedelta(days=3))
    TodoFactory(alliance=alliance, owner=member, text="Not yet", due_on=DAY + timedelta(days=5))

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)

    [email] = mailoutbox
    assert email.subject == "3 of your to-dos need you"
    body = email.body
    # Overdue first, then due today, then soon; each with the page that marks it done.
    assert body.index("Email the principal") < body.index("Print the flyers") < body.index("Book the hall")
    assert "Not yet" not in body
    for reason in ("overdue by 3 days", "due today", "due in 3 days", "Parents United", alliance.name):
        assert reason in body
    for todo in (due_today, overdue, soon):
        check = links.check_link(_done_token_in(body, todo))
        assert (check.todo, check.problem) == (todo, None)
    html = email.alternatives[0].content
    assert "Email the principal" in html
    assert "Stop these emails" in html


def _done_token_in(body: str, todo: Todo) -> str:
    prefix = "http://testserver/todos/done/"
    tokens = [line.split(prefix, 1)[1].rstrip("/") for line in body.splitlines() if prefix in line]
    [token] = [t for t in tokens if links.check_link(t).todo == todo]
    return token


def test_quiet_when_nothing_is_due(alliance, django_capture_on_commit_callbacks, mailoutbox):
    member = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=member, due_on=DAY + timedelta(days=2))  # reminded tomorrow, not today
    TodoFactory(alliance=alliance, owner=member, due_on=DAY - timedelta(days=1))  # next reminder in two days
    done = TodoFactory(alliance=alliance, owner=member, due_on=DAY)
    Todo.objects.filter(pk=done.pk).update(status=Todo.Status.DONE, done_at=MADRID_MORNING)
    TodoFactory(alliance=alliance, owner=member, due_on=DAY, status=Todo.Status.DROPPED, drop_reason="No longer needed")

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)

    assert mailoutbox == []
    assert not NudgeDigest.objects.exists()
    assert not Message.objects.exists()


def test_a_former_member_and_an_inactive_account_are_not_nudged(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    left = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=left, due_on=DAY)
    Member.objects.filter(pk=left.pk).update(is_active=False)
    closed = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=closed, due_on=DAY)
    type(closed.user).objects.filter(pk=closed.user.pk).update(is_active=False)

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)

    assert mailoutbox == []


def test_the_job_run_twice_sends_each_digest_once(alliance, django_capture_on_commit_callbacks, mailoutbox):
    member = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=member, due_on=DAY)

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)
    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)
    # A chunk job enqueued before the first one ran, delivered again by the broker: still nothing more.
    later = MADRID_MORNING + timedelta(hours=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert jobs.send_todo_digest_chunk([member.user.pk]) == 0

    assert len(mailoutbox) == 1
    digest = NudgeDigest.objects.get()
    assert (digest.user, digest.on_date) == (member.user, DAY)
    assert Message.objects.get().key == f"tasks.digest:{member.user.pk}:2027-01-12"


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_job_at_once_send_each_digest_once(postgresql, monkeypatch, mailoutbox):
    alliance = AllianceFactory()
    members = [person(alliance, zone=zone) for zone in ("Europe/Madrid", "Europe/Madrid", "Africa/Lagos")]
    for member in members:
        TodoFactory.create_batch(2, alliance=alliance, owner=member, due_on=DAY)
    # Both jobs find the same three people, and claim them at the same moment: neither has committed
    # when the other starts its claim, so the unique row (and nothing else) decides who sends.
    barrier = threading.Barrier(2)
    claim = nudges._claim_and_record
    recorded: list[int] = []

    def claim_together(*args, **kwargs) -> int:
        barrier.wait(timeout=10)
        count = claim(*args, **kwargs)
        recorded.append(count)
        return count

    monkeypatch.setattr(nudges, "_claim_and_record", claim_together)
    errors: list[Exception] = []
    # Celery binds a task class on first use, and two threads binding it at once may see it half bound
    # (its request stack not set yet): bind the three jobs here first, as a worker process does at start.
    for task in (jobs.send_todo_digests, jobs.send_todo_digest_chunk, celery_app.tasks["outbox.jobs.send_message"]):
        assert task.request_stack is not None

    def worker() -> None:
        try:
            jobs.send_todo_digests()
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    with time_machine.travel(MADRID_MORNING, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert sorted(recorded) == [0, 3]
    assert NudgeDigest.objects.count() == 3
    assert sorted(Delivery.objects.values_list("recipient_id", flat=True)) == sorted(m.user_id for m in members)
    assert sorted(parseaddr(e.to[0])[1] for e in mailoutbox) == sorted(m.user.email for m in members)


# --- When each to-do is named ----------------------------------------------------------------------------


def nudge_days(member: Member, todo: Todo, days: range, capture, mailbox) -> list[int]:
    """The days (relative to the due date) on which the digest named `todo`, over a run of mornings."""
    named = []
    for offset in days:
        moment = datetime.combine(todo.due_on + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
        before = len(mailbox)
        run_job(moment.replace(hour=9, minute=5), capture)  # 09:05 UTC, the morning in UTC
        if len(mailbox) > before and todo.text in mailbox[-1].body:
            named.append(offset)
    return named


def test_a_reminder_before_the_due_date_one_on_the_day_then_every_three_days_while_overdue(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    member = person(alliance)
    todo = TodoFactory(alliance=alliance, owner=member, text="Write the grant report", due_on=DAY)

    named = nudge_days(member, todo, range(-6, 11), django_capture_on_commit_callbacks, mailoutbox)

    assert named == [-3, 0, 3, 6, 9]


def test_the_alliances_own_intervals_set_when_and_how_often(alliance, django_capture_on_commit_callbacks, mailoutbox):
    alliance.nudge_days_before, alliance.nudge_overdue_every_days = 1, 2
    alliance.save()
    member = person(alliance)
    todo = TodoFactory(alliance=alliance, owner=member, text="Call the mayor", due_on=DAY)

    named = nudge_days(member, todo, range(-3, 6), django_capture_on_commit_callbacks, mailoutbox)

    assert named == [-1, 0, 2, 4]


def test_no_reminder_before_the_due_date_when_the_alliance_sets_none(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    alliance.nudge_days_before = 0
    alliance.save()
    member = person(alliance)
    todo = TodoFactory(alliance=alliance, owner=member, text="Order chairs", due_on=DAY)

    assert nudge_days(member, todo, range(-4, 1), django_capture_on_commit_callbacks, mailoutbox) == [0]


def test_a_to_do_marked_done_is_named_no_more(alliance, django_capture_on_commit_callbacks, mailoutbox):
    member = person(alliance)
    todo = TodoFactory(alliance=alliance, owner=member, text="Send the photos", due_on=DAY)
    assert nudge_days(member, todo, range(0, 1), django_capture_on_commit_callbacks, mailoutbox) == [0]
    Todo.objects.filter(pk=todo.pk).update(status=Todo.Status.DONE, done_at=MADRID_MORNING)

    assert nudge_days(member, todo, range(1, 10), django_capture_on_commit_callbacks, mailoutbox) == []


def test_a_steward_sets_the_intervals_on_the_logistics_form(client, alliance, steward_user):
    client.force_login(steward_user)
    url = reverse("alliances:charter_logistics_edit", kwargs={"slug": alliance.slug})
    page = client.get(url)
    assert 'name="nudge_days_before"' in page.content.decode()

    values = {"time_zone": "UTC", "language": "en", "nudge_days_before": "5", "nudge_overdue_every_days": "7"}
    assert client.post(url, values).status_code == 302
    alliance.refresh_from_db()
    assert (alliance.nudge_days_before, alliance.nudge_overdue_every_days) == (5, 7)
    # A post from a page without these fields keeps them.
    assert client.post(url, {"time_zone": "UTC", "language": "en"}).status_code == 302
    alliance.refresh_from_db()
    assert (alliance.nudge_days_before, alliance.nudge_overdue_every_days) == (5, 7)
    # Every so many days means at least one.
    response = client.post(url, {**values, "nudge_overdue_every_days": "0"})
    assert response.status_code == 200
    alliance.refresh_from_db()
    assert alliance.nudge_overdue_every_days == 7


# --- A constant number of queries per chunk ------------------------------------------------------------------


def _people_with_todos(alliance: Alliance, people: int, todos_each: int) -> list[int]:
    ids = []
    for _ in range(people):
        member = person(alliance, zone="Europe/Madrid")
        TodoFactory.create_batch(todos_each, alliance=alliance, owner=member, due_on=DAY)
        ids.append(member.user_id)
    return ids


def test_a_chunk_costs_the_same_queries_for_two_people_as_for_twelve_with_five_to_dos_each(
    alliance, django_assert_max_num_queries
):
    small = _people_with_todos(alliance, 2, 1)
    large = _people_with_todos(alliance, 12, 5)

    counts = []
    for user_ids in (small, large):
        # The people, their to-dos; a savepoint, the claims, which are ours; the outbox's three and savepoint.
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(11):
            sent = nudges.todo_digests_send(user_ids=user_ids, now=MADRID_MORNING)
        assert sent == len(user_ids)
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert Delivery.objects.count() == 14


def test_finding_the_people_due_a_digest_costs_a_few_queries_however_many(alliance, django_assert_max_num_queries):
    _people_with_todos(alliance, 3, 2)
    with django_assert_max_num_queries(2):
        assert len(nudges.digest_candidates(now=MADRID_MORNING)) == 3
    _people_with_todos(alliance, 15, 3)
    with django_assert_max_num_queries(2):
        assert len(nudges.digest_candidates(now=MADRID_MORNING)) == 18


def test_the_job_fans_out_one_chunk_job_per_chunk(settings, alliance, django_capture_on_commit_callbacks, mailoutbox):
    settings.NUDGE_CHUNK_SIZE = 4
    _people_with_todos(alliance, 10, 1)

    with time_machine.travel(MADRID_MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert jobs.send_todo_digests() == 3

    assert len(mailoutbox) == 10


# --- Turning them off -------------------------------------------------------------------------------------


def test_someone_who_turned_nudges_off_gets_no_digest(alliance, django_capture_on_commit_callbacks, mailoutbox):
    member = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=member, due_on=DAY)
    type(member.user).objects.filter(pk=member.user.pk).update(nudges_enabled=False)

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)

    assert mailoutbox == []


def test_every_digest_carries_the_one_click_unsubscribe_headers_and_link(
    alliance, django_capture_on_commit_callbacks, mailoutbox
):
    member = person(alliance, zone="Europe/Madrid")
    TodoFactory(alliance=alliance, owner=member, due_on=DAY)

    run_job(MADRID_MORNING, django_capture_on_commit_callbacks)

    [email] = mailoutbox
    mime = email.message()
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = mime["List-Unsubscribe"]
    assert header.startswith("<http://testserver/unsubscribe/")
    assert header.endswith("/>")
    url = header[1:-1]
    assert url in email.body
    assert url in email.alternatives[0].content
    user, expired = nudges.user_for_unsubscribe(url.rstrip("/").rsplit("/", 1)[1])
    assert (user, expired) == (member.user, False)


@pytest.fixture
def unsubscribe_url(member_user) -> str:
    return reverse("tasks:nudges_unsubscribe", kwargs={"token": nudges.unsubscribe_token(member_user)})


def test_opening_the_unsubscribe_link_changes_nothing_and_shows_one_button(client, member_user, unsubscribe_url):
    response = client.get(unsubscribe_url)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop these emails" in page
    assert member_user.email in page
    assert '<form method="post">' in page
    assert client.head(unsubscribe_url).status_code == 200  # a mail scanner's HEAD, too
    assert client.put(unsubscribe_url).status_code == 405
    member_user.refresh_from_db()
    assert member_user.nudges_enabled


def test_the_one_click_post_of_a_mail_provider_turns_nudges_off_without_a_csrf_token(member_user, unsubscribe_url):
    # What RFC 8058 says a provider sends: no cookie, no CSRF token, this one field.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        unsubscribe_url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "The reminder emails are off" in response.content.decode()
    member_user.refresh_from_db()
    assert not member_user.nudges_enabled
    # A second POST (a provider that retries) changes nothing more.
    assert provider.post(unsubscribe_url).status_code == 200


def test_other_views_still_require_a_csrf_token(member_user, alliance):
    provider = Client(enforce_csrf_checks=True)
    provider.force_login(member_user)
    assert provider.post(reverse("accounts:profile"), {}).status_code == 403


def test_a_changed_or_expired_unsubscribe_link_changes_nothing(client, member_user, unsubscribe_url):
    token = nudges.unsubscribe_token(member_user)
    changed = reverse("tasks:nudges_unsubscribe", kwargs={"token": token[:-2] + "xx"})
    assert client.post(changed).status_code == 400
    forged = signing.dumps({"u": member_user.pk}, salt="tasks.todo-done")  # another purpose's signature
    assert client.post(reverse("tasks:nudges_unsubscribe", kwargs={"token": forged})).status_code == 400
    with time_machine.travel(datetime.now(UTC) + timedelta(days=400)):
        response = client.post(unsubscribe_url)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    member_user.refresh_from_db()
    assert member_user.nudges_enabled


def test_the_profile_turns_nudges_off_and_on_and_shows_the_choice(client, member_user, unsubscribe_url):
    client.force_login(member_user)
    url = reverse("accounts:profile")
    form = {"display_name": member_user.display_name, "language": "en", "time_zone": "UTC"}
    assert "checked" in _nudges_box(client.get(url).content.decode())

    client.post(url, form)  # the box left unticked
    member_user.refresh_from_db()
    assert not member_user.nudges_enabled
    client.post(url, {**form, "nudges_enabled": "on"})
    member_user.refresh_from_db()
    assert member_user.nudges_enabled

    # Turned off by the link: the profile (kept by the page cache) shows it at once.
    client.post(unsubscribe_url)
    assert "checked" not in _nudges_box(client.get(url).content.decode())


def _nudges_box(page: str) -> str:
    start = page.index('name="nudges_enabled"')
    return page[page.rindex("<input", 0, start) : page.index(">", start)]


def test_the_language_switch_keeps_the_nudges_choice(client, member_user):
    type(member_user).objects.filter(pk=member_user.pk).update(nudges_enabled=False)
    client.force_login(member_user)
    client.post(reverse("accounts:language_set"), {"language": "es"})
    member_user.refresh_from_db()
    assert (member_user.language, member_user.nudges_enabled) == ("es", False)


# --- The note taker's weekly follow-up -------------------------------------------------------------------


MONDAY = datetime(2027, 1, 18, 7, 30, tzinfo=UTC)


@pytest.fixture
def followed_meeting(alliance) -> Meeting:
    note_taker = person(alliance, name="Nora Notes")
    meeting = MeetingFactory(
        alliance=alliance,
        starts_at=datetime(2027, 1, 5, 18, 0, tzinfo=UTC),
        status=Meeting.Status.ENDED,
        note_taker=note_taker,
    )
    owner = person(alliance, name="Omar Owner")
    done = TodoFactory(alliance=alliance, meeting=meeting, owner=owner, text="Send the minutes", due_on=DAY)
    Todo.objects.filter(pk=done.pk).update(status=Todo.Status.DONE, done_at=MONDAY)
    TodoFactory(alliance=alliance, meeting=meeting, owner=owner, text="Fix the projector", due_on=DAY)
    return meeting


def run_followup(moment: datetime, capture) -> None:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        jobs.send_followup_digests()


def test_the_note_taker_hears_which_to_dos_are_done_and_which_overdue(
    followed_meeting, django_capture_on_commit_callbacks, mailoutbox
):
    run_followup(MONDAY, django_capture_on_commit_callbacks)

    [email] = mailoutbox
    assert parseaddr(email.to[0])[1] == followed_meeting.note_taker.user.email
    body = email.body
    overdue, done = body.index("Overdue:"), body.index("Done:")
    assert overdue < body.index("Fix the projector") < done < body.index("Send the minutes")
    assert "Omar Owner" in body
    assert "Open:" not in body
    html = email.alternatives[0].content
    assert "Fix the projector" in html
    assert "Send the minutes" in html
    assert email.message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_follow_up_goes_once_a_week(followed_meeting, django_capture_on_commit_callbacks, mailoutbox):
    run_followup(MONDAY, django_capture_on_commit_callbacks)
    run_followup(MONDAY + timedelta(hours=2), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    run_followup(MONDAY + timedelta(days=7), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    assert Message.objects.filter(key__startswith="tasks.followup:").count() == 2


def test_no_follow_up_once_every_to_do_is_closed_or_for_a_note_taker_who_opted_out(
    followed_meeting, django_capture_on_commit_callbacks, mailoutbox
):
    note_taker = followed_meeting.note_taker.user
    type(note_taker).objects.filter(pk=note_taker.pk).update(nudges_enabled=False)
    run_followup(MONDAY, django_capture_on_commit_callbacks)
    type(note_taker).objects.filter(pk=note_taker.pk).update(nudges_enabled=True)
    Todo.objects.filter(meeting=followed_meeting, status=Todo.Status.OPEN).update(
        status=Todo.Status.DONE, done_at=MONDAY
    )
    run_followup(MONDAY, django_capture_on_commit_callbacks)

    assert mailoutbox == []


def test_a_follow_up_chunk_costs_the_same_queries_for_one_meeting_as_for_six(alliance):
    def note_takers(count: int) -> list[int]:
        ids = []
        for _ in range(count):
            meeting = MeetingFactory(
                alliance=alliance, starts_at=MONDAY - timedelta(days=10), status=Meeting.Status.ENDED
            )
            meeting.note_taker = person(alliance)
            meeting.save()
            TodoFactory.create_batch(3, alliance=alliance, meeting=meeting, due_on=DAY)
            ids.append(meeting.note_taker.user_id)
        return ids

    counts = []
    for user_ids in (note_takers(1), note_takers(6)):
        with CaptureQueriesContext(connection) as queries:
            assert nudges.followup_digests_send(user_ids=user_ids, now=MONDAY) == len(user_ids)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
