import logging

from celery import shared_task

from accounts.services import api_tokens_purge_expired

logger = logging.getLogger(__name__)


@shared_task(name="accounts.purge_expired_tokens", acks_late=True, ignore_result=True)
def purge_expired_tokens() -> int:
    """Delete API tokens past their expiry (knox ignores them, but they should not pile up)."""
    deleted = api_tokens_purge_expired()
    logger.info("purged %d expired API tokens", deleted)
    return deleted
