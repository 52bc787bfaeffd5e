"""The outbox in the admin: read-only, with the links of single-use messages redacted.

Read-only because a change here would bypass the services and could hand someone's reset link to
another address (edit `to_email`, set the status back to pending). Bodies are shown only through
`Delivery.text_for_operators`/`html_for_operators`, like the /outbox/ pages.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from outbox.models import Attachment, Delivery, Message


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("to_email", "status", "skip_reason", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("filename", "mimetype", "alternative", "delivery")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["pk", "template", "scope", "secret", "created_at"]
    list_filter = ["template", "secret"]
    search_fields = ["template", "scope", "key", "deliveries__to_email"]
    inlines = [AttachmentInline, DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "to_email", "subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["status", "language"]
    search_fields = ["to_email", "subject", "header_message_id"]
    list_select_related = ["message"]
    # body_text and body_html are left out on purpose: they would show single-use links in full.
    fields = (
        "message",
        "recipient",
        "to_email",
        "to_name",
        "language",
        "subject",
        "text",
        "html",
        "header_message_id",
        "status",
        "skip_reason",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("text"))
    def text(self, delivery: Delivery) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', delivery.text_for_operators)

    @admin.display(description=_("HTML"))
    def html(self, delivery: Delivery) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', delivery.html_for_operators)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["filename", "mimetype", "message"]
    search_fields = ["filename"]
    fields = ("message", "delivery", "filename", "mimetype", "alternative")
    readonly_fields = fields
