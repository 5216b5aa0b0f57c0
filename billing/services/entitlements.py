"""The cached entitlements of people whose plan changed are forgotten (see
billing.selectors.entitlements_for, which caches them per person)."""

from django.core.cache import cache
from django.db import transaction

from billing import selectors


def entitlements_invalidate(user_ids) -> None:
    """Forget the cached entitlements of these people, now and again after the commit (a read
    between the two would otherwise cache the state being replaced)."""
    keys = [selectors.entitlements_cache_key(user_id) for user_id in set(user_ids)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
