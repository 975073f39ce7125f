"""The database cache used when there is no Redis, with an `incr` that is atomic across processes;
and values cached per *generation*, for what only a few writes change (the catalog's counts, an
organization's webhook endpoints).

A generation is a random token under its own key. `generation_changed` replaces it at once and again
after the transaction commits (`on_commit`): a value computed while the write was not yet visible
carries the first token and is dropped by the second; the first keeps a transaction's own reads (and
tests, which never commit) right. `cached_in_generation` reads the generation before computing, so a
value is only ever stored under a token at least as old as the data it saw. A generation lost from
the cache (eviction) is replaced by a new random token, never by one an old entry could carry; entries
expire after their timeout, which bounds the lag of a write made around the services. Only with a
shared cache that is not the database (`cache_shared`): the database cache would spend more queries
than it saves, and a per-process cache could not be invalidated across processes.
"""
import base64
import pickle
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction

SHARED_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)
T = TypeVar("T")


def cache_shared() -> bool:
    """Whether the default cache is shared by every process and not the database."""
    return settings.CACHES["default"]["BACKEND"] in SHARED_BACKENDS


def generation_changed(generation_key: str) -> None:
    """What was cached under this generation is stale: now, and again once the transaction commits."""
    if not cache_shared():
        return
    cache.set(generation_key, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(generation_key, uuid.uuid4().hex, timeout=None))


def cached_in_generation(generation_key: str, key: str, compute: Callable[[], T], timeout: int) -> T:
    """`compute()`, from the cache when its generation has not changed since it was computed (one
    round trip on a hit). Without a shared cache, `compute()`."""
    if not cache_shared():
        return compute()
    found = cache.get_many([generation_key, key])
    generation = found.get(generation_key)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(generation_key, generation, timeout=None):
            generation = cache.get(generation_key)  # another process set it first
            if generation is None:
                return compute()
    stored = found.get(key)
    if stored is not None and stored[0] == generation:
        return stored[1]
    value = compute()
    cache.set(key, (generation, value), timeout)
    return value


class AtomicDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        table = connections[db].ops.quote_name(self._table)
        with transaction.atomic(using=db), connections[db].cursor() as cursor:
            lock = " FOR UPDATE" if connections[db].features.has_select_for_update else ""
            cursor.execute(f"SELECT value FROM {table} WHERE cache_key = %s{lock}", [key])
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [encoded, key])
        return value
