"""Limits counted with the cache's atomic increment (Redis INCR, or a locked row), so they hold
across server processes.

Written here rather than taken from django-axes or django-ratelimit: §2 needs two thresholds on
different keys (email and address, address alone) counting failures only, a 429 even for the right
password while a window runs, and a success clearing one key but not the other. Axes has one
failure limit for all its parameter sets; django-ratelimit counts requests, not failures, and has
no way to clear a count. What is left is a few lines over `cache.add` and `cache.incr`.
"""
from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def limit_hit(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one event in the current fixed window; True when it goes over `limit`."""
    bucket = f"ratelimit:{key}:{int(time.time() // window_seconds)}"
    return _incr(bucket, window_seconds + 5) > limit


@dataclass(frozen=True)
class FailureWindow:
    """Failures of one kind per key, in a window that opens with the key's first failure. Once
    `limit` failures are counted, `retry_after` says how long until the window closes."""

    name: str
    limit: int
    seconds: int

    def _keys(self, key: str) -> tuple[str, str]:
        digest = hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()  # any text, fixed length
        return f"failures:{self.name}:{digest}:n", f"failures:{self.name}:{digest}:since"

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait (1 to `seconds`) if the key has used up its failures, else None."""
        count_key, since_key = self._keys(key)
        values = cache.get_many([count_key, since_key])
        if values.get(count_key, 0) < self.limit:
            return None
        since = values.get(since_key, time.time())
        return max(1, min(self.seconds, int(since + self.seconds - time.time()) + 1))

    def record(self, key: str) -> None:
        count_key, since_key = self._keys(key)
        cache.add(since_key, time.time(), timeout=self.seconds)
        _incr(count_key, self.seconds)

    def clear(self, key: str) -> None:
        cache.delete_many(self._keys(key))


def client_address(request) -> str:
    """The caller's address: the connection's, or, when the connection comes from a trusted proxy
    (`TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is not one of them. A client
    can prepend anything to that header, so it is read from the right."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for candidate in reversed(forwarded):
        if not _is_address(candidate):
            break  # a malformed hop: what lies left of it cannot be trusted
        if not _trusted(candidate):
            return candidate
    return remote


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)
