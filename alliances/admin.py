from django.contrib import admin

from alliances.models import Alliance, CharterChange, Invitation, Member, Norm


class MemberInline(admin.TabularInline):
    model = Member
    fk_name = "alliance"
    fields = ["user", "organisation", "is_steward", "is_active", "joined_at"]
    raw_id_fields = ["user"]
    extra = 0


class NormInline(admin.TabularInline):
    model = Norm
    fields = ["position", "text", "agreed_on", "retired_at"]
    extra = 0


@admin.register(Alliance)
class AllianceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cadence", "time_zone", "created_at"]
    search_fields = ["name", "slug", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["created_by"]
    inlines = [MemberInline, NormInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "alliance", "organisation", "is_steward", "is_active", "joined_at", "ended_at"]
    list_filter = ["is_steward", "is_active", "end_reason"]
    search_fields = ["user__email", "user__display_name", "alliance__name", "organisation"]
    raw_id_fields = ["user", "alliance", "ended_by"]


@admin.register(Norm)
class NormAdmin(admin.ModelAdmin):
    list_display = ["text", "alliance", "position", "agreed_on", "retired_at"]
    list_filter = ["retired_at"]
    search_fields = ["text", "alliance__name"]
    raw_id_fields = ["alliance", "created_by", "retired_by"]


@admin.register(CharterChange)
class CharterChangeAdmin(admin.ModelAdmin):
    list_display = ["alliance", "kind", "changed_by", "changed_at"]
    list_filter = ["kind"]
    search_fields = ["alliance__name", "before", "after"]
    raw_id_fields = ["alliance", "norm", "changed_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "alliance", "status", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["status"]
    search_fields = ["email", "alliance__name"]
    raw_id_fields = ["alliance", "invited_by", "accepted_by"]
    readonly_fields = ["token"]
