from django.contrib import admin

from meetings.models import AgendaItem, AgendaSegment, Apology, Meeting, Reflection


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
    raw_id_fields = ["alliance", "facilitator", "note_taker", "created_by", "cancelled_by"]
    readonly_fields = ["uid", "sequence", "revision", "agenda_sent_snapshot"]
    inlines = [AgendaSegmentInline, AgendaItemInline]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["meeting", "kind", "source", "chosen_at"]
    raw_id_fields = ["meeting", "chosen_by"]


@admin.register(Apology)
class ApologyAdmin(admin.ModelAdmin):
    list_display = ["meeting", "member", "created_at"]
    raw_id_fields = ["meeting", "member"]
