"""The live meeting's recording endpoints (meetings/views/record.py): texts, consensus, to-dos, review,
next meeting and takeaways, each as the page's script sends it (HX-Request) and as a plain form post."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances import services as alliance_services
from alliances.tests.factories import MemberFactory
from meetings import attendance, consensus, round_robins, steps
from meetings.models import Meeting, Proposal, Segment, Stance, Turn
from meetings.tests.run_helpers import Table, go_to, round_table, start
from meetings.views.record import VERSION_HEADER
from tasks import services as todo_services
from tasks.models import Todo

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def table(alliance) -> Table:
    table = round_table(alliance)
    start(table)
    go_to(table, steps.item_key(table.decision))
    return table


def _url(table: Table, name: str, **kwargs: int) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": table.alliance.slug, "pk": table.meeting.pk, **kwargs})


def _live_url(table: Table) -> str:
    return _url(table, "live_detail")


def _revision(table: Table) -> int:
    return Meeting.objects.values_list("revision", flat=True).get(pk=table.meeting.pk)


def _round_robin(table: Table) -> list[Turn]:
    rr = round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, item=table.decision)
    return list(rr.turns.order_by("position"))


def _go_past_the_decision(table: Table, key: str) -> None:
    if not consensus.item_is_resolved(table.decision):
        consensus.defer_item(item=table.decision, by=table.facilitator)
    go_to(table, key)


def _proposal(table: Table, text: str = "Hold the fair on 12 June.") -> Proposal:
    return consensus.write_proposal(item=table.decision, text=text, by=table.note_taker)


# --- Autosaved texts ------------------------------------------------------------------------------------


def test_the_note_taker_saves_a_thought_and_gets_the_new_version(client, table):
    turn = _round_robin(table)[0]
    client.force_login(table.note_taker.user)

    response = client.post(
        _url(table, "turn_thought_save", turn=turn.pk), {"text": "We need shade.", "version": 0}, **HTMX
    )

    assert response.status_code == 200
    assert response[VERSION_HEADER] == "1"
    assert response.content.decode() == "Saved"
    turn.refresh_from_db()
    assert (turn.thought, turn.version) == ("We need shade.", 1)


def test_a_plain_post_of_a_thought_saves_and_goes_back_to_the_live_page(client, table):
    turn = _round_robin(table)[0]
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "turn_thought_save", turn=turn.pk), {"text": "Yes.", "version": 0})

    assert response.status_code == 302
    assert response["Location"] == _live_url(table)
    turn.refresh_from_db()
    assert turn.thought == "Yes."


def test_saving_an_unchanged_text_writes_nothing(client, table):
    turn = _round_robin(table)[0]
    client.force_login(table.note_taker.user)
    url = _url(table, "turn_thought_save", turn=turn.pk)
    client.post(url, {"text": "Same words.", "version": 0}, **HTMX)
    revision = _revision(table)

    response = client.post(url, {"text": "Same words.", "version": 1}, **HTMX)

    assert response.status_code == 200
    assert response[VERSION_HEADER] == "1"
    assert _revision(table) == revision
    turn.refresh_from_db()
    assert turn.version == 1


def test_a_stale_save_answers_409_with_both_texts_and_a_merge_form_and_keeps_the_saved_text(client, table):
    turn = _round_robin(table)[0]
    url = _url(table, "turn_thought_save", turn=turn.pk)
    client.force_login(table.note_taker.user)
    client.post(url, {"text": "Ann: the yard is fine.", "version": 0}, **HTMX)
    client.force_login(table.facilitator.user)

    response = client.post(url, {"text": "Ann wants shade in the yard.", "version": 0}, **HTMX)

    assert response.status_code == 409
    assert response[VERSION_HEADER] == "1"
    page = response.content.decode()
    assert "Ann: the yard is fine." in page
    assert "Ann wants shade in the yard." in page
    assert "data-record-merge" in page
    assert f'action="{url}"' in page
    assert 'name="version" value="1"' in page
    turn.refresh_from_db()
    assert (turn.thought, turn.version) == ("Ann: the yard is fine.", 1)


def test_the_merged_text_saved_against_the_current_version_is_kept(client, table):
    turn = _round_robin(table)[0]
    url = _url(table, "turn_thought_save", turn=turn.pk)
    client.force_login(table.note_taker.user)
    client.post(url, {"text": "First.", "version": 0}, **HTMX)

    response = client.post(url, {"text": "First. Second.", "version": 1}, **HTMX)

    assert response.status_code == 200
    turn.refresh_from_db()
    assert turn.thought == "First. Second."


def test_a_plain_post_on_a_stale_version_shows_the_merge_page(client, table):
    turn = _round_robin(table)[0]
    url = _url(table, "turn_thought_save", turn=turn.pk)
    client.force_login(table.note_taker.user)
    client.post(url, {"text": "Theirs.", "version": 0})

    response = client.post(url, {"text": "Mine.", "version": 0})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Merge the two texts" in page
    assert "Theirs." in page
    assert "Mine." in page


def test_a_member_without_a_role_cannot_record_a_thought(client, table):
    turn = _round_robin(table)[0]
    client.force_login(table.others[0].user)

    response = client.post(_url(table, "turn_thought_save", turn=turn.pk), {"text": "Mine.", "version": 0}, **HTMX)

    assert response.status_code == 403
    assert response.content.decode() == "Only the meeting's facilitator and note taker can record this."
    turn.refresh_from_db()
    assert turn.thought == ""


def test_an_outsider_and_a_former_member_get_not_found(client, table, outsider):
    turn = _round_robin(table)[0]
    url = _url(table, "turn_thought_save", turn=turn.pk)
    client.force_login(outsider)
    assert client.post(url, {"text": "x", "version": 0}, **HTMX).status_code == 404
    assert client.get(_url(table, "record_step")).status_code == 404

    alliance_services.member_deactivate(member=table.note_taker, by=table.steward.user)
    client.force_login(table.note_taker.user)
    assert client.post(url, {"text": "x", "version": 0}, **HTMX).status_code == 404
    assert client.get(_url(table, "record_step")).status_code == 404


def test_a_thought_of_another_meetings_turn_is_not_found(client, table, alliance):
    turn = _round_robin(table)[0]
    other = round_table(alliance)
    client.force_login(table.note_taker.user)

    url = reverse("meetings:turn_thought_save", kwargs={"slug": alliance.slug, "pk": other.meeting.pk, "turn": turn.pk})

    assert client.post(url, {"text": "x", "version": 0}, **HTMX).status_code == 404


def test_a_text_without_its_version_is_refused(client, table):
    turn = _round_robin(table)[0]
    client.force_login(table.note_taker.user)

    response = client.post(_url(table, "turn_thought_save", turn=turn.pk), {"text": "x"}, **HTMX)

    assert response.status_code == 400
    turn.refresh_from_db()
    assert turn.thought == ""


def test_the_discussion_notes_are_saved(client, table):
    client.force_login(table.note_taker.user)

    response = client.post(
        _url(table, "item_discussion_save", item=table.decision.pk), {"text": "Shade, chairs.", "version": 0}, **HTMX
    )

    assert response.status_code == 200
    table.decision.refresh_from_db()
    assert (table.decision.discussion, table.decision.discussion_version) == ("Shade, chairs.", 1)


def test_the_proposal_text_is_autosaved_until_a_stance_is_taken(client, table):
    proposal = _proposal(table)
    url = _url(table, "proposal_text_save", proposal=proposal.pk)
    client.force_login(table.note_taker.user)

    assert client.post(url, {"text": "Hold the fair on 19 June.", "version": 0}, **HTMX).status_code == 200
    consensus.record_stance(proposal=proposal, member=table.others[0], kind=Stance.Kind.AGREE, by=table.others[0])
    response = client.post(url, {"text": "Hold the fair in July.", "version": 1}, **HTMX)

    assert response.status_code == 400
    assert "write an amendment instead" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.text == "Hold the fair on 19 June."


# --- Consensus ------------------------------------------------------------------------------------------


def test_the_note_taker_puts_a_proposal_to_the_check_and_the_fragment_shows_it(client, table):
    client.force_login(table.note_taker.user)

    response = client.post(
        _url(table, "proposal_write", item=table.decision.pk), {"text": "Hold the fair on 12 June."}, **HTMX
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="record-step"' in page
    assert "Hold the fair on 12 June." in page
    assert "Still to take a stance:" in page
    assert Proposal.objects.get(item=table.decision).number == 1


def test_a_member_without_a_role_cannot_write_a_proposal(client, table):
    client.force_login(table.others[0].user)

    response = client.post(_url(table, "proposal_write", item=table.decision.pk), {"text": "Mine."}, **HTMX)

    assert response.status_code == 403
    assert not Proposal.objects.exists()


def test_a_participant_records_their_own_stance(client, table):
    proposal = _proposal(table)
    ann = table.others[0]
    client.force_login(ann.user)

    response = client.post(_url(table, "stance_record", proposal=proposal.pk), {"stance-kind": "agree"}, **HTMX)

    assert response.status_code == 200
    stance = Stance.objects.get(proposal=proposal)
    assert (stance.member, stance.kind, stance.recorded_by) == (ann, Stance.Kind.AGREE, ann)
    assert "Stance recorded: Ann" in response.content.decode()


@pytest.mark.parametrize("kind", ["stand_aside", "block"])
def test_a_stance_without_its_reason_is_refused_with_the_message_on_the_form(client, table, kind):
    proposal = _proposal(table)
    client.force_login(table.others[0].user)

    response = client.post(
        _url(table, "stance_record", proposal=proposal.pk), {"stance-kind": kind, "stance-reason": "  "}, **HTMX
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "needs a reason" in page
    assert 'aria-describedby="id_stance-reason-help id_stance-reason-error"' in page
    assert 'id="id_stance-reason-error"' in page
    assert not Stance.objects.exists()


def test_a_plain_post_of_a_stance_without_its_reason_shows_the_form_again(client, table):
    proposal = _proposal(table)
    client.force_login(table.others[0].user)

    response = client.post(_url(table, "stance_record", proposal=proposal.pk), {"stance-kind": "block"})

    assert response.status_code == 200
    assert "A block needs a reason" in response.content.decode()
    assert not Stance.objects.exists()


def test_a_plain_member_cannot_record_someone_elses_stance(client, table):
    proposal = _proposal(table)
    ann, ben = table.others[0], table.others[1]
    client.force_login(ann.user)

    response = client.post(
        _url(table, "stance_record", proposal=proposal.pk),
        {"whose": "others", "stance-others-member": ben.pk, "stance-others-kind": "agree"},
        **HTMX,
    )

    assert response.status_code == 403
    assert not Stance.objects.exists()


def test_the_note_taker_records_the_stance_of_someone_present(client, table):
    proposal = _proposal(table)
    ben = table.others[1]
    client.force_login(table.note_taker.user)

    response = client.post(
        _url(table, "stance_record", proposal=proposal.pk),
        {
            "whose": "others",
            "stance-others-member": ben.pk,
            "stance-others-kind": "stand_aside",
            "stance-others-reason": "I am away in June.",
        },
        **HTMX,
    )

    assert response.status_code == 200
    stance = Stance.objects.get(proposal=proposal)
    assert (stance.member, stance.kind, stance.reason, stance.recorded_by) == (
        ben,
        Stance.Kind.STAND_ASIDE,
        "I am away in June.",
        table.note_taker,
    )


def _all_agree(table: Table, proposal: Proposal, **kinds: tuple[str, str]) -> None:
    for member in table.everyone:
        kind, reason = kinds.get(member.user.display_name, (Stance.Kind.AGREE, ""))
        consensus.record_stance(proposal=proposal, member=member, kind=kind, reason=reason, by=member)


def test_resolving_the_check_records_the_decision(client, table):
    proposal = _proposal(table)
    _all_agree(table, proposal, Ben=(Stance.Kind.STAND_ASIDE, "Away in June."))
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "proposal_check", proposal=proposal.pk), **HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Decided by consensus" in page
    assert "Away in June." in page
    proposal.refresh_from_db()
    assert proposal.outcome == Proposal.Outcome.CONSENSUS


def test_a_block_offers_the_amendment_and_the_deferral(client, table):
    proposal = _proposal(table)
    _all_agree(table, proposal, Ben=(Stance.Kind.BLOCK, "No shade in June."))
    client.force_login(table.note_taker.user)

    response = client.post(_url(table, "proposal_check", proposal=proposal.pk), **HTMX)

    page = response.content.decode()
    assert "The proposal is blocked" in page
    assert "Put the amended proposal to a new check" in page
    assert "Defer to the next meeting" in page
    amended = client.post(
        _url(table, "proposal_write", item=table.decision.pk), {"text": "Hold it in the shade."}, **HTMX
    )
    assert amended.status_code == 200
    assert list(Proposal.objects.order_by("number").values_list("number", "outcome")) == [
        (1, "blocked"),
        (2, "open"),
    ]


def test_resolving_a_check_with_stances_missing_says_who(client, table):
    proposal = _proposal(table)
    client.force_login(table.note_taker.user)

    response = client.post(_url(table, "proposal_check", proposal=proposal.pk), **HTMX)

    assert response.status_code == 422
    assert "Still to come: Stella Steward" in response.content.decode()


def test_a_member_without_a_role_cannot_resolve_or_defer(client, table):
    proposal = _proposal(table)
    client.force_login(table.others[0].user)

    assert client.post(_url(table, "proposal_check", proposal=proposal.pk), **HTMX).status_code == 403
    assert client.post(_url(table, "item_defer", item=table.decision.pk), **HTMX).status_code == 403


def test_deferring_the_item(client, table):
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "item_defer", item=table.decision.pk))

    assert response.status_code == 302
    table.decision.refresh_from_db()
    assert table.decision.deferred_at is not None


# --- To-dos ---------------------------------------------------------------------------------------------


def test_the_todo_form_is_prefilled_with_the_default_due_date(client, table):
    client.force_login(table.note_taker.user)
    due = todo_services.default_due_on(alliance=table.alliance, meeting=table.meeting)

    page = client.get(_url(table, "record_step")).content.decode()

    assert f'id="record-todo-new-form-due" name="todo-new-{table.decision.pk}-due_on" value="{due:%Y-%m-%d}"' in page


def test_the_note_taker_adds_a_todo_at_the_item(client, table):
    ann = table.others[0]
    client.force_login(table.note_taker.user)
    due = timezone.localdate() + timedelta(days=10)
    prefix = f"todo-new-{table.decision.pk}"

    response = client.post(
        _url(table, "todo_capture", item=table.decision.pk),
        {f"{prefix}-text": "Book the yard", f"{prefix}-owner": ann.pk, f"{prefix}-due_on": due.isoformat()},
        **HTMX,
    )

    assert response.status_code == 200
    todo = Todo.objects.get()
    assert (todo.text, todo.owner, todo.due_on, todo.item, todo.meeting) == (
        "Book the yard",
        ann,
        due,
        table.decision,
        table.meeting,
    )
    assert "Book the yard — Ann" in response.content.decode()


def test_a_todo_without_its_text_is_refused_on_the_form(client, table):
    client.force_login(table.note_taker.user)
    prefix = f"todo-new-{table.decision.pk}"

    response = client.post(
        _url(table, "todo_capture", item=table.decision.pk),
        {f"{prefix}-text": "", f"{prefix}-owner": table.others[0].pk, f"{prefix}-due_on": "2099-01-01"},
        **HTMX,
    )

    assert response.status_code == 422
    assert "Say what is to be done." in response.content.decode()
    assert not Todo.objects.exists()


def test_a_member_without_a_role_cannot_add_a_todo(client, table):
    client.force_login(table.others[0].user)
    prefix = f"todo-new-{table.decision.pk}"

    response = client.post(
        _url(table, "todo_capture", item=table.decision.pk),
        {f"{prefix}-text": "Mine", f"{prefix}-owner": table.others[0].pk, f"{prefix}-due_on": "2099-01-01"},
        **HTMX,
    )

    assert response.status_code == 403


# --- Review, next meeting, evaluation ---------------------------------------------------------------------


def _todo(table: Table, text: str = "Book the yard") -> Todo:
    return todo_services.capture_todo(
        alliance=table.alliance,
        meeting=table.meeting,
        item=table.decision,
        text=text,
        owner=table.others[0],
        by=table.note_taker,
    )


def test_the_review_lists_decisions_and_todos_and_the_note_taker_corrects_a_todo(client, table):
    proposal = _proposal(table)
    _all_agree(table, proposal, Ben=(Stance.Kind.STAND_ASIDE, "Away in June."))
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    todo = _todo(table)
    _go_past_the_decision(table, Segment.DECISIONS_REVIEW.value)
    client.force_login(table.note_taker.user)

    page = client.get(_url(table, "record_step")).content.decode()
    assert "Hold the fair on 12 June." in page
    assert "Ben — Away in June." in page
    assert "Book the yard" in page
    assert "Correct this to-do" in page

    prefix = f"todo-{todo.pk}"
    response = client.post(
        _url(table, "todo_correct", todo=todo.pk),
        {
            f"{prefix}-text": "Book the school yard",
            f"{prefix}-owner": table.others[1].pk,
            f"{prefix}-due_on": todo.due_on.isoformat(),
            f"{prefix}-version": todo.version,
        },
        **HTMX,
    )

    assert response.status_code == 200
    todo.refresh_from_db()
    assert (todo.text, todo.owner) == ("Book the school yard", table.others[1])


def test_a_stale_todo_correction_answers_409_with_both_texts(client, table):
    todo = _todo(table)
    todo_services.update_todo(todo=todo, by=table.note_taker, expected_version=0, text="Book the yard by May")
    _go_past_the_decision(table, Segment.DECISIONS_REVIEW.value)
    client.force_login(table.note_taker.user)
    prefix = f"todo-{todo.pk}"

    response = client.post(
        _url(table, "todo_correct", todo=todo.pk),
        {
            f"{prefix}-text": "Book the hall",
            f"{prefix}-owner": todo.owner_id,
            f"{prefix}-due_on": todo.due_on.isoformat(),
            f"{prefix}-version": 0,
        },
        **HTMX,
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "Book the yard by May" in page
    assert 'value="Book the hall"' in page
    assert f'name="{prefix}-version" value="1"' in page
    todo.refresh_from_db()
    assert todo.text == "Book the yard by May"


def test_a_member_who_does_not_own_the_todo_cannot_correct_it(client, table):
    todo = _todo(table)
    client.force_login(table.others[1].user)

    assert client.post(_url(table, "todo_correct", todo=todo.pk), {}, **HTMX).status_code == 403


def test_the_review_page_shows_the_decisions_to_every_member(client, table):
    proposal = _proposal(table)
    _all_agree(table, proposal)
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    client.force_login(table.others[2].user)

    response = client.get(_url(table, "meeting_review"))

    assert response.status_code == 200
    assert "Hold the fair on 12 June." in response.content.decode()


def test_the_next_meeting_form_preselects_the_rotation_and_creates_the_linked_meeting(client, table, page_cache_off):
    _go_past_the_decision(table, Segment.NEXT_MEETING.value)
    client.force_login(table.facilitator.user)

    page = client.get(_url(table, "record_step")).content.decode()
    # The rotation: who never held a role comes first (Stella the steward, who joined first, then Ann).
    assert f'<option value="{table.steward.pk}" selected>Stella Steward</option>' in page
    assert f'<option value="{table.others[0].pk}" selected>Ann</option>' in page

    day = (table.meeting.starts_at + timedelta(days=14)).date()
    response = client.post(
        _url(table, "next_meeting_set"),
        {
            "next-date": day.isoformat(),
            "next-start_time": "18:00",
            "next-duration_minutes": 90,
            "next-venue_address": "The library",
            "next-facilitator": table.steward.pk,
            "next-note_taker": table.others[0].pk,
        },
        **HTMX,
    )

    assert response.status_code == 200
    table.meeting.refresh_from_db()
    following = table.meeting.next_meeting
    assert following is not None
    assert (following.facilitator, following.note_taker, following.venue_address) == (
        table.steward,
        table.others[0],
        "The library",
    )
    assert "The next meeting is set" in response.content.decode()
    assert "The next meeting is set" in client.get(_url(table, "record_step")).content.decode()


def test_a_member_without_a_role_cannot_set_the_next_meeting(client, table):
    _go_past_the_decision(table, Segment.NEXT_MEETING.value)
    client.force_login(table.others[0].user)

    assert client.post(_url(table, "next_meeting_set"), {}, **HTMX).status_code == 403
    assert table.meeting.next_meeting_id is None


def test_a_member_records_their_own_takeaway_and_rating_but_not_someone_elses(client, table):
    _go_past_the_decision(table, Segment.EVALUATION.value)
    rr = round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, evaluation=True)
    ann, ben = table.others[0], table.others[1]
    own, other = rr.turns.get(member=ann), rr.turns.get(member=ben)
    client.force_login(ann.user)

    page = client.get(_url(table, "record_step")).content.decode()
    assert f'id="record-turn-{own.pk}"' in page
    assert f'id="record-turn-{other.pk}"' not in page
    saved = client.post(
        _url(table, "turn_takeaway_save", turn=own.pk), {"text": "Good pace.", "version": 0, "rating": "4"}, **HTMX
    )
    refused = client.post(_url(table, "turn_takeaway_save", turn=other.pk), {"text": "x", "version": 0}, **HTMX)

    assert saved.status_code == 200
    assert refused.status_code == 403
    own.refresh_from_db()
    assert (own.thought, own.rating) == ("Good pace.", 4)


def test_the_note_taker_records_anyones_takeaway_and_the_text_alone_keeps_the_rating(client, table):
    _go_past_the_decision(table, Segment.EVALUATION.value)
    rr = round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, evaluation=True)
    turn = rr.turns.get(member=table.others[1])
    url = _url(table, "turn_takeaway_save", turn=turn.pk)
    client.force_login(table.note_taker.user)

    client.post(url, {"text": "Clear.", "version": 0, "rating": "5"}, **HTMX)
    client.post(url, {"text": "Clear and short.", "version": 1}, **HTMX)

    turn.refresh_from_db()
    assert (turn.thought, turn.rating) == ("Clear and short.", 5)


# --- The fragment -----------------------------------------------------------------------------------------


def test_every_member_gets_the_fragment_of_the_current_step(client, table):
    client.force_login(table.others[0].user)

    response = client.get(_url(table, "record_step"))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-revision="{_revision(table)}"' in page
    assert "Consensus decision" in page
    # Not a recorder: no autosaved field, no to-do form.
    assert "data-autosave" not in page
    assert "record-todo-new-form" not in page


def _busy_item(table: Table, *, extra_members: int, todos: int) -> None:
    for n in range(extra_members):
        member = MemberFactory(alliance=table.alliance, user__display_name=f"Extra {n}")
        from meetings import attendance

        attendance.mark_attendance(meeting=table.meeting, member=member, status="present", by=table.note_taker)
    round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, item=table.decision)
    proposal = _proposal(table)
    for member in list(table.alliance.members.filter(is_active=True))[: 3 + extra_members]:
        consensus.record_stance(proposal=proposal, member=member, kind=Stance.Kind.AGREE, by=member)
    for n in range(todos):
        _todo(table, f"To-do {n}")


@pytest.mark.parametrize(("extra_members", "todos"), [(0, 1), (12, 10)])
def test_the_fragment_reads_a_bounded_number_of_queries(
    client, table, django_assert_max_num_queries, extra_members, todos
):
    _busy_item(table, extra_members=extra_members, todos=todos)
    client.force_login(table.note_taker.user)

    # The same whatever the number of members, stances and to-dos (15: the session, the user, the reader's
    # row (roles, and whether they take part: a bystander's part is shared), the membership, the meeting,
    # its steps (2), the round robin and its turns, who is present, the proposals with their stances, the
    # to-dos, and for the note taker the members and the next meeting's date).
    with django_assert_max_num_queries(15):
        response = client.get(_url(table, "record_step"))

    assert response.status_code == 200


@pytest.mark.parametrize("todos", [1, 12])
def test_the_review_fragment_reads_a_bounded_number_of_queries(client, table, django_assert_max_num_queries, todos):
    for n in range(todos):
        _todo(table, f"To-do {n}")
    _go_past_the_decision(table, Segment.DECISIONS_REVIEW.value)
    client.force_login(table.note_taker.user)

    # As above, without the item's parts (the reader's row is one of them).
    with django_assert_max_num_queries(12):
        response = client.get(_url(table, "record_step"))

    assert response.status_code == 200
    assert response.content.decode().count("Correct this to-do") == todos


def test_the_next_meeting_is_on_the_alliance_page_at_once(client, alliance):
    table = round_table(alliance)
    Meeting.objects.filter(pk=table.meeting.pk).update(starts_at=timezone.now() - timedelta(minutes=30))
    table.meeting.refresh_from_db()
    start(table, now=timezone.now())
    _go_past_the_decision(table, Segment.NEXT_MEETING.value)
    client.force_login(table.facilitator.user)
    alliance_page = reverse("alliances:alliance_detail", kwargs={"slug": alliance.slug})
    assert "Facilitator: Ann" not in client.get(alliance_page).content.decode()  # kept by the page cache

    day = (timezone.now() + timedelta(days=14)).date()
    client.post(
        _url(table, "next_meeting_set"),
        {
            "next-date": day.isoformat(),
            "next-start_time": "18:00",
            "next-duration_minutes": 90,
            "next-facilitator": table.others[0].pk,
            "next-note_taker": table.others[1].pk,
        },
    )

    assert "Facilitator: Ann · Note taker: Ben" in client.get(alliance_page).content.decode()


def test_a_next_meeting_in_the_past_is_refused_with_the_error_tied_to_its_field(client, table):
    _go_past_the_decision(table, Segment.NEXT_MEETING.value)
    client.force_login(table.facilitator.user)

    response = client.post(
        _url(table, "next_meeting_set"),
        {
            "next-date": "2001-01-01",
            "next-start_time": "18:00",
            "next-duration_minutes": 90,
            "next-facilitator": table.steward.pk,
            "next-note_taker": table.others[0].pk,
        },
        **HTMX,
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'aria-describedby="id_next-date_error"' in page
    assert '<div id="id_next-date_error" class="invalid-feedback d-block">' in page
    assert "A meeting can only be scheduled in the future." in page
    table.meeting.refresh_from_db()
    assert table.meeting.next_meeting_id is None


# --- The part every bystander gets ------------------------------------------------------------------------


def _part(client, table: Table, member) -> str:
    client.force_login(member.user)
    response = client.get(_url(table, "record_step"), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _bystanders(table: Table, count: int) -> list:
    """Members who hold no role at the meeting and are not marked present."""
    return [MemberFactory(alliance=table.alliance) for _ in range(count)]


def test_a_bystander_s_part_is_built_once_per_revision_and_shared(client, table):
    proposal = _proposal(table)
    first, second = _bystanders(table, 2)
    with CaptureQueriesContext(connection) as building:
        built = _part(client, table, first)
    client.force_login(second.user)

    with CaptureQueriesContext(connection) as sharing:
        shared = client.get(_url(table, "record_step"), **HTMX).content.decode()

    assert shared == built
    assert "Hold the fair on 12 June." in shared
    assert "You are not marked present" in shared
    assert "<form" not in shared
    # The session, the user, and the reader's row (their roles, and whether they take part in the meeting).
    assert len(sharing) == 3 < len(building)
    consensus.record_stance(proposal=proposal, member=table.others[0], kind=Stance.Kind.AGREE, by=table.note_taker)
    assert "<strong>Ann</strong>: Agree" in _part(client, table, second)


@pytest.mark.parametrize("bystander_first", [True, False])
def test_someone_present_gets_their_own_stance_form_and_a_bystander_never_does(client, table, bystander_first):
    _proposal(table)
    bystander = _bystanders(table, 1)[0]
    ann = table.others[0]

    if bystander_first:
        bystanders, anns = _part(client, table, bystander), _part(client, table, ann)
    else:
        anns, bystanders = _part(client, table, ann), _part(client, table, bystander)

    assert "Record my stance" in anns
    assert "Record my stance" not in bystanders
    assert "You are not marked present" in bystanders


def test_a_member_who_took_a_stance_then_left_still_sees_it_after_a_bystander_asked(client, table):
    proposal = _proposal(table)
    bystander = _bystanders(table, 1)[0]
    ann = table.others[0]
    consensus.record_stance(proposal=proposal, member=ann, kind=Stance.Kind.AGREE, by=ann)
    attendance.mark_attendance(meeting=table.meeting, member=ann, status="absent", by=table.note_taker)

    bystanders = _part(client, table, bystander)
    anns = _part(client, table, ann)

    assert "Your stance: Agree" in anns
    assert "Your stance" not in bystanders


def test_the_note_taker_and_the_facilitator_get_their_forms_after_a_bystander_asked(client, table):
    _proposal(table)
    bystander = _bystanders(table, 1)[0]

    _part(client, table, bystander)

    assert "Record the stance of someone present" in _part(client, table, table.note_taker)
    assert "Record the stance of someone present" in _part(client, table, table.facilitator)


def test_on_the_review_a_todo_s_owner_absent_from_the_meeting_may_correct_it_whoever_asked_first(client, table):
    proposal = _proposal(table)
    _all_agree(table, proposal)
    consensus.resolve_check(proposal=proposal, by=table.facilitator)
    bystander, owner = _bystanders(table, 2)
    todo_services.capture_todo(
        alliance=table.alliance,
        meeting=table.meeting,
        item=table.decision,
        text="Book the yard",
        owner=owner,
        by=table.note_taker,
    )
    _go_past_the_decision(table, Segment.DECISIONS_REVIEW.value)

    bystanders = _part(client, table, bystander)
    owners = _part(client, table, owner)

    assert "Book the yard" in bystanders
    assert "Correct this to-do" not in bystanders
    assert "Correct this to-do" in owners


def test_in_the_closing_round_a_member_who_left_keeps_their_takeaway_after_a_bystander_asked(client, table):
    _go_past_the_decision(table, Segment.EVALUATION.value)
    rr = round_robins.start_round_robin(meeting=table.meeting, by=table.facilitator, evaluation=True)
    bystander = _bystanders(table, 1)[0]
    ann = table.others[0]
    attendance.mark_attendance(meeting=table.meeting, member=ann, status="absent", by=table.note_taker)

    bystanders = _part(client, table, bystander)
    anns = _part(client, table, ann)

    assert f'id="record-turn-{rr.turns.get(member=ann).pk}"' in anns
    assert "data-autosave" not in bystanders


def test_each_language_gets_its_own_bystanders_part(client, table):
    _proposal(table)
    english = _bystanders(table, 1)[0]
    spanish = MemberFactory(alliance=table.alliance, user__language="es")

    englishs = _part(client, table, english)
    spanishs = _part(client, table, spanish)

    assert "You are not marked present" in englishs
    assert "You are not marked present" not in spanishs
