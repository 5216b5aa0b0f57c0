"""What notifications does when accounts emits one of its hooks (connected in config/wiring.py)."""

import uuid

from notifications.services import notify


def user_registered(*, user, verify_url: str) -> None:
    # Inside the sign-up transaction: notify writes the rows there and sends after commit.
    notify(
        "account.welcome",
        recipient=user,
        context={"url": "/"},
        key=f"account.welcome:{user.pk}",
    )
    notify(
        "account.email_verification",
        recipient=user,
        context={"verify_url": verify_url},
        key=f"account.email_verification:{user.pk}:signup",
    )


def email_verification_requested(*, user, verify_url: str) -> None:
    # Every request is a new link to send: its own key. Nothing else is written, so durable.
    notify(
        "account.email_verification",
        recipient=user,
        context={"verify_url": verify_url},
        key=f"account.email_verification:{user.pk}:{uuid.uuid4().hex}",
        durable=True,
    )


def password_reset_requested(*, user, reset_url: str) -> None:
    notify(
        "account.password_reset",
        recipient=user,
        context={"reset_url": reset_url},
        key=f"account.password_reset:{user.pk}:{uuid.uuid4().hex}",
        durable=True,
    )


def phone_verification_requested(
    *, user, phone_number: str, code: str, expires_minutes: int, key: str
) -> None:
    notify(
        "account.phone_verification",
        recipient=user,
        context={"code": code, "phone_number": phone_number, "expires_minutes": expires_minutes},
        key=key,
    )
