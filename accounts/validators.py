"""Validation of what people tell about themselves: avatars and phone numbers."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_IMAGE_PIXELS = 40_000_000  # guards against decompression bombs
MAX_AVATAR_SIDE = 4096

# What a person reads when the phone number rule (User.phone_number: libphonenumber, through
# django-phonenumber-field) refuses a number, on the profile page and in the API alike.
PHONE_NUMBER_INVALID = (
    "Enter a valid phone number in international format, with its country code, e.g. +14155550123."
)


def validate_image_upload(upload, *, max_bytes: int | None = None, max_side: int = MAX_AVATAR_SIDE):
    """Accept only real raster images of a sane size; the file name and content type are ignored."""
    max_bytes = max_bytes or settings.AVATAR_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationError(
            "The image is %(size)s; the limit is %(limit)s.",
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)},
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError("The image has too many pixels.", code="image_too_large")
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            "The file is not an image we can read. Upload a JPEG, PNG, WebP or GIF.",
            code="invalid_image",
        ) from None
    finally:
        upload.seek(position)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            "Upload a JPEG, PNG, WebP or GIF image.", code="unsupported_image_format"
        )
    if width > max_side or height > max_side:
        raise ValidationError(
            "The image is %(w)sx%(h)s pixels; at most %(max)sx%(max)s is allowed.",
            code="image_too_large",
            params={"w": width, "h": height, "max": max_side},
        )
    return image_format
