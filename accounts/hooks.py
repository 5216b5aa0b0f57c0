"""How accounts tells the apps above it that something happened (DESIGN.md section 2).

accounts is the lowest layer and imports nothing above it. An app that must act on an account
event (notifications sends the mail and the SMS) registers a handler for the event's purpose in
its ``AppConfig.ready()``; accounts' services call :func:`emit`. No Django signals: the registry
is explicit, keyed by purpose, and each purpose documents its arguments and when it is emitted.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# purpose -> what it means, when it is emitted and the keyword arguments handlers receive.
PURPOSES: dict[str, str] = {
    "user_registered": (
        "A person signed up. Emitted inside the sign-up transaction; handlers schedule their "
        "side effects with transaction.on_commit. Arguments: user, verify_url."
    ),
    "email_verification_requested": (
        "A person asked for a new link to confirm their email. Emitted outside any "
        "transaction (nothing is written). Arguments: user, verify_url."
    ),
    "password_reset_requested": (
        "Someone asked to reset the password of an active account. Emitted outside any "
        "transaction (the reset token is signed, nothing is written). Arguments: user, reset_url."
    ),
    "phone_verification_requested": (
        "A code was issued to prove a phone number. Emitted inside the transaction that stored "
        "the code's hash. Arguments: user, phone_number, code, expires_minutes, key (unique per "
        "code, for idempotent delivery)."
    ),
}

Handler = Callable[..., object]


class HookRegistry:
    """Handlers registered by higher apps, keyed by purpose, called in registration order.

    Each lower app that must tell higher apps about something (accounts, audio, billing) owns
    one registry with its documented purposes; the higher app registers in ``ready()``.
    """

    def __init__(self, owner: str, purposes):
        self.owner = owner
        self._handlers: dict[str, list[Handler]] = {purpose: [] for purpose in purposes}

    def _check(self, purpose: str) -> None:
        if purpose not in self._handlers:
            raise ValueError(f"unknown {self.owner} hook purpose: {purpose!r}")

    def register(self, purpose: str, handler: Handler) -> None:
        """Call `handler(**arguments)` whenever `purpose` is emitted (idempotent)."""
        self._check(purpose)
        if handler not in self._handlers[purpose]:
            self._handlers[purpose].append(handler)

    def unregister(self, purpose: str, handler: Handler) -> None:
        self._check(purpose)
        if handler in self._handlers[purpose]:
            self._handlers[purpose].remove(handler)

    def handlers(self, purpose: str) -> tuple[Handler, ...]:
        self._check(purpose)
        return tuple(self._handlers[purpose])

    def emit(self, purpose: str, **arguments) -> int:
        """Run every handler of `purpose`; return how many ran.

        A handler's exception propagates to the caller: inside a transaction it rolls the
        transaction back, which is what a caller relying on the handler wants.
        """
        registered = self.handlers(purpose)
        for handler in registered:
            handler(**arguments)
        return len(registered)


_registry = HookRegistry("accounts", PURPOSES)
register = _registry.register
unregister = _registry.unregister
handlers = _registry.handlers


def emit(purpose: str, **arguments) -> int:
    """Run every handler registered for `purpose`, in registration order; return how many ran."""
    ran = _registry.emit(purpose, **arguments)
    if not ran:
        logger.warning("accounts hook %r emitted with no handler registered", purpose)
    return ran
