"""The notes of a meeting: what they hold, sending them once, finality and amendments, reminders, export."""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliances import services as alliance_services
from alliances.models import Member
from alliances.tests.factories import MemberFactory
from meetings import agenda, consensus, jobs, next_meeting, notes, round_robins, run, services, steps, texts
from meetings.models import Meeting, NoteAmendment, Stance
from meetings.services import MeetingError
from meetings.tests.run_helpers import T0, Table, go_to, round_table, start
from meetings.tests.sending_helpers import calendar_part, email_to, event_of
from outbox import services as outbox_services
from outbox.models import Delivery
from tasks import services as todos
from tasks.models import Todo

pytestmark = pytest.mark.django_db

ENDED = T0 + timedelta(minutes=90)


@dataclass
class Held:
    table: Table
    meeting: Meeting
    following: Meeting

    @property
    def ann(self) -> Member:
        return self.table.others[0]

    @property
    def ben(self) -> Member:  # sent apologies: excused
        return self.table.others[1]

    @property
    def cy(self) -> Member:  # did not come: absent
        return self.table.others[2]

    def others_member(self, n: int) -> Member:
        return self.table.others[n % len(self.table.others)]


def _hold(alliance) -> Held:
    """A meeting held through the real services: an apology, an absence, a round robin with a pass, a
    discussion, a decision with a stand-aside, two to-dos, the next meeting, takeaways with ratings."""
    table = round_table(alliance)
    for member, email in ((table.note_taker, "nat@example.org"), (table.others[2], "cy@example.org")):
        member.user.email = email
        member.user.save(update_fields=["email"])
    services.apology_send(meeting=table.meeting, member=table.others[1], now=T0 - timedelta(days=1))
    present = [table.steward, table.facilitator, table.note_taker, table.others[0]]
    start(table, present=present)
    ann, cy = table.others[0], table.others[2]
    f, n = table.facilitator, table.note_taker

    meeting = go_to(table, steps.item_key(table.decision))
    robin = round_robins.start_round_robin(meeting=meeting, by=f, item=table.decision, now=T0)
    for turn in robin.turns.order_by("position"):
        if turn.member_id == ann.pk:
            robin = round_robins.pass_turn(round_robin=robin, by=f, expected_position=turn.position, now=T0)
        else:
            texts.record_thought(
                turn=turn, text=f"Thought of {turn.member.user.display_name}", expected_version=0, by=n
            )
            robin = round_robins.next_speaker(round_robin=robin, by=f, expected_position=turn.position, now=T0)
    if robin.is_open:
        round_robins.end_round_robin(round_robin=robin, by=f, now=T0)
    texts.record_discussion(item=table.decision, text="June or July? June.", expected_version=0, by=n)
    proposal = consensus.write_proposal(item=table.decision, text="Hold the fair on 12 June.", by=n, now=T0)
    for member in present:
        kind, reason = (
            (Stance.Kind.STAND_ASIDE, "Too early for me.") if member.pk == ann.pk else (Stance.Kind.AGREE, "")
        )
        consensus.record_stance(proposal=proposal, member=member, kind=kind, reason=reason, by=n, now=T0)
    consensus.resolve_check(proposal=proposal, by=f, now=T0)
    for text, owner in (("Book the yard", ann), ("Ask the bakery", cy)):
        todos.capture_todo(
            alliance=alliance, meeting=meeting, item=table.decision, text=text, owner=owner, by=n, now=T0,
            due_on=(T0 + timedelta(days=14)).date(),
        )  # fmt: skip

    meeting = go_to(table, "next_meeting")
    following = next_meeting.next_meeting_schedule(
        meeting=meeting,
        by=f,
        starts_at=T0 + timedelta(days=28),
        duration_minutes=90,
        facilitator=ann,
        note_taker=table.steward,
        now=T0,
    )
    meeting = go_to(table, "evaluation")
    robin = round_robins.start_round_robin(meeting=meeting, by=f, evaluation=True, now=T0)
    for turn, rating in zip(robin.turns.order_by("position"), (5, 4, 4, None), strict=True):
        texts.record_takeaway(
            turn=turn, text=f"Takeaway {turn.position}", expected_version=0, by=turn.member, rating=rating
        )
        robin = round_robins.next_speaker(round_robin=robin, by=f, expected_position=turn.position, now=T0)
    if robin.is_open:
        round_robins.end_round_robin(round_robin=robin, by=f, now=T0)
    meeting = run.end_meeting(meeting=meeting, by=f, now=ENDED)
    return Held(table, meeting, following)


