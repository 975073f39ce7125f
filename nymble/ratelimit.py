"""Fixed-window limits counted with the cache's atomic increment (Redis INCR, or a locked row)."""
import time

from django.core.cache import cache


def limit_hit(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one attempt; True when it goes over `limit` in the current window."""
    bucket = f"ratelimit:{key}:{int(time.time() // window_seconds)}"
    cache.add(bucket, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:  # the bucket expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds + 5)
        count = 1
    return count > limit
