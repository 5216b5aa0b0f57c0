"""Every write about accounts goes through these functions."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from accounts.models import User
from accounts.validators import validate_image_upload


class EmailTaken(ValidationError):
    def __init__(self):
        super().__init__(
            {
                "email": ValidationError(
                    "An account with this email already exists.", code="email_taken"
                )
            }
        )


def user_create(
    *,
    email: str,
    password: str,
    display_name: str,
    is_musician: bool = False,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Register a person. Raises ValidationError (email_taken, password rules)."""
    email = User.objects.normalize_email(email.strip())
    display_name = display_name.strip()
    candidate = User(email=email, display_name=display_name, is_musician=is_musician)
    password_validation.validate_password(password, user=candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email,
                password=password,
                display_name=display_name,
                is_musician=is_musician,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
    except IntegrityError:
        # Two registrations raced past the check above; the database constraint decided.
        raise EmailTaken() from None


def profile_update(*, user: User, **fields) -> User:
    """Change the caller's own profile; only the editable fields are accepted."""
    editable = {"display_name", "avatar", "preferred_audio_quality", "offline_mode", "phone_number"}
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if fields.get("avatar"):
        validate_image_upload(fields["avatar"])
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old_avatar = locked.avatar.name if locked.avatar else ""
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["password", "email"])
        locked.save(update_fields=[*fields.keys()])
        if "avatar" in fields and old_avatar and old_avatar != locked.avatar.name:
            storage = locked.avatar.storage
            transaction.on_commit(lambda: storage.delete(old_avatar))
    return locked


# --- login with failure limits --------------------------------------------------------------


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"Too many failed attempts. Try again in {retry_after} seconds.")


@dataclass(frozen=True)
class _FailureKeys:
    account: str
    address: str


def _failure_keys(email: str, ip_address: str) -> _FailureKeys:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return _FailureKeys(account=f"login-fail:acct:{account}", address=f"login-fail:ip:{ip_address}")


def _failures(key: str) -> int:
    return cache.get(key, 0)


def _record_failure(key: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)


def login_check_allowed(*, email: str, ip_address: str) -> None:
    """Raise LoginThrottled when the account or the address has used up its failures."""
    keys = _failure_keys(email, ip_address)
    limit = settings.LOGIN_FAILURE_LIMIT
    if _failures(keys.account) >= limit or _failures(keys.address) >= limit:
        raise LoginThrottled(retry_after=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_authenticate(*, request, email: str, password: str, ip_address: str) -> User | None:
    """Check the credentials under the failure limits; a failure counts for account and address."""
    login_check_allowed(email=email, ip_address=ip_address)
    user = authenticate(request, email=email, password=password)
    if user is None:
        keys = _failure_keys(email, ip_address)
        _record_failure(keys.account)
        _record_failure(keys.address)
    return user


def api_token_issue(*, user: User) -> str:
    """A new API token for one client; the database keeps only its digest."""
    _instance, token = AuthToken.objects.create(user=user)
    return token


def api_token_revoke(*, token: AuthToken) -> None:
    token.delete()


def api_tokens_purge_expired() -> int:
    from django.utils import timezone

    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
