from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlliancesConfig(AppConfig):
    name = "alliances"
    verbose_name = _("Alliances")

    def ready(self) -> None:
        # Every change to what an alliance's pages show gives the alliance a new version (alliances/versions.py).
        from django.contrib.auth import get_user_model

        from alliances import versions
        from alliances.models import Alliance, CharterChange, Invitation, Member, Norm

        versions.watch(Alliance, lambda row: [row.pk])
        for model in (Member, Norm, CharterChange, Invitation):
            versions.watch(model, versions.own_alliance)
        versions.watch_users(get_user_model())
        versions.watch_memberships(Member)
