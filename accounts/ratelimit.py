"""Counters in the shared cache: failed sign-ins per address and per IP, and requests that send
account emails (sign-up, confirmation link, password reset) per IP and per address.

A fixed window is enough here: the point is to make password guessing and email flooding slow, not
to meter precisely.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# An office or a school shares one IP: it gets more tries than one address does.
IP_FACTOR = 5


def _digest(email: str) -> str:
    # Keys name a hash, not the address: cache keys show up in monitoring and logs.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def login_keys(request: HttpRequest, email: str) -> dict[str, int]:
    digest = _digest(email)
    ip = request.META.get("REMOTE_ADDR", "")
    return {
        f"login-fail:email:{digest}": settings.LOGIN_RATE_LIMIT,
        f"login-fail:ip:{ip}": settings.LOGIN_RATE_LIMIT * IP_FACTOR,
    }


def is_limited(keys: dict[str, int]) -> bool:
    counts = cache.get_many(list(keys))
    return any(counts.get(key, 0) >= limit for key, limit in keys.items())


def _count(key: str, window: int) -> int:
    # add() starts the window only if it is not running yet; incr() is atomic in Redis.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1


def record_failure(keys: dict[str, int]) -> None:
    for key in keys:
        _count(key, settings.LOGIN_RATE_WINDOW)


def allow(key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one more event under `key`; false once more than `limit` happened in the window."""
    return _count(key, window) <= limit


def allow_account_request(request: HttpRequest) -> bool:
    """One more sign-up, resend or password-reset request from this IP."""
    ip = request.META.get("REMOTE_ADDR", "")
    return allow(f"account-request:ip:{ip}", limit=settings.ACCOUNT_REQUEST_RATE_LIMIT)


def allow_account_email(email: str) -> bool:
    """One more account email to this address (confirmation, "you have an account", reset link)."""
    return allow(f"account-email:{_digest(email)}", limit=settings.ACCOUNT_EMAIL_RATE_LIMIT)


def reset(keys: dict[str, int]) -> None:
    # Only the address's counter: a successful sign-in says nothing about others on the same IP.
    cache.delete_many([key for key in keys if key.startswith("login-fail:email:")])
