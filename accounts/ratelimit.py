"""Failed sign-in attempts, counted per address and per IP in the shared cache.

A fixed window is enough here: the point is to make password guessing slow, not to meter precisely.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# An office or a school shares one IP: it gets more tries than one address does.
IP_FACTOR = 5


def login_keys(request: HttpRequest, email: str) -> dict[str, int]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    ip = request.META.get("REMOTE_ADDR", "")
    return {
        f"login-fail:email:{digest}": settings.LOGIN_RATE_LIMIT,
        f"login-fail:ip:{ip}": settings.LOGIN_RATE_LIMIT * IP_FACTOR,
    }


def is_limited(keys: dict[str, int]) -> bool:
    counts = cache.get_many(list(keys))
    return any(counts.get(key, 0) >= limit for key, limit in keys.items())


def record_failure(keys: dict[str, int]) -> None:
    for key in keys:
        # add() starts the window only if it is not running yet; incr() is atomic in Redis.
        cache.add(key, 0, timeout=settings.LOGIN_RATE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.LOGIN_RATE_WINDOW)


def reset(keys: dict[str, int]) -> None:
    # Only the address's counter: a successful sign-in says nothing about others on the same IP.
    cache.delete_many([key for key in keys if key.startswith("login-fail:email:")])
