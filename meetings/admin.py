from django.contrib import admin

from meetings.models import (
    AgendaItem,
    AgendaSegment,
    Apology,
    Attendance,
    Decision,
    Meeting,
    Proposal,
    Reflection,
    RoundRobin,
    Stance,
    StepTime,
    Turn,
)


class AgendaSegmentInline(admin.TabularInline):
    model = AgendaSegment
    extra = 0


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["position", "title", "kind", "minutes", "status", "presenter"]
    raw_id_fields = ["presenter"]
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["alliance", "starts_at", "status", "facilitator", "note_taker", "agenda_sent_at"]
    list_filter = ["status"]
    search_fields = ["alliance__name"]
    raw_id_fields = [
        "alliance",
        "facilitator",
        "note_taker",
        "created_by",
        "cancelled_by",
        "started_by",
        "ended_by",
        "next_meeting",
    ]
    # The run of show moves through its services (meetings/run.py), which keep the revision the live
    # pages poll: the admin shows it and does not change it.
    readonly_fields = [
        "uid",
        "sequence",
        "revision",
        "agenda_sent_snapshot",
        "started_at",
        "ended_at",
        "current_step",
        "step_started_at",
    ]
    inlines = [AgendaSegmentInline, AgendaItemInline]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["meeting", "kind", "source", "chosen_at"]
    raw_id_fields = ["meeting", "chosen_by"]


@admin.register(Apology)
class ApologyAdmin(admin.ModelAdmin):
    list_display = ["meeting", "member", "created_at"]
    raw_id_fields = ["meeting", "member"]


# The run of show (issue 10): read-mostly. Its rows are written live through the services, which raise
# the meeting's revision; a change made here would not reach the pages that follow the meeting.


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ["meeting", "member", "status", "arrived_at", "marked_at"]
    list_filter = ["status"]
    raw_id_fields = ["meeting", "member", "marked_by"]


@admin.register(StepTime)
class StepTimeAdmin(admin.ModelAdmin):
    list_display = ["meeting", "key", "spent_seconds"]
    raw_id_fields = ["meeting"]


class TurnInline(admin.TabularInline):
    model = Turn
    fields = readonly_fields = ("position", "member", "started_at", "ended_at", "passed", "thought", "rating")
    extra = 0
    can_delete = False


@admin.register(RoundRobin)
class RoundRobinAdmin(admin.ModelAdmin):
    list_display = ["meeting", "item", "is_evaluation", "started_at", "ended_at"]
    raw_id_fields = ["meeting", "item", "first_speaker", "started_by"]
    readonly_fields = ["order", "current_position"]
    inlines = [TurnInline]


class StanceInline(admin.TabularInline):
    model = Stance
    fields = readonly_fields = ("member", "kind", "reason", "recorded_by", "recorded_at")
    extra = 0
    can_delete = False


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["item", "number", "outcome", "created_at", "resolved_at"]
    list_filter = ["outcome"]
    raw_id_fields = ["item", "written_by"]
    readonly_fields = ["version"]
    inlines = [StanceInline]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "alliance", "meeting", "decided_at"]
    search_fields = ["text", "alliance__name"]
    raw_id_fields = ["alliance", "meeting", "item", "proposal"]
