from django.contrib import admin

from tasks.models import NudgeDigest, Todo, TodoUpdate


class TodoUpdateInline(admin.TabularInline):
    model = TodoUpdate
    fields = ["created_at", "author", "text"]
    raw_id_fields = ["author"]
    extra = 0


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    list_display = ["text", "alliance", "owner", "due_on", "status", "meeting"]
    list_filter = ["status"]
    search_fields = ["text", "alliance__name", "owner__user__display_name", "owner__user__email"]
    raw_id_fields = ["alliance", "meeting", "item", "owner", "created_by"]
    date_hierarchy = "due_on"
    # Edits go through tasks.services, which checks the version (no silent overwrite) and keeps the
    # meeting's live pages up to date: the admin shows the version and does not change it.
    readonly_fields = ["version", "created_at", "updated_at", "done_at"]
    inlines = [TodoUpdateInline]


@admin.register(NudgeDigest)
class NudgeDigestAdmin(admin.ModelAdmin):
    """Who was nudged on which day, and for which to-dos: read only, each row is the claim of a sent email."""

    list_display = ["user", "kind", "on_date", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "user__display_name"]
    date_hierarchy = "on_date"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
