"""How accounts tells the apps above it that something happened.

accounts is the lowest domain layer and imports nothing above it. An app that must act on an
account event (notifications sends the mail and the SMS) provides a handler, connected to the
event's purpose in ``config/wiring.py``; accounts' services call :func:`emit`. The registry is a
``core.hooks.HookRegistry``; each purpose documents its arguments and when it is emitted.
"""

import logging

from core.hooks import HookRegistry

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
