"""The meetings of an alliance, under /alliances/<slug>/ (included from roundtable/urls.py).

Every view fetches the reader's membership first (`alliances.access.get_membership`), so a non-member
gets 404 for all of these; alliances/tests/test_permissions.py enumerates `meeting_patterns`.
"""

from django.urls import path

from meetings.views import agenda as agenda_views
from meetings.views import decisions as decision_views
from meetings.views import live as live_views
from meetings.views import meetings as views
from meetings.views import notes as notes_views
from meetings.views import record as record_views
from meetings.views import sending as sending_views

app_name = "meetings"

# Each part of the app adds its URLs to its own list; `meeting_patterns` is all of them.
# meetings, roles, apologies, turns: meetings/views/meetings.py. `role` is "facilitator" or "note_taker".
schedule_patterns: list = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/apologies/", views.apology_send, name="apology_send"),
    path("meetings/<int:pk>/apologies/withdraw/", views.apology_withdraw, name="apology_withdraw"),
    path("meetings/<int:pk>/turns/<str:role>/skip/", views.role_turn_skip, name="role_turn_skip"),
    path("meetings/<int:pk>/turns/<str:role>/swap/", views.role_turn_swap, name="role_turn_swap"),
    path("roles/", views.roles, name="roles"),
]
# items, proposals, segments, reflection, print: meetings/views/agenda.py. `pk` is the meeting; `item` an
# agenda item (or proposal) of that meeting.
agenda_patterns: list = [
    path("meetings/<int:pk>/agenda/items/new/", agenda_views.agenda_item_create, name="agenda_item_create"),
    path("meetings/<int:pk>/agenda/items/<int:item>/edit/", agenda_views.agenda_item_edit, name="agenda_item_edit"),
    path(
        "meetings/<int:pk>/agenda/items/<int:item>/remove/", agenda_views.agenda_item_remove, name="agenda_item_remove"
    ),
    path("meetings/<int:pk>/agenda/items/<int:item>/move/", agenda_views.agenda_item_move, name="agenda_item_move"),
    path("meetings/<int:pk>/agenda/order/", agenda_views.agenda_reorder, name="agenda_reorder"),
    path("meetings/<int:pk>/agenda/segments/", agenda_views.agenda_segments_edit, name="agenda_segments_edit"),
    path("meetings/<int:pk>/agenda/propose/", agenda_views.agenda_proposal_create, name="agenda_proposal_create"),
    path(
        "meetings/<int:pk>/agenda/proposals/<int:item>/accept/",
        agenda_views.agenda_proposal_accept,
        name="agenda_proposal_accept",
    ),
    path(
        "meetings/<int:pk>/agenda/proposals/<int:item>/decline/",
        agenda_views.agenda_proposal_decline,
        name="agenda_proposal_decline",
    ),
    path("meetings/<int:pk>/reflection/", agenda_views.reflection_edit, name="reflection_edit"),
    path("meetings/<int:pk>/agenda/print/", agenda_views.agenda_print, name="agenda_print"),
]
# send agenda, agenda.ics: meetings/views/sending.py
sending_patterns: list = [
    path("meetings/<int:pk>/agenda/send/", sending_views.agenda_send, name="agenda_send"),
    path("meetings/<int:pk>/agenda.ics", sending_views.agenda_ics, name="agenda_ics"),
]

# the live run of show, its polled state, the big screen and the facilitator's buttons: meetings/views/live.py
live_patterns: list = [
    path("meetings/<int:pk>/live/", live_views.live_detail, name="live_detail"),
    path("meetings/<int:pk>/live/state/", live_views.live_state_fragment, name="live_state"),
    path("meetings/<int:pk>/live/screen/", live_views.live_screen, name="live_screen"),
    path("meetings/<int:pk>/live/start/", live_views.live_start, name="live_start"),
    path("meetings/<int:pk>/live/next/", live_views.live_next_step, name="live_next_step"),
    path("meetings/<int:pk>/live/previous/", live_views.live_previous_step, name="live_previous_step"),
    path("meetings/<int:pk>/live/end/", live_views.live_end, name="live_end"),
    path("meetings/<int:pk>/live/round-robin/start/", live_views.live_round_robin_start, name="live_round_robin_start"),
    path("meetings/<int:pk>/live/round-robin/next/", live_views.live_next_speaker, name="live_next_speaker"),
    path("meetings/<int:pk>/live/round-robin/pass/", live_views.live_pass, name="live_pass"),
    path("meetings/<int:pk>/live/round-robin/end/", live_views.live_round_robin_end, name="live_round_robin_end"),
    path("meetings/<int:pk>/live/attendance/", live_views.live_attendance, name="live_attendance"),
]

# what is recorded at the live meeting's current step (texts, consensus, to-dos, review, next meeting):
# meetings/views/record.py. `turn`, `item`, `proposal`, `todo` belong to the meeting `pk`.
record_patterns: list = [
    path("meetings/<int:pk>/record/", record_views.record_step, name="record_step"),
    path(
        "meetings/<int:pk>/record/turns/<int:turn>/thought/", record_views.turn_thought_save, name="turn_thought_save"
    ),
    path(
        "meetings/<int:pk>/record/turns/<int:turn>/takeaway/",
        record_views.turn_takeaway_save,
        name="turn_takeaway_save",
    ),
    path(
        "meetings/<int:pk>/record/items/<int:item>/discussion/",
        record_views.item_discussion_save,
        name="item_discussion_save",
    ),
    path("meetings/<int:pk>/record/items/<int:item>/proposals/", record_views.proposal_write, name="proposal_write"),
    path(
        "meetings/<int:pk>/record/proposals/<int:proposal>/text/",
        record_views.proposal_text_save,
        name="proposal_text_save",
    ),
    path(
        "meetings/<int:pk>/record/proposals/<int:proposal>/stances/",
        record_views.stance_record,
        name="stance_record",
    ),
    path(
        "meetings/<int:pk>/record/proposals/<int:proposal>/check/",
        record_views.proposal_check,
        name="proposal_check",
    ),
    path("meetings/<int:pk>/record/items/<int:item>/defer/", record_views.item_defer, name="item_defer"),
    path("meetings/<int:pk>/record/items/<int:item>/todos/", record_views.todo_capture, name="todo_capture"),
    path("meetings/<int:pk>/record/todos/<int:todo>/", record_views.todo_correct, name="todo_correct"),
    path("meetings/<int:pk>/review/", record_views.meeting_review, name="meeting_review"),
    path("meetings/<int:pk>/record/next-meeting/", record_views.next_meeting_set, name="next_meeting_set"),
]

# the decision log: meetings/views/decisions.py
decision_patterns: list = [
    path("decisions/", decision_views.decision_list, name="decision_list"),
]

# the notes after the meeting: meetings/views/notes.py
notes_patterns: list = [
    path("meetings/<int:pk>/notes/", notes_views.notes_detail, name="notes_detail"),
    path("meetings/<int:pk>/notes/send/", notes_views.notes_send, name="notes_send"),
    path("meetings/<int:pk>/notes/amendments/", notes_views.notes_amend, name="notes_amend"),
    path("meetings/<int:pk>/notes/print/", notes_views.notes_print, name="notes_print"),
    path("meetings/<int:pk>/notes.md", notes_views.notes_markdown, name="notes_markdown"),
]

meeting_patterns = [
    *schedule_patterns,
    *agenda_patterns,
    *sending_patterns,
    *live_patterns,
    *record_patterns,
    *decision_patterns,
    *notes_patterns,
]
urlpatterns = meeting_patterns
