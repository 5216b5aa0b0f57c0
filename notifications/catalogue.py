"""Every event Encore sends, with its channels, defaults, criticality and template names.

An event's templates live in ``site/templates/notifications/``:

- ``email/<event>.subject.txt``, ``email/<event>.txt`` and ``email/<event>.html`` (the HTML
  extends ``email/base.html``, the text ``email/base.txt``);
- ``sms/<event>.txt``: the SMS text, also the WhatsApp text inside the 24-hour window;
- ``in_app/<event>.txt``: the first line is the title, the rest the body; the link is
  ``context["url"]``.

Text templates are rendered without HTML escaping. Every template gets the caller's context
plus ``name`` (the person's display name), ``recipient``, ``site_name`` and ``site_url``;
context keys ending in ``_at`` are datetimes (stored as ISO strings, given back as datetimes).

Outside WhatsApp's 24-hour window only approved templates may be sent: the setting
``TWILIO_WHATSAPP_CONTENT_SIDS`` maps an event to its Content SID, and ``whatsapp_variables``
lists the context keys that fill the template's ``{{1}}``, ``{{2}}``... in order.
"""

from dataclasses import dataclass, field

from notifications.models import Channel

EMAIL, SMS, WHATSAPP, IN_APP = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP
ALL = frozenset({EMAIL, SMS, WHATSAPP, IN_APP})


class UnknownEvent(ValueError):
    pass