@pytest.fixture
def held(alliance) -> Held:
    return _hold(alliance)


def _send(held: Held, capture, by: Member | None = None) -> Meeting:
    with capture(execute=True):
        return notes.notes_send(meeting=held.meeting, by=by or held.table.note_taker)


def _page(client, held: Held, member: Member, name: str = "notes_detail"):
    client.force_login(member.user)
    return client.get(reverse(f"meetings:{name}", args=[held.table.alliance.slug, held.meeting.pk]))


# --- What the notes hold ---------------------------------------------------------------------------------


def test_the_notes_show_how_long_each_speaker_held_the_floor(alliance):
    table = round_table(alliance)
    start(table, present=table.everyone)
    meeting = go_to(table, steps.item_key(table.decision))
    f = table.facilitator
    robin = round_robins.start_round_robin(meeting=meeting, by=f, item=table.decision, now=T0)
    moment = T0
    for turn in robin.turns.order_by("position"):
        moment += timedelta(seconds=65 + 60 * turn.position)
        if turn.position == 1:
            robin = round_robins.pass_turn(round_robin=robin, by=f, expected_position=turn.position, now=moment)
        else:
            robin = round_robins.next_speaker(round_robin=robin, by=f, expected_position=turn.position, now=moment)

    thoughts = notes.notes_build(meeting).items[1].thoughts

    assert [t.spoke for t in thoughts][:3] == ["1:05", "", "3:05"]


