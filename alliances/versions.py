"""The version of what an alliance's pages show: a token that changes after every change to its data.

Alliance pages are cached whole for a reader (`alliances.pages.cached_page`), under a key that holds this
token: a change anywhere in the alliance gives it a new token, so the next reader renders afresh and the
cached copies under the old token are never read again (they expire on their own).

The token lives in the cache, not in the database, so that a write never has to lock the alliance's row
(a meeting service that holds its meeting's row lock would otherwise queue behind, or deadlock with, an
alliance service holding the alliance's). It is replaced, not incremented, after the transaction commits:
a fresh random token can never collide with an older one, even if two bumps race or the cache lost the
key (a missing token is simply a new one).

Every model whose rows an alliance page shows is *watched*: its saves and deletes bump its alliance. Each
app watches its own models in its AppConfig.ready(); a test fails when a model of ours is neither watched
nor listed as not shown (`alliances/tests/test_versions.py`). A write that bypasses save() and delete()
(`QuerySet.update()`, `bulk_create`, `bulk_update`) calls `bump()` itself.
"""

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

# The token is kept until it is replaced: losing it only costs one render per reader.
_KEY = "alliance-version:{}"

# Models watched so far, by the function that finds a row's alliance: the test of completeness reads it.
WATCHED: dict[type[models.Model], Callable[[Any], Iterable[int]]] = {}


def version_key(alliance_id: int) -> str:
    """The cache key of the alliance's token, for a look-up that fetches it with other keys (get_many)."""
    return _KEY.format(alliance_id)


def version_of(alliance_id: int) -> str:
    """The alliance's current token (a new one if the cache has none)."""
    key = _KEY.format(alliance_id)
    token = cache.get(key)
    if token is None:
        token = secrets.token_hex(8)
        # add(): of two readers that both found none, the first one's token wins for both.
        if not cache.add(key, token, None):
            token = cache.get(key) or token
    return token


def versions_of(alliance_ids: Iterable[int]) -> dict[int, str]:
    """The current token of each alliance, in one round trip to the cache when they all have one."""
    found = cache.get_many([_KEY.format(pk) for pk in alliance_ids])
    return {pk: found.get(_KEY.format(pk)) or version_of(pk) for pk in alliance_ids}


# The alliances a person is an active member of, for the "my alliances" page's key: kept until one of
# their memberships changes.
_USER_ALLIANCES_KEY = "user-alliances:{}"


def user_alliances_key(user_id: int) -> str:
    """The cache key of the person's alliances, for a look-up that fetches it with other keys (get_many)."""
    return _USER_ALLIANCES_KEY.format(user_id)


def alliances_of_user(user_id: int, *, found: dict | None = None) -> list[int]:
    """The alliances the person is an active member of (`found`: what a get_many already brought back)."""
    key = _USER_ALLIANCES_KEY.format(user_id)
    ids = found.get(key) if found is not None else cache.get(key)
    if ids is None:
        from alliances.models import Member

        ids = sorted(Member.objects.active().filter(user_id=user_id).values_list("alliance_id", flat=True))
        cache.set(key, ids, None)
    return ids


def _membership_saved(sender: type[models.Model], instance: models.Model, **kwargs: object) -> None:
    key = _USER_ALLIANCES_KEY.format(instance.user_id)  # type: ignore[attr-defined]
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def watch_memberships(member_model: type[models.Model]) -> None:
    """A membership that starts, ends or changes changes the list of its person's alliances."""
    post_save.connect(_membership_saved, sender=member_model, dispatch_uid="user-alliances:save")
    post_delete.connect(_membership_saved, sender=member_model, dispatch_uid="user-alliances:delete")


def _replace(alliance_ids: Iterable[int]) -> None:
    cache.set_many({_KEY.format(pk): secrets.token_hex(8) for pk in set(alliance_ids)}, None)


def bump(*alliance_ids: int) -> None:
    """Give these alliances a new token now and again once the current transaction commits."""
    ids = [pk for pk in alliance_ids if pk is not None]
    if ids:
        # Now as well: so that the writer's own transaction (and a test, which never commits) reads afresh.
        # A reader between now and the commit may keep the old data under this token; the commit's new
        # token retires it.
        _replace(ids)
        transaction.on_commit(lambda: _replace(ids))


def watch(model: type[models.Model], alliances_of: Callable[[Any], Iterable[int]]) -> None:
    """Bump the alliances `alliances_of(row)` names whenever a row of `model` is saved or deleted."""
    WATCHED[model] = alliances_of

    def changed(sender: type[models.Model], instance: models.Model, **kwargs: object) -> None:
        bump(*alliances_of(instance))

    # weak=False: the receiver is a local function, which a weak reference would let go at once.
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"alliance-version:{model._meta.label}")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"alliance-version:{model._meta.label}:del")


def own_alliance(row: models.Model) -> Iterable[int]:
    """For a model with an `alliance` foreign key."""
    return [row.alliance_id]  # type: ignore[attr-defined]


# A person's name and address show on the pages of every alliance they belong to; signing in (last_login)
# and a new password show nowhere.
_UNSHOWN_USER_FIELDS = frozenset({"last_login", "password"})


def _user_saved(
    sender: type[models.Model], instance: models.Model, update_fields: frozenset | None = None, **kwargs: object
) -> None:
    if update_fields is not None and set(update_fields) <= _UNSHOWN_USER_FIELDS:
        return
    from alliances.models import Member

    bump(*Member.objects.filter(user_id=instance.pk).values_list("alliance_id", flat=True))


def watch_users(user_model: type[models.Model]) -> None:
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="alliance-version:user")
