"""The product list's `TotalRecords`, kept in the cache per query and invalidated by every catalog write.

Counting a portal user's priced products is the dearest part of a product page (5-6 ms of ~19 on
10,000 products: an EXISTS per product), and the answer only changes when the catalog does.

- The key is the organization and a digest of the count's own SQL and parameters (ordering left
  out). Whatever decides the rows (the caller's role, its customer's tier and currency, `active`,
  `category`, `search`) is in that SQL, so a customer moved to another tier or currency reads
  another entry and no list parameter can be forgotten from the key.
- Each entry holds the organization's catalog *generation* (a random token) it was counted under.
  `catalog_changed`, which every write in orders.catalog.services calls, replaces the token, so
  every count of the organization is recounted on its next read. The token is replaced at once and
  again after the transaction commits (`on_commit`): a count taken while the write was not yet
  visible carries the first token and is dropped by the second; the first keeps a transaction's
  own reads (and tests, which never commit) right. The generation is read before counting, so a
  count can only be stored under a token at least as old as the data it saw.
- A generation lost from the cache (eviction) is replaced by a new random token, never by one an
  old entry could carry. Entries expire after COUNT_TTL: that bounds the memory of searches and the
  lag of a write made around the services (raw ORM or SQL), which should call `catalog_changed`.
- Only with a shared cache that is not the database (Redis, memcached): the database cache would
  spend more queries than the count it saves, and a per-process cache could not be invalidated
  across processes. Without one, `catalog_count` is `queryset.count()`.

One cache round trip on a hit (MGET of the generation and the entry).
"""
from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction

COUNT_TTL = 10 * 60  # seconds
CACHING_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


def counts_cached() -> bool:
    """Whether the default cache may hold counts (shared by every process, and not the database)."""
    from django.conf import settings

    return settings.CACHES["default"]["BACKEND"] in CACHING_BACKENDS


def _generation_key(organization_id) -> str:
    return f"catalog:generation:{organization_id}"


def _new_generation() -> str:
    return uuid.uuid4().hex


def catalog_changed(organization_id) -> None:
    """The organization's catalog changed (products, their active flag or prices): every cached
    count of it is recounted on its next read. Now, and again once the transaction commits."""
    if not counts_cached():
        return
    key = _generation_key(organization_id)
    cache.set(key, _new_generation(), timeout=None)
    transaction.on_commit(lambda: cache.set(key, _new_generation(), timeout=None))


def catalog_count(queryset, *, organization_id) -> int:
    """`queryset.count()` from the cache when the organization's catalog has not changed since it
    was counted. `organization_id` None (a superuser's queryset over every organization) is not cached."""
    if organization_id is None or not counts_cached():
        return queryset.count()
    sql, params = queryset.order_by().query.sql_with_params()
    digest = hashlib.blake2b(repr((sql, params)).encode(), digest_size=16).hexdigest()
    generation_key, count_key = _generation_key(organization_id), f"catalog:count:{organization_id}:{digest}"
    found = cache.get_many([generation_key, count_key])
    generation = found.get(generation_key)
    if generation is None:
        generation = _new_generation()
        if not cache.add(generation_key, generation, timeout=None):
            generation = cache.get(generation_key)  # another process set it first
            if generation is None:
                return queryset.count()
    stored = found.get(count_key)
    if stored is not None and stored[0] == generation:
        return stored[1]
    count = queryset.count()
    cache.set(count_key, (generation, count), COUNT_TTL)
    return count


class CountedQuerySet:
    """A queryset whose `count()` is already known (the pagination asks it); everything else is the queryset's."""

    def __init__(self, queryset, count: int):
        self._queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, item):
        return self._queryset[item]

    def __iter__(self):
        return iter(self._queryset)

    def __getattr__(self, name):
        return getattr(self._queryset, name)