def test_the_notes_hold_every_section_of_the_meeting(held, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        built = notes.notes_build(held.meeting)

    assert [line.name for line in built.present] == ["Stella Steward", "Fay Facilitator", "Nat Notes", "Ann"]
    assert [line.name for line in built.excused] == ["Ben"]
    assert [line.name for line in built.absent] == ["Cy"]
    info, decision = built.items
    assert (info.title, info.thoughts, info.decision_text) == ("News from the library", [], "")
    assert [(t.name, t.passed, t.text) for t in decision.thoughts] == [
        ("Stella Steward", False, "Thought of Stella Steward"),
        ("Fay Facilitator", False, "Thought of Fay Facilitator"),
        ("Nat Notes", False, "Thought of Nat Notes"),
        ("Ann", True, ""),
    ]
    assert decision.discussion == "June or July? June."
    assert decision.decision_text == "Hold the fair on 12 June."
    assert [(s.name, s.reason) for s in decision.stand_asides] == [("Ann", "Too early for me.")]
    assert [(t.text, t.owner_name, str(t.due_on)) for t in built.todos] == [
        ("Book the yard", "Ann", "2027-03-24"),
        ("Ask the bakery", "Cy", "2027-03-24"),
    ]
    assert [t.rating for t in built.takeaways] == [5, 4, 4, None]
    assert built.rating_average == "4.3"
    assert built.next_meeting.pk == held.following.pk
    assert built.next_meeting.facilitator.user.display_name == "Ann"


def test_a_deferred_item_says_where_it_went(alliance):
    table = round_table(alliance)
    start(table)
    later = services.meeting_schedule(
        alliance=alliance,
        by=table.steward,
        starts_at=T0 + timedelta(days=28),
        duration_minutes=60,
        facilitator=table.facilitator,
        note_taker=table.note_taker,
        now=T0,
    )
    go_to(table, steps.item_key(table.decision))
    consensus.defer_item(item=table.decision, by=table.facilitator, now=T0)

    [_, deferred] = notes.notes_build(table.meeting).items

    assert deferred.deferred
    assert deferred.carried_to.pk == later.pk
    assert deferred.carried_to_url == f"/alliances/{alliance.slug}/meetings/{later.pk}/"


def test_the_note_taker_reviews_the_draft_and_other_members_wait_for_it(client, held, page_cache_off):
    draft = _page(client, held, held.table.note_taker).content.decode()
    waiting = _page(client, held, held.ann).content.decode()

    assert "Send notes" in draft
    assert "Hold the fair on 12 June." in draft
    assert "Too early for me." in draft
    assert "Takeaway 0" in draft
    assert "Average rating: 4.3/5 (3 ratings)." in draft
    assert "arrived late" not in draft
    assert "The note taker is reviewing the notes" in waiting
    assert "Hold the fair" not in waiting
    assert _page(client, held, held.ann, "notes_print").status_code == 302


def test_before_the_meeting_ends_the_page_says_the_notes_come_after(client, alliance, page_cache_off):
    table = round_table(alliance)

    page = _page(client, Held(table, table.meeting, table.meeting), table.note_taker).content.decode()

    assert "once it has ended" in page
    assert "Send notes" not in page


# --- Sending ----------------------------------------------------------------------------------------------


def test_sending_twice_emails_every_active_member_once_reply_to_the_note_taker_with_the_invitation(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    _send(held, django_capture_on_commit_callbacks)
    with pytest.raises(MeetingError, match="sent already"):
        _send(held, django_capture_on_commit_callbacks, by=held.table.steward)

    assert sorted(parseaddr(e.to[0])[1] for e in mailoutbox) == sorted(m.user.email for m in held.table.everyone)
    email = email_to(mailoutbox, "cy@example.org")
    assert email.reply_to == ["nat@example.org"]
    assert event_of(calendar_part(email))["uid"].startswith(f"meeting-{held.following.uid}@")
    held.meeting.refresh_from_db()
    assert held.meeting.notes_sent_at is not None
    assert held.meeting.notes_sent_by == held.table.note_taker


def test_each_copy_opens_with_the_readers_own_to_dos_and_for_the_absent_the_decisions_taken_without_them(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    _send(held, django_capture_on_commit_callbacks)

    ann = email_to(mailoutbox, held.ann.user.email).body
    cy = email_to(mailoutbox, "cy@example.org").body
    ben = email_to(mailoutbox, held.ben.user.email).body
    ann_todo = Todo.objects.get(text="Book the yard")

    opening, full = ann.split("# Notes of", 1)
    assert "Your to-dos" in opening
    assert "Book the yard" in opening
    assert "Ask the bakery" not in opening
    assert "http://testserver/todos/done/" in opening
    assert "Decided without you" not in ann
    assert "Hold the fair on 12 June." in full
    assert "Ask the bakery" in full
    cy_opening = cy.split("# Notes of", 1)[0]
    assert "Ask the bakery" in cy_opening
    assert "You were not at this meeting." in cy_opening
    assert "Decided without you:\n- Summer reading fair: Hold the fair on 12 June." in cy_opening
    assert "Draft" not in ann
    assert "You sent apologies for this meeting." in ben
    assert "Your to-dos" not in ben
    html = email_to(mailoutbox, held.ann.user.email).alternatives[0].content
    assert "Mark done" in html
    assert ann_todo.text in html


def test_a_spanish_reader_gets_the_notes_in_spanish_in_their_time_zone(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    held.cy.user.language, held.cy.user.time_zone = "es", "America/Puerto_Rico"
    held.cy.user.save(update_fields=["language", "time_zone"])

    _send(held, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(to_email="cy@example.org")
    assert delivery.language == "es"
    assert "Asistencia" in delivery.text
    assert "Attendance" not in delivery.text
    # 17:00 UTC is 13:00 in Puerto Rico.
    assert "13:00" in delivery.text or "1:00" in delivery.text


def test_only_the_note_taker_the_facilitator_and_stewards_send_and_only_after_the_meeting(alliance, held):
    with pytest.raises(PermissionDenied):
        notes.notes_send(meeting=held.meeting, by=held.ann)
    table = round_table(alliance)
    with pytest.raises(MeetingError, match="once the meeting has ended"):
        notes.notes_send(meeting=table.meeting, by=table.note_taker)


def test_a_plain_member_cannot_post_send_or_amend(client, held):
    client.force_login(held.ann.user)
    for name in ("notes_send", "notes_amend"):
        url = reverse(f"meetings:{name}", args=[held.table.alliance.slug, held.meeting.pk])
        assert client.post(url).status_code == 403
    assert Meeting.objects.get(pk=held.meeting.pk).notes_sent_at is None


def test_an_outsider_gets_not_found(client, held, outsider):
    client.force_login(outsider)
    for name in ("notes_detail", "notes_print", "notes_markdown"):
        url = reverse(f"meetings:{name}", args=[held.table.alliance.slug, held.meeting.pk])
        assert client.get(url).status_code == 404


# --- Finality and amendments -----------------------------------------------------------------------------


def test_after_sending_the_recording_services_refuse_changes(held, django_capture_on_commit_callbacks):
    decision = held.table.decision
    decision.refresh_from_db()
    texts.record_discussion(
        item=decision, text="Corrected before sending.", expected_version=1, by=held.table.note_taker
    )
    _send(held, django_capture_on_commit_callbacks)

    with pytest.raises(MeetingError, match="amendment"):
        texts.record_discussion(item=decision, text="Rewritten", expected_version=2, by=held.table.note_taker)
    with pytest.raises(MeetingError, match="amendment"):
        todos.capture_todo(
            alliance=held.table.alliance,
            meeting=held.meeting,
            text="Sneaked in",
            owner=held.ann,
            by=held.table.note_taker,
        )
    decision.refresh_from_db()
    assert decision.discussion == "Corrected before sending."


def test_an_amendment_is_recorded_shown_and_told_to_every_member(
    client, held, django_capture_on_commit_callbacks, mailoutbox, page_cache_off
):
    with pytest.raises(MeetingError, match="not been sent"):
        notes.notes_amend(meeting=held.meeting, by=held.table.note_taker, text="Too soon")
    _send(held, django_capture_on_commit_callbacks)
    mailoutbox.clear()

    client.force_login(held.table.facilitator.user)
    url = reverse("meetings:notes_amend", args=[held.table.alliance.slug, held.meeting.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"text": "Ben's apology came in writing, not by phone.", "section": "attendance"})

    amendment = NoteAmendment.objects.get()
    assert (amendment.author, amendment.section) == (held.table.facilitator, "attendance")
    assert len(mailoutbox) == len(held.table.everyone)
    assert all("were amended" in e.subject for e in mailoutbox)
    assert "Ben's apology came in writing" in mailoutbox[0].body
    page = _page(client, held, held.cy).content.decode()
    assert "Amendments" in page
    assert "Ben&#x27;s apology came in writing" in page
    assert "Hold the fair on 12 June." in page  # the notes as sent, still there


def test_an_empty_amendment_is_refused(held, django_capture_on_commit_callbacks):
    _send(held, django_capture_on_commit_callbacks)

    with pytest.raises(MeetingError, match="what changed"):
        notes.notes_amend(meeting=held.meeting, by=held.table.note_taker, text="  ")


# --- Reminders -------------------------------------------------------------------------------------------


def _reminders(held: Held, mailoutbox) -> list[tuple[str, str]]:
    return [(parseaddr(e.to[0])[1], e.subject) for e in mailoutbox]


def test_the_note_taker_is_reminded_after_a_day_and_three_then_the_facilitator_never_twice(
    held, mailoutbox, django_capture_on_commit_callbacks
):
    nat, fay = held.table.note_taker.user.email, held.table.facilitator.user.email

    def run_job(at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            jobs.remind_unsent_notes()
            jobs.remind_unsent_notes()  # a second run, or a second worker: nothing more

    run_job(ENDED + timedelta(hours=23))
    assert mailoutbox == []
    run_job(ENDED + timedelta(hours=25))
    assert [to for to, _subject in _reminders(held, mailoutbox)] == [nat]
    run_job(ENDED + timedelta(days=2))
    assert len(mailoutbox) == 1
    run_job(ENDED + timedelta(days=3, hours=1))
    assert [to for to, _subject in _reminders(held, mailoutbox)] == [nat, nat]
    run_job(ENDED + timedelta(days=7, hours=1))
    assert [to for to, _subject in _reminders(held, mailoutbox)] == [nat, nat, fay]
    assert "could use a hand" in mailoutbox[-1].body
    run_job(ENDED + timedelta(days=9))
    assert len(mailoutbox) == 3


def test_sent_notes_are_not_reminded_about(held, mailoutbox, django_capture_on_commit_callbacks):
    _send(held, django_capture_on_commit_callbacks)
    mailoutbox.clear()

    assert notes.meetings_due_notes_reminder(now=ENDED + timedelta(days=2)) == []
    assert notes.meeting_remind_notes(meeting_id=held.meeting.pk, now=ENDED + timedelta(days=2)) is False
    assert mailoutbox == []


def test_a_claimed_reminder_is_not_sent_again_by_a_worker_that_read_the_old_stage(held):
    later = ENDED + timedelta(days=2)
    assert notes.meeting_remind_notes(meeting_id=held.meeting.pk, now=later) is True
    # Another worker that read stage 0 before the first moved it on: its conditional update changes nothing.
    Meeting.objects.filter(pk=held.meeting.pk).update(notes_reminder_count=0)
    Meeting.objects.filter(pk=held.meeting.pk).update(notes_reminder_count=1)

    assert notes.meeting_remind_notes(meeting_id=held.meeting.pk, now=later) is False


def test_the_alliance_page_lists_meetings_awaiting_notes(client, held, django_capture_on_commit_callbacks):
    client.force_login(held.ann.user)
    home = reverse("alliances:alliance_detail", args=[held.table.alliance.slug])

    assert "Awaiting notes" in client.get(home).content.decode()
    _send(held, django_capture_on_commit_callbacks)
    # The page cache's copy is retired: sending changed the meeting.
    assert "Awaiting notes" not in client.get(home).content.decode()


# --- Print and Markdown ----------------------------------------------------------------------------------


def test_the_markdown_export_holds_the_notes(client, held, django_capture_on_commit_callbacks):
    _send(held, django_capture_on_commit_callbacks)

    response = _page(client, held, held.cy, "notes_markdown")
    text = response.content.decode()

    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'inline; filename="{held.table.alliance.slug}-notes-2027-03-10.md"'
    assert text.startswith(f"# Notes of {held.table.alliance.name}")
    assert "## Attendance" in text
    assert "- **Absent:** Cy" in text
    assert "- **Excused:** Ben" in text
    assert "**Decision (consensus):** Hold the fair on 12 June." in text
    assert "- Ann: Too early for me." in text
    assert "- Ann: _passed_" in text
    assert "- Book the yard — Ann, due" in text
    assert "Average rating: 4.3/5 (3 ratings)." in text
    assert "Draft" not in text


def test_the_print_page_shows_sent_notes_to_every_member(client, held, django_capture_on_commit_callbacks):
    _send(held, django_capture_on_commit_callbacks)

    page = _page(client, held, held.cy, "notes_print").content.decode()

    assert "Hold the fair on 12 June." in page
    assert "data-print" in page


# --- The next agenda's review of open to-dos ---------------------------------------------------------------


def test_the_next_agenda_reviews_every_open_to_do_of_the_alliance_in_one_query(held, django_assert_num_queries):
    done = Todo.objects.get(text="Book the yard")
    todos.mark_done(todo=done, by=held.ann, now=T0)
    for n in range(5):
        todos.capture_todo(
            alliance=held.table.alliance, text=f"Between meetings {n}", owner=held.cy, by=held.cy, now=T0
        )

    with django_assert_num_queries(1):
        rows = agenda.open_todos(held.following)

    assert [row.title for row in rows][:2] == ["Ask the bakery", "Between meetings 0"]
    assert len(rows) == 6
    assert {row.assignee_name for row in rows} == {"Cy"}
    assert all(row.due_text for row in rows)
    assert agenda.open_todos(held.meeting) is None  # an ended meeting's agenda is history


def test_the_next_agenda_page_lists_the_open_to_dos(client, held, page_cache_off):
    client.force_login(held.ann.user)

    page = client.get(held.following.get_absolute_url()).content.decode()

    assert "Ask the bakery — Cy" in page


def test_an_open_to_do_of_another_alliance_is_not_reviewed(held):
    other = MemberFactory()
    todos.capture_todo(alliance=other.alliance, text="Elsewhere", owner=other, by=other, now=T0)

    assert "Elsewhere" not in [row.title for row in agenda.open_todos(held.following)]


def test_without_a_next_meeting_the_notes_carry_no_calendar_invitation(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    Meeting.objects.filter(pk=held.meeting.pk).update(next_meeting=None)

    _send(held, django_capture_on_commit_callbacks)

    email = email_to(mailoutbox, "cy@example.org")
    assert not [a for a in email.alternatives if a.mimetype.startswith("text/calendar")]
    assert not email.attachments
    assert "The next meeting was not set at this meeting." in email.body


def test_the_ended_meetings_page_links_to_its_notes_and_the_export_names_the_readers_zone(
    client, held, django_capture_on_commit_callbacks, page_cache_off
):
    _send(held, django_capture_on_commit_callbacks)
    held.cy.user.time_zone = "America/Puerto_Rico"
    held.cy.user.save(update_fields=["time_zone"])
    client.force_login(held.cy.user)

    page = client.get(held.meeting.get_absolute_url()).content.decode()
    text = _page(client, held, held.cy, "notes_markdown").content.decode()

    assert reverse("meetings:notes_detail", args=[held.table.alliance.slug, held.meeting.pk]) in page
    assert "March 10, 2027, 1 p.m." in text.split("\n")[2]
    assert "Puerto Rico" in text.split("\n")[2]


def test_the_notes_page_takes_as_many_queries_for_many_to_dos_and_turns_as_for_few(
    client, held, page_cache_off, django_assert_max_num_queries
):
    client.force_login(held.table.note_taker.user)
    url = reverse("meetings:notes_detail", args=[held.table.alliance.slug, held.meeting.pk])
    # Session, user, membership, meeting, and the notes' twelve reads (meetings/notes.py).
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200
    for n in range(10):
        Todo.objects.create(
            alliance=held.table.alliance,
            meeting=held.meeting,
            item=held.table.decision,
            text=f"More {n}",
            owner=held.others_member(n),
            due_on=T0.date(),
        )

    with django_assert_max_num_queries(16):
        page = client.get(url).content.decode()

    assert "More 9" in page


def test_whoever_got_the_next_meetings_invitation_with_the_notes_gets_its_cancellation(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    _send(held, django_capture_on_commit_callbacks)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_cancel(meeting=held.following, by=held.table.steward)

    assert sorted(parseaddr(e.to[0])[1] for e in mailoutbox) == sorted(m.user.email for m in held.table.everyone)
    assert event_of(calendar_part(email_to(mailoutbox, "cy@example.org")))["status"] == "CANCELLED"


def test_a_note_taker_who_left_is_replaced_by_the_stewards_in_the_reminder(
    held, mailoutbox, django_capture_on_commit_callbacks
):
    alliance_services.member_deactivate(member=held.table.note_taker, by=held.table.steward.user)

    with django_capture_on_commit_callbacks(execute=True):
        assert notes.meeting_remind_notes(meeting_id=held.meeting.pk, now=ENDED + timedelta(days=2)) is True

    assert [parseaddr(e.to[0])[1] for e in mailoutbox] == [held.table.steward.user.email]


def test_sending_to_many_more_members_costs_the_same_queries_and_renders_copies_alike_once(held):
    def send() -> tuple[int, Counter]:
        with (
            mock.patch("outbox.services.render_to_string", wraps=outbox_services.render_to_string) as rendered,
            CaptureQueriesContext(connection) as queries,
            transaction.atomic(),
        ):
            notes.notes_send(meeting=held.meeting, by=held.table.note_taker)
            bodies = Counter(d.body_text for d in Delivery.objects.filter(language="es"))
            transaction.set_rollback(True)  # to send again, with more members
        return len(queries), Counter(call.args[0] for call in rendered.call_args_list), bodies

    few_queries, few_renders, _ = send()
    for n in range(12):
        MemberFactory(alliance=held.table.alliance, user__language="es" if n % 2 else "en", user__time_zone="UTC")
    many_queries, many_renders, spanish = send()

    assert many_queries == few_queries
    # The twelve newcomers have no to-do and were not on the roll: the six in English read what those
    # present without a to-do read, the six in Spanish one copy between them.
    assert many_renders["emails/notes.txt"] == few_renders["emails/notes.txt"] + 1
    assert sorted(spanish.values()) == [6]
    # The notes themselves: once per language and zone, not once a copy.
    assert many_renders["meetings/notes.md"] == few_renders["meetings/notes.md"] + 1


def test_an_amendment_to_many_members_is_rendered_once_per_language_and_zone(
    held, django_capture_on_commit_callbacks, mailoutbox
):
    _send(held, django_capture_on_commit_callbacks)
    for n in range(12):
        MemberFactory(alliance=held.table.alliance, user__language="es" if n % 2 else "en", user__time_zone="UTC")
    everyone = Member.objects.active().filter(alliance=held.table.alliance)
    zones = {(m.user.language, m.user.time_zone) for m in everyone.select_related("user")}
    mailoutbox.clear()

    with (
        mock.patch("outbox.services.render_to_string", wraps=outbox_services.render_to_string) as rendered,
        django_capture_on_commit_callbacks(execute=True),
    ):
        notes.notes_amend(meeting=held.meeting, by=held.table.note_taker, text="The fair is on 13 June.")

    assert Counter(call.args[0] for call in rendered.call_args_list)["emails/notes_amended.txt"] == len(zones)
    assert sorted(parseaddr(e.to[0])[1] for e in mailoutbox) == sorted(m.user.email for m in everyone)
    assert all("The fair is on 13 June." in e.body for e in mailoutbox)
