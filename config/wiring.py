"""Every hook wiring of the project, in one place: which handler hears which purpose.

Direction: a lower app (accounts, audio, billing) owns a registry of purposes
(``core.hooks.HookRegistry``) and emits to it when something happens; a higher app
(notifications, orders) owns the handler that acts on it. Neither imports the other: this
module, in the top layer, connects them, one line per (registry, purpose, handler), so
``grep register config/wiring.py`` lists them all. ``ConfigConfig.ready()`` runs it once every
app is loaded.
"""

from accounts import hooks as account_hooks
from audio import registry as audio_hooks
from billing import hooks as billing_hooks
from billing import tasks as billing_tasks
from billing.providers import sandbox as billing_sandbox
from billing.services import webhooks as billing_webhooks
from cms import handlers as showcase
from notifications import handlers as notices
from orders import payments as order_payments
from orders.services import versions as order_versions


def hooks_wire() -> None:
    """Connect every handler to its purpose (idempotent: a handler is registered once)."""
    # accounts -> notifications: the mail and SMS about a person's account
    account_hooks.register("user_registered", notices.user_registered)
    account_hooks.register("email_verification_requested", notices.email_verification_requested)
    account_hooks.register("password_reset_requested", notices.password_reset_requested)
    account_hooks.register("phone_verification_requested", notices.phone_verification_requested)
    # accounts -> cms: a musician who signs up gets their showcase page
    account_hooks.register("user_registered", showcase.musician_registered)

    # billing -> orders: a milestone payment of an order moved (captured, failed, refunded)
    billing_hooks.register("order_deposit", order_payments.deposit_event)
    billing_hooks.register("order_balance", order_payments.balance_event)

    # billing's sandbox provider -> billing's webhook service: the sandbox posts its signed
    # webhooks as a real provider would, in process or (SANDBOX_WEBHOOK_URL) from the worker
    billing_sandbox.connect(
        receive=billing_webhooks.webhook_receive,
        send_over_http=billing_tasks.sandbox_deliver_webhook.delay,
    )

    # audio -> orders: a draft's preview, or a final's delivery formats, are ready or failed
    audio_hooks.register("preview", order_versions.version_asset_settled)
    audio_hooks.register("delivery", order_versions.delivery_asset_settled)
