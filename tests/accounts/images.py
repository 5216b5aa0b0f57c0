"""Real images made in memory for upload tests (no binary fixtures in the repository)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_upload(name="avatar.png", *, size=(64, 64), image_format="PNG", color=(91, 60, 196)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    content_type = {
        "PNG": "image/png",
        "JPEG": "image/jpeg",
        "WEBP": "image/webp",
        "GIF": "image/gif",
    }
    return SimpleUploadedFile(
        name,
        buffer.getvalue(),
        content_type=content_type.get(image_format, "application/octet-stream"),
    )
