"""Counters in the shared cache: failed passwords per account from one network, per network and per
account, and requests that send account emails (sign-up, confirmation link, password reset) per network
and per email address. A network is the client's IPv4 address or IPv6 /64 (see client_ip).

A fixed window is enough here: the point is to make password guessing and email flooding slow, not
to meter precisely.
"""

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# An office or a school shares one IP: it gets more tries, over all accounts, than one account does.
IP_FACTOR = 5


def _digest(email: str) -> str:
    # Keys name a hash, not the address: cache keys show up in monitoring and logs.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def client_ip(request: HttpRequest) -> str:
    """The visitor's IP address, as every limit counts it.

    Behind a reverse proxy REMOTE_ADDR is the proxy's, shared by every visitor. Each proxy appends the
    address it was reached from to X-Forwarded-For, so with TRUSTED_PROXY_COUNT = n the n-th entry from
    the right is the one our outermost proxy saw; anything further left came from the visitor and may be
    made up. With no trusted proxy the header is ignored: anyone could send it.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        # Fewer hops than configured: the request did not come through every proxy.
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote_addr


def _network(request: HttpRequest) -> str:
    """The client's IPv4 address, or its IPv6 /64: one subscriber is given a whole /64 to choose from."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def login_keys(request: HttpRequest, email: str) -> dict[str, int]:
    """Failed-password counters and their ceilings for a guess at `email`'s password from this client.

    The tight limit is per account and address pair, so that a stranger's guesses lock out only the
    stranger; the per-account ceiling is much higher, for guesses spread over many addresses.
    """
    account = _digest(email)
    network = _network(request)
    return {
        f"login-fail:pair:{account}:{network}": settings.LOGIN_RATE_LIMIT,
        f"login-fail:ip:{network}": settings.LOGIN_RATE_LIMIT * IP_FACTOR,
        f"login-fail:account:{account}": settings.LOGIN_ACCOUNT_RATE_LIMIT,
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
    return allow(f"account-request:ip:{_network(request)}", limit=settings.ACCOUNT_REQUEST_RATE_LIMIT)


def allow_account_email(email: str) -> bool:
    """One more account email to this address (confirmation, "you have an account", reset link)."""
    return allow(f"account-email:{_digest(email)}", limit=settings.ACCOUNT_EMAIL_RATE_LIMIT)


def reset(keys: dict[str, int]) -> None:
    # Only this client's counter for this account: the right password from here says nothing about
    # guesses from elsewhere, or at other accounts from here.
    cache.delete_many([key for key in keys if key.startswith("login-fail:pair:")])
