from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_email
from roundtable.validators import validate_single_line


class UserFieldsMixin:
    """Addresses are stored lower-case everywhere (see accounts.models.normalize_email), and names on one
    line, here too."""

    cleaned_data: dict[str, Any]  # given by the form class this is mixed into

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def clean_display_name(self) -> str:
        # The name goes into the header of every email to this person: one line only.
        validate_single_line(self.cleaned_data["display_name"])
        return self.cleaned_data["display_name"]


class UserCreationForm(UserFieldsMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]


class UserChangeForm(UserFieldsMixin, BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "language", "time_zone", "email_confirmed_at", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "language", "time_zone", "email_confirmed_at"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]}),
    ]
