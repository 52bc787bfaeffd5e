"""The daily reminder to send the agenda: once per meeting, never twice, only when it is due."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from alliances.tests.helpers import membership_of
from meetings import jobs, sending
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory
from meetings.tests.sending_helpers import STARTS_AT, facilitator_of

pytestmark = pytest.mark.django_db

# Two days and a few hours before the meeting (alliance default: remind 3 days before).
TWO_DAYS_BEFORE = STARTS_AT - timedelta(days=2, hours=3)


@pytest.fixture
def meeting(alliance, member_user) -> Meeting:
    fran = facilitator_of(alliance)
    return MeetingFactory(
        alliance=alliance, starts_at=STARTS_AT, facilitator=fran, note_taker=membership_of(alliance, member_user)
    )


def _run_daily_job(capture, at: datetime) -> int:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return jobs.remind_unsent_agendas()


def test_the_facilitator_is_reminded_once_even_if_the_job_runs_twice(
    meeting, django_capture_on_commit_callbacks, mailoutbox
):
    assert _run_daily_job(django_capture_on_commit_callbacks, TWO_DAYS_BEFORE) == 1
    assert _run_daily_job(django_capture_on_commit_callbacks, TWO_DAYS_BEFORE) == 0
    assert _run_daily_job(django_capture_on_commit_callbacks, TWO_DAYS_BEFORE + timedelta(days=1)) == 0

    [email] = mailoutbox
    assert email.to == ["Fran Facilitator <fran@example.org>"]
    assert email.subject == "[Barrio Readers] The agenda of the meeting of March 10, 2027 is not sent yet"
    assert f"http://testserver/alliances/barrio-readers/meetings/{meeting.pk}/" in email.body
    meeting.refresh_from_db()
    assert meeting.agenda_reminder_sent_at == TWO_DAYS_BEFORE


def test_two_jobs_for_the_same_meeting_send_one_reminder(meeting, django_capture_on_commit_callbacks, mailoutbox):
    with time_machine.travel(TWO_DAYS_BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert jobs.remind_agenda(meeting.pk) is True
        assert jobs.remind_agenda(meeting.pk) is False
    assert len(mailoutbox) == 1


def test_no_reminder_before_the_alliances_window(meeting, alliance, django_capture_on_commit_callbacks, mailoutbox):
    four_days_before = STARTS_AT - timedelta(days=4)
    assert _run_daily_job(django_capture_on_commit_callbacks, four_days_before) == 0
    # Directly, too: the service checks the window itself.
    with time_machine.travel(four_days_before, tick=False):
        assert sending.meeting_remind_agenda(meeting_id=meeting.pk, now=four_days_before) is False

    alliance.agenda_reminder_days = 7
    alliance.save(update_fields=["agenda_reminder_days"])
    assert _run_daily_job(django_capture_on_commit_callbacks, four_days_before) == 1
    assert len(mailoutbox) == 1


def test_no_reminder_for_a_sent_agenda(meeting, django_capture_on_commit_callbacks, mailoutbox):
    with time_machine.travel(TWO_DAYS_BEFORE - timedelta(days=1), tick=False):
        sending.meeting_send_agenda(meeting=meeting, sent_by=meeting.facilitator)
    mailoutbox.clear()

    assert _run_daily_job(django_capture_on_commit_callbacks, TWO_DAYS_BEFORE) == 0
    assert mailoutbox == []


@pytest.mark.parametrize(
    "change",
    [
        {"status": Meeting.Status.CANCELLED},
        {"starts_at": TWO_DAYS_BEFORE - timedelta(hours=1)},  # already past
        {"facilitator": None},
    ],
    ids=["cancelled", "past", "no facilitator"],
)
def test_no_reminder_for_a_cancelled_or_past_meeting_or_one_without_facilitator(
    meeting, change, django_capture_on_commit_callbacks, mailoutbox
):
    Meeting.objects.filter(pk=meeting.pk).update(**change)

    assert _run_daily_job(django_capture_on_commit_callbacks, TWO_DAYS_BEFORE) == 0
    with time_machine.travel(TWO_DAYS_BEFORE, tick=False):
        assert sending.meeting_remind_agenda(meeting_id=meeting.pk, now=TWO_DAYS_BEFORE) is False
    assert mailoutbox == []


def test_a_meeting_that_is_gone_gets_nothing(meeting, django_capture_on_commit_callbacks, mailoutbox):
    pk = meeting.pk
    meeting.delete()
    with time_machine.travel(TWO_DAYS_BEFORE, tick=False):
        assert jobs.remind_agenda(pk) is False
    assert mailoutbox == []


def test_the_reminder_runs_daily_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["meetings-agenda-reminders"]
    assert entry["task"] == jobs.remind_unsent_agendas.name
    # Once a day, at 07:00 UTC.
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({7}, {0})
