"""Every write about commission orders (docs/architecture.md sections 2 and 5). See each module:

- ``core``: packages, briefs and placing an order (with its deposit);
- ``transitions``: one locked, audited service per state change, and the balance milestone;
- ``matching``: offers to the best candidate, declines, expiry, the musician's profile;
- ``versions``: drafts (versions with previews) and finals (delivery), signed links;
- ``reviews``: reviews and musician aggregates;
- ``disputes``: opening, evidence and staff resolution (refund, release, continue);
- ``chat``: the order chat (messages, attachments, read pointers, typing, the unread digest).
"""

from orders.services.chat import (
    ChatRateLimited,
    chat_attachment_upload,
    chat_digests_send,
    chat_message_send,
    chat_read_mark,
)
from orders.services.core import (
    BRIEF_FIELDS,
    MAX_PRICE,
    MAX_REFERENCE_LENGTH,
    MAX_REFERENCES,
    PACKAGE_FIELDS,
    balance_key,
    deposit_key,
    occasions_clean,
    order_deposit_checkout,
    order_place,
    package_create,
    package_deactivate,
    package_update,
)
from orders.services.disputes import (
    dispute_evidence_add,
    dispute_resolve,
    escrow_held,
    order_open_dispute,
)
from orders.services.matching import (
    musician_profile_get,
    musician_profile_update,
    offer_expire,
    offers_expire_due,
    order_decline,
    orders_rematch,
)
from orders.services.reviews import musician_stats_refresh, review_create
from orders.services.transitions import (
    order_accept,
    order_advance_stage,
    order_approve,
    order_balance_captured,
    order_balance_checkout,
    order_cancel,
    order_deliver,
    order_deposit_captured,
    order_request_revision,
    order_submit_draft,
    revision_consent,
)
from orders.services.versions import (
    delivery_asset_settled,
    delivery_upload,
    order_downloads,
    version_asset_settled,
    version_original_url,
    version_preview_url,
    version_upload,
)

__all__ = [
    "ChatRateLimited",
    "chat_attachment_upload",
    "chat_digests_send",
    "chat_message_send",
    "chat_read_mark",
    "BRIEF_FIELDS",
    "MAX_PRICE",
    "MAX_REFERENCES",
    "MAX_REFERENCE_LENGTH",
    "PACKAGE_FIELDS",
    "balance_key",
    "delivery_asset_settled",
    "delivery_upload",
    "deposit_key",
    "dispute_evidence_add",
    "dispute_resolve",
    "escrow_held",
    "musician_profile_get",
    "musician_profile_update",
    "musician_stats_refresh",
    "occasions_clean",
    "offer_expire",
    "offers_expire_due",
    "order_accept",
    "order_advance_stage",
    "order_approve",
    "order_balance_captured",
    "order_balance_checkout",
    "order_cancel",
    "order_decline",
    "order_deliver",
    "order_deposit_captured",
    "order_deposit_checkout",
    "order_downloads",
    "order_open_dispute",
    "order_place",
    "order_request_revision",
    "order_submit_draft",
    "orders_rematch",
    "package_create",
    "package_deactivate",
    "package_update",
    "review_create",
    "revision_consent",
    "version_asset_settled",
    "version_original_url",
    "version_preview_url",
    "version_upload",
]
