"""Every write about accounts goes through these functions."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from knox.models import AuthToken

from accounts import hooks
from accounts.models import PhoneVerification, User
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
    with transaction.atomic():
        try:
            user = User.objects.create_user(
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
        # Welcome and "confirm your email" go out once this transaction commits.
        hooks.emit("user_registered", user=user, verify_url=email_verification_url(user=user))
    return user


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
        old_phone = locked.phone_number
        for name, value in fields.items():
            setattr(locked, name, value)
        update_fields = [*fields.keys()]
        if "phone_number" in fields and locked.phone_number != old_phone:
            # A new number has to be proved again before SMS or WhatsApp go to it.
            locked.phone_verified_at = None
            update_fields.append("phone_verified_at")
        # Only what changes is checked: a value stored under an older rule (a phone number
        # from before libphonenumber) does not block changing something else.
        locked.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in fields])
        locked.save(update_fields=update_fields)
        if "avatar" in fields and old_avatar and old_avatar != locked.avatar.name:
            storage = locked.avatar.storage
            transaction.on_commit(lambda: storage.delete(old_avatar))
    return locked


# --- email verification -------------------------------------------------------------------

EMAIL_VERIFICATION_SALT = "accounts.email_verification"
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=7)
EMAIL_VERIFICATION_RESEND_SECONDS = 60


class VerificationError(ValidationError):
    """A verification that cannot go ahead; ``code`` says why (shown to the person as is)."""


class VerificationThrottled(Exception):
    def __init__(self, retry_after: int, message: str = "Please wait before asking again."):
        self.retry_after = retry_after
        super().__init__(message)


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def email_verification_url(*, user: User) -> str:
    """A signed link that proves whoever opens it reads mail at the person's current address."""
    token = signing.dumps(
        {"u": str(user.pk), "e": user.email.lower()}, salt=EMAIL_VERIFICATION_SALT
    )
    return _site_url(reverse("accounts:email_verify", kwargs={"token": token}))


def email_verification_request(*, user: User) -> None:
    """Send a new confirmation link (at most one a minute). Nothing is written: the link is
    signed, so it is sent at once through the hook."""
    if user.email_verified_at is not None:
        raise VerificationError("Your email is already confirmed.", code="already_verified")
    if not cache.add(f"email-verify-sent:{user.pk}", 1, timeout=EMAIL_VERIFICATION_RESEND_SECONDS):
        raise VerificationThrottled(
            EMAIL_VERIFICATION_RESEND_SECONDS, "We just sent a link. Please wait a minute."
        )
    hooks.emit(
        "email_verification_requested", user=user, verify_url=email_verification_url(user=user)
    )


def email_verification_confirm(*, token: str) -> User:
    """Mark the email of the link's person as confirmed. Raises VerificationError when the
    link is forged, too old, or for an address the person no longer has."""
    try:
        data = signing.loads(
            token,
            salt=EMAIL_VERIFICATION_SALT,
            max_age=EMAIL_VERIFICATION_MAX_AGE.total_seconds(),
        )
    except signing.SignatureExpired:
        raise VerificationError(
            "This link is too old. Ask for a new one.", code="link_expired"
        ) from None
    except signing.BadSignature:
        raise VerificationError("This link is not valid.", code="invalid_link") from None
    if not isinstance(data, dict):
        raise VerificationError("This link is not valid.", code="invalid_link")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u"), is_active=True).first()
        if user is None or user.email.lower() != data.get("e"):
            raise VerificationError("This link is not valid.", code="invalid_link")
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
    return user


# --- phone verification ---------------------------------------------------------------------

PHONE_CODE_DIGITS = 6
PHONE_CODE_TTL = timedelta(minutes=10)
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_RESEND_SECONDS = 60
PHONE_CODES_PER_DAY = 10


def _phone_code_hash(*, user_id, phone_number: str, code: str) -> str:
    # Keyed with SECRET_KEY: a copy of the table alone does not give the codes away.
    return salted_hmac(
        "accounts.phone_verification", f"{user_id}:{phone_number}:{code}", algorithm="sha256"
    ).hexdigest()


def phone_verification_request(*, user: User) -> PhoneVerification:
    """Issue a 6-digit code for the person's phone number and send it by SMS after commit.

    A new code supersedes the previous one. At most one code a minute, ten a day.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.phone_number:
            raise VerificationError("Add a phone number to your profile first.", code="no_phone")
        if locked.phone_verified_at is not None:
            raise VerificationError(
                "This phone number is already verified.", code="already_verified"
            )
        recent = PhoneVerification.objects.filter(
            user=locked, created_at__gte=now - timedelta(days=1)
        )
        latest = recent.first()
        if latest is not None:
            waited = (now - latest.created_at).total_seconds()
            if waited < PHONE_CODE_RESEND_SECONDS:
                raise VerificationThrottled(
                    int(PHONE_CODE_RESEND_SECONDS - waited) + 1,
                    "We just sent a code. Please wait a minute before asking again.",
                )
        if recent.count() >= PHONE_CODES_PER_DAY:
            raise VerificationThrottled(
                24 * 3600, "Too many codes today. Please try again tomorrow."
            )
        code = f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"
        number = str(locked.phone_number)  # E.164
        verification = PhoneVerification.objects.create(
            user=locked,
            phone_number=number,
            code_hash=_phone_code_hash(user_id=locked.pk, phone_number=number, code=code),
            expires_at=now + PHONE_CODE_TTL,
        )
        hooks.emit(
            "phone_verification_requested",
            user=locked,
            phone_number=number,
            code=code,
            expires_minutes=int(PHONE_CODE_TTL.total_seconds() // 60),
            key=f"phone-verification:{verification.pk}",
        )
    return verification


def phone_verification_confirm(*, user: User, code: str) -> User:
    """Check `code` against the person's latest code for their current number.

    Wrong codes count against the code's attempts (the count is kept even though the call
    fails); an expired, used, superseded or exhausted code is refused.
    """
    code = (code or "").strip()
    error: VerificationError | None = None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user=locked)
            .order_by("-created_at", "-id")
            .first()
        )
        now = timezone.now()
        number = str(locked.phone_number)  # E.164, as the code was issued for
        if verification is None or not number or verification.phone_number != number:
            error = VerificationError("Ask for a code first.", code="no_code")
        elif verification.used_at is not None:
            error = VerificationError(
                "This code was already used. Ask for a new one.", code="code_used"
            )
        elif verification.expires_at <= now:
            error = VerificationError(
                "This code has expired. Ask for a new one.", code="code_expired"
            )
        elif verification.attempts >= PHONE_CODE_MAX_ATTEMPTS:
            error = VerificationError(
                "Too many wrong codes. Ask for a new one.", code="too_many_attempts"
            )
        elif not constant_time_compare(
            verification.code_hash,
            _phone_code_hash(user_id=locked.pk, phone_number=number, code=code),
        ):
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
            error = VerificationError("That code is not right.", code="invalid_code")
        else:
            verification.used_at = now
            verification.save(update_fields=["used_at"])
            locked.phone_verified_at = now
            locked.save(update_fields=["phone_verified_at"])
    # Raised after the block so the counted attempt is committed, not rolled back.
    if error is not None:
        raise error
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
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