class MissingContext(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    name: str
    label: str
    group: str
    channels: frozenset[str]
    defaults: frozenset[str]
    # Channels that cannot be turned off: critical account mail (and the code you asked for).
    locked: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    # Context keys that are secrets (links with tokens, codes): left out of the idempotency
    # key and scrubbed from the delivery log once the delivery is final.
    sensitive: tuple[str, ...] = ()
    whatsapp_variables: tuple[str, ...] = ("name",)
    audience: str = "all"  # "all", "musician" or "staff": who sees it on the preferences page
    # True when the phone number comes from the context (the code for a number being verified)
    # rather than the person's verified number.
    phone_from_context: bool = False
    description: str = field(default="", compare=False)

    @property
    def critical(self) -> bool:
        return bool(self.locked)

    def default_for(self, channel: str) -> bool:
        return channel in self.locked or channel in self.defaults

    def check_context(self, context: dict) -> None:
        missing = [key for key in self.required if key not in context]
        if missing:
            raise MissingContext(f"{self.name} needs context {', '.join(missing)}")

    def template(self, kind: str) -> str:
        return {
            "subject": f"notifications/email/{self.name}.subject.txt",
            "text": f"notifications/email/{self.name}.txt",
            "html": f"notifications/email/{self.name}.html",
            "sms": f"notifications/sms/{self.name}.txt",
            "in_app": f"notifications/in_app/{self.name}.txt",
        }[kind]


ACCOUNT, ORDERS, LISTENING = "Account", "Orders", "Listening"
ORDER_KEYS = ("order_title", "url")
MONEY_KEYS = ("amount_minor", "currency")


def _event(name, label, group, channels, defaults, **options) -> EventType:
    return EventType(
        name=name,
        label=label,
        group=group,
        channels=frozenset(channels),
        defaults=frozenset(defaults),
        **options,
    )


EVENTS: dict[str, EventType] = {
    event.name: event
    for event in [
        # --- account ----------------------------------------------------------------------------
        _event(
            "account.welcome",
            "Welcome to Encore",
            ACCOUNT,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            whatsapp_variables=(),
        ),
        _event(
            "account.email_verification",
            "Confirm your email address",
            ACCOUNT,
            {EMAIL},
            {EMAIL},
            locked=frozenset({EMAIL}),
            required=("verify_url",),
            sensitive=("verify_url",),
            whatsapp_variables=(),
        ),
        _event(
            "account.password_reset",
            "Password reset link",
            ACCOUNT,
            {EMAIL},
            {EMAIL},
            locked=frozenset({EMAIL}),
            required=("reset_url",),
            sensitive=("reset_url",),
            whatsapp_variables=(),
        ),
        _event(
            "account.phone_verification",
            "Phone verification code",
            ACCOUNT,
            {SMS},
            {SMS},
            locked=frozenset({SMS}),
            required=("code", "phone_number", "expires_minutes"),
            sensitive=("code",),
            whatsapp_variables=(),
            phone_from_context=True,
        ),
        # --- orders -----------------------------------------------------------------------------
        _event(
            "order.placed",
            "Your order is placed",
            ORDERS,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=ORDER_KEYS,
            whatsapp_variables=("name", "order_title", "url"),
        ),
        _event(
            "order.deposit_received",
            "Deposit received",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, *MONEY_KEYS),
            whatsapp_variables=("name", "order_title", "amount", "url"),
        ),
        _event(
            "order.offer",
            "A new order is offered to you",
            ORDERS,
            ALL,
            {EMAIL, SMS, IN_APP},
            required=(*ORDER_KEYS, "customer_name", "expires_at"),
            whatsapp_variables=("name", "order_title", "expires", "url"),
            audience="musician",
        ),
        _event(
            "order.offer_accepted",
            "A musician accepted your order",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "musician_name"),
            whatsapp_variables=("name", "musician_name", "order_title", "url"),
        ),
        _event(
            "order.offer_declined",
            "A musician declined your order",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "musician_name"),
            whatsapp_variables=("name", "musician_name", "order_title", "url"),
        ),
        _event(
            "order.offer_expired",
            "An offer expired",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=ORDER_KEYS,
            whatsapp_variables=("name", "order_title", "url"),
        ),
        _event(
            "order.unmatched",
            "No musician is free for your order yet",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=ORDER_KEYS,
            whatsapp_variables=("name", "order_title", "url"),
        ),
        _event(
            "order.stage_changed",
            "Your order moved to a new stage",
            ORDERS,
            {EMAIL, WHATSAPP, IN_APP},
            {IN_APP},
            required=(*ORDER_KEYS, "stage"),
            whatsapp_variables=("name", "order_title", "stage", "url"),
        ),
        _event(
            "order.draft_ready",
            "A draft is ready to review",
            ORDERS,
            ALL,
            {EMAIL, SMS, IN_APP},
            required=(*ORDER_KEYS, "musician_name"),
            whatsapp_variables=("name", "musician_name", "order_title", "url"),
        ),
        _event(
            "order.revision_requested",
            "A revision is requested",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "customer_name"),
            whatsapp_variables=("name", "customer_name", "order_title", "url"),
            audience="musician",
        ),
        _event(
            "order.revision_consent",
            "The musician answered your request for an extra revision",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "musician_name", "accepted"),
            whatsapp_variables=("name", "musician_name", "order_title", "url"),
        ),
        _event(
            "order.draft_approved",
            "A draft is approved",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "customer_name"),
            whatsapp_variables=("name", "customer_name", "order_title", "url"),
            audience="musician",
        ),
        _event(
            "order.delivered",
            "Your song is delivered: balance due",
            ORDERS,
            ALL,
            {EMAIL, SMS, IN_APP},
            required=(*ORDER_KEYS, *MONEY_KEYS),
            whatsapp_variables=("name", "order_title", "amount", "url"),
        ),
        _event(
            "order.balance_paid",
            "Balance paid: downloads ready",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=ORDER_KEYS,
            whatsapp_variables=("name", "order_title", "url"),
        ),
        _event(
            "order.dispute_opened",
            "A dispute is opened",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=ORDER_KEYS,
            whatsapp_variables=("name", "order_title", "url"),
        ),
        _event(
            "order.dispute_resolved",
            "A dispute is resolved",
            ORDERS,
            ALL,
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "outcome"),
            whatsapp_variables=("name", "order_title", "outcome", "url"),
        ),
        _event(
            "order.review_received",
            "You received a review",
            ORDERS,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=(*ORDER_KEYS, "customer_name", "rating"),
            whatsapp_variables=("name", "customer_name", "rating", "url"),
            audience="musician",
        ),
        _event(
            "chat.unread_digest",
            "Unread chat messages while you were away",
            ORDERS,
            {EMAIL, SMS, WHATSAPP},
            {EMAIL},
            required=("conversations", "total", "url"),
            whatsapp_variables=("name", "total", "url"),
        ),
        _event(
            "payout.paid",
            "A payout reached your account",
            ORDERS,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=(*MONEY_KEYS, "url"),
            whatsapp_variables=(),
            audience="musician",
        ),
        _event(
            "payout.failed",
            "A payout could not be made",
            ORDERS,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=(*MONEY_KEYS, "url", "reason"),
            whatsapp_variables=(),
            audience="musician",
        ),
        _event(
            "payout.failed_staff",
            "Staff: a payout failed after every retry",
            ORDERS,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=(*MONEY_KEYS, "url", "reason", "musician_name", "attempts"),
            whatsapp_variables=(),
            audience="staff",
        ),
        # --- listening --------------------------------------------------------------------------
        _event(
            "subscription.started",
            "Your subscription started",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=("plan_name", "url"),
            whatsapp_variables=("name", "plan_name", "url"),
        ),
        _event(
            "subscription.trial_ending",
            "Your trial ends in 3 days",
            LISTENING,
            {EMAIL, SMS, WHATSAPP, IN_APP},
            {EMAIL, IN_APP},
            required=("plan_name", "ends_at", "url"),
            whatsapp_variables=("name", "plan_name", "ends", "url"),
        ),
        _event(
            "subscription.payment_failed",
            "A subscription payment failed",
            LISTENING,
            ALL,
            {EMAIL, IN_APP},
            required=("plan_name", "url"),
            whatsapp_variables=("name", "plan_name", "url"),
        ),
        _event(
            "subscription.seat_invitation",
            "You are invited to a plan",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=("inviter_name", "plan_name", "url"),
            whatsapp_variables=("name", "inviter_name", "plan_name", "url"),
        ),
        _event(
            "subscription.student_approved",
            "Your student price is approved",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=("url", "expires_at"),
            whatsapp_variables=(),
        ),
        _event(
            "subscription.student_rejected",
            "Your student price request was declined",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=("url", "reason"),
            whatsapp_variables=(),
        ),
        # Staff hid a musician's song or album (``kind``) that breaks the rules, or listed it
        # again. In-app cannot be turned off: the owner must be able to learn why.
        _event(
            "catalog.hidden",
            "Staff hid one of your songs or albums",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            locked=frozenset({IN_APP}),
            required=("kind", "title", "reason", "url"),
            whatsapp_variables=(),
            audience="musician",
        ),
        _event(
            "catalog.restored",
            "Staff listed your song or album again",
            LISTENING,
            {EMAIL, IN_APP},
            {EMAIL, IN_APP},
            required=("kind", "title", "url"),
            whatsapp_variables=(),
            audience="musician",
        ),
    ]
}

GROUPS = (ACCOUNT, ORDERS, LISTENING)


def get(name: str) -> EventType:
    try:
        return EVENTS[name]
    except KeyError:
        raise UnknownEvent(f"unknown notification event: {name!r}") from None


def events_for(user) -> list[EventType]:
    """The events a person may tune, in catalogue order (musician-only ones for musicians)."""
    return [
        event
        for event in EVENTS.values()
        if event.audience == "all"
        or (event.audience == "musician" and user.is_musician)
        or (event.audience == "staff" and user.is_staff)
    ]
