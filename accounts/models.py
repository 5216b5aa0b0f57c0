import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField

from accounts.validators import PHONE_NUMBER_INVALID


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Emails are unique whatever their letter case, and so is the login.
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users must have an email address.")
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class AudioQuality(models.TextChoices):
    LOW = "low", "Low (96 kbps)"
    NORMAL = "normal", "Normal (160 kbps)"
    HIGH = "high", "High (320 kbps)"


def avatar_upload_to(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"avatars/{instance.pk}/{uuid.uuid4().hex}.{extension}"


class User(AbstractUser):
    """A person on Encore. Everyone can listen and commission; musicians also sell their work."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None
    email = models.EmailField("email address", max_length=254)
    display_name = models.CharField(max_length=80)
    is_musician = models.BooleanField(
        default=False, help_text="Musicians run a studio, sell packages and publish songs."
    )
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True)
    preferred_audio_quality = models.CharField(
        max_length=8, choices=AudioQuality.choices, default=AudioQuality.NORMAL
    )
    offline_mode = models.BooleanField(default=False)
    # Stored as E.164 (+14155550123); reads as a phonenumber_field PhoneNumber, whose str() is
    # the E.164 form.
    phone_number = PhoneNumberField(blank=True, error_messages={"invalid": PHONE_NUMBER_INVALID})
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person proved they read mail at this address."
    )
    phone_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the person proved they hold this phone number (a code sent by SMS). "
        "Cleared when the number changes; SMS and WhatsApp go only to verified numbers.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.display_name or self.email

    def get_full_name(self):
        return self.display_name or super().get_full_name() or self.email

    def get_short_name(self):
        return self.display_name or self.email

    @property
    def role(self) -> str:
        return "musician" if self.is_musician else "listener"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def phone_verified(self) -> bool:
        return bool(self.phone_number) and self.phone_verified_at is not None


class PhoneVerification(models.Model):
    """A code sent by SMS to prove a person holds a phone number.

    Only a keyed hash of the code is stored. A code is good for one number, until it expires,
    for a limited number of tries, and once; asking for a new code supersedes the old one.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_verifications")
    phone_number = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_phonever_user_idx")]

    def __str__(self):
        return f"phone verification for {self.phone_number}"
