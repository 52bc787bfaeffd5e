from django.contrib import admin

from outbox.models import Attachment, Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["to_email", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ["filename", "mimetype"]
    readonly_fields = fields
    extra = 0


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "template", "alliance", "members_only", "created_at"]
    list_filter = ["template"]
    search_fields = ["template", "alliance__name", "deliveries__to_email"]
    raw_id_fields = ["alliance"]
    inlines = [AttachmentInline, DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "to_email", "subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["status", "language"]
    search_fields = ["to_email", "subject", "header_message_id"]
    raw_id_fields = ["message", "recipient"]
    readonly_fields = ["header_message_id", "claim_token", "claimed_at", "created_at"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "mimetype", "message"]
    search_fields = ["filename"]
    raw_id_fields = ["message"]
