from django.contrib import admin

from tasks.models import Todo, TodoUpdate


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
