"""The order chat (DESIGN section 7): messages, attachments, read pointers, typing, presence and
the unread digest.

The database is the source of truth. A message is stored first, in a transaction that also
checks the sender's rate and the attachments it references; the push to the order's open
connections (``orders.realtime``) happens after the commit. A connection that missed pushes
asks for ``sync`` after the last id it holds and gets exactly the messages it lacks.

- Idempotency: ``(order, sender, client_msg_id)`` is unique, so a retry (a reconnect, a
  double click, the REST mirror after the socket) returns the stored message, not a second one.
- Rate: at most ``CHAT_RATE_LIMIT`` messages per ``CHAT_RATE_WINDOW`` per person, counted in
  the database under a lock on the sender's row, so it holds across processes.
- Typing: ``ChatPointer.typing_until``; the consumer that heard the start sends the stop itself
  when it passes unrenewed, and every typing event carries its expiry for clients to honour.
"""

import logging
import os
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from audio.errors import UnsupportedMedia, UploadTooLarge
from audio.services import audio_asset_create
from audio.validators import image_upload_validate
from notifications.services import chat_digest_send
from orders import selectors
from orders.errors import Invalid, OrderError
from orders.models import AttachmentKind, ChatAttachment, ChatMessage, ChatPointer, Order
from orders.realtime import order_push
from orders.services.base import display_name, is_staff

logger = logging.getLogger(__name__)

MAX_BODY = 5000
MAX_ATTACHMENTS = 10
CHAT_RATE_LIMIT = 20
CHAT_RATE_WINDOW = timedelta(seconds=10)
PDF_MAX_BYTES = 20 * 1024 * 1024
IMAGE_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
SNIFF_BYTES = 16


def typing_seconds() -> float:
    return float(getattr(settings, "ORDERS_CHAT_TYPING_SECONDS", 15))


class ChatRateLimited(OrderError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"At most {CHAT_RATE_LIMIT} messages in {int(CHAT_RATE_WINDOW.total_seconds())} "
            "seconds: wait a moment."
        )

    @property
    def extra(self) -> dict:
        return {"retry_after": self.retry_after}


class ChatForbidden(OrderError):
    status = 403
    code = "permission_denied"
    default_message = "Only the order's customer, its musician and staff use its chat."


def may_chat(order: Order, user) -> bool:
    """The customer, the order's musician, staff. (Who may *see* the order at all is
    ``selectors.orders_visible_to``; callers find the order through it first.)"""
    if user is None or not user.is_authenticated:
        return False
    return is_staff(user) or user.pk in (order.customer_id, order.musician_id)


def _check(order: Order, user) -> None:
    if not may_chat(order, user):
        raise ChatForbidden()


# --- what the pages and the API show ----------------------------------------------------------


def role_of(order: Order, user_id) -> str:
    if user_id == order.customer_id:
        return "customer"
    if user_id == order.musician_id:
        return "musician"
    return "staff"


def attachment_url(attachment: ChatAttachment) -> str:
    """A stable link that answers with the file (or a freshly signed link to it)."""
    return reverse(
        "api:orders-attachment",
        kwargs={"order_id": attachment.order_id, "attachment_id": attachment.pk},
    )


def attachment_data(attachment: ChatAttachment) -> dict:
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment_url(attachment),
    }


def message_data(message: ChatMessage, order: Order | None = None) -> dict:
    """The ``message`` of a ``{"type": "message"}`` event and of the REST mirror. Reads the
    sender and the attachments already loaded (selectors prefetch them)."""
    order = order or message.order
    sender = message.sender
    return {
        "id": message.pk,
        "client_msg_id": str(message.client_msg_id),
        "sender": {
            "id": str(sender.pk),
            "name": display_name(sender, "Someone"),
            "role": role_of(order, sender.pk),
        },
        "body": message.body,
        "attachments": [attachment_data(a) for a in message.attachments.all()],
        "created_at": message.created_at.isoformat(),
    }


# --- attachments --------------------------------------------------------------------------------


def _head(upload) -> bytes:
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(position)
    return head


def _is_image(head: bytes) -> bool:
    return (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _pdf_check(upload) -> None:
    size = int(upload.size)
    if size > PDF_MAX_BYTES:
        raise UploadTooLarge(
            "The file is %(size)s; the limit is %(limit)s.",
            params={"size": filesizeformat(size), "limit": filesizeformat(PDF_MAX_BYTES)},
        )
    # A PDF ends with its %%EOF marker (within the last kilobyte): a cut-off upload or a file
    # that only starts like a PDF is refused here rather than shown broken to the other side.
    upload.seek(max(0, size - 1024))
    tail = upload.read(1024)
    upload.seek(0)
    if b"%%EOF" not in tail:
        raise UnsupportedMedia(
            "The file starts like a PDF but is not a complete one.", code="bad_pdf"
        )


def _stored_name(order: Order, extension: str) -> str:
    return f"orders/chat/{order.pk}/{uuid.uuid4().hex}.{extension}"


def chat_attachment_upload(*, order: Order, uploader, upload) -> ChatAttachment:
    """Store a file for a later message. Its kind is read from its content, never from its name
    or declared type: PDF by its magic bytes (and size), images through Pillow
    (``image_upload_validate``), anything else must be audio the media pipeline accepts
    (``audio_asset_create``: 413/415/400 as for drafts)."""
    _check(order, uploader)
    if upload is None:
        raise Invalid('Attach a file (multipart field "file").', field="file")
    name = os.path.basename(str(getattr(upload, "name", "") or ""))[:255]
    head = _head(upload)
    if head.startswith(b"%PDF-"):
        _pdf_check(upload)
        return _file_attachment_save(
            order,
            uploader,
            upload,
            kind=AttachmentKind.PDF,
            name=name,
            content_type="application/pdf",
            extension="pdf",
        )
    if _is_image(head):
        image_format = image_upload_validate(upload=upload)
        content_type = IMAGE_CONTENT_TYPES.get(image_format)
        if content_type is None:  # accepted by the shared validator but not a web format
            raise UnsupportedMedia("Attach a JPEG, PNG, WebP or GIF image.")
        return _file_attachment_save(
            order,
            uploader,
            upload,
            kind=AttachmentKind.IMAGE,
            name=name,
            content_type=content_type,
            extension=content_type.split("/")[1],
        )
    with transaction.atomic():
        # "catalog": the pipeline's playable renditions (MP3, HLS), unwatermarked and heard by
        # nobody else; drafts meant to be judged go through versions, with their previews.
        asset = audio_asset_create(owner=uploader, upload=upload, purpose="catalog")
        return ChatAttachment.objects.create(
            order=order,
            uploader=uploader,
            kind=AttachmentKind.AUDIO,
            asset=asset,
            name=name or asset.original_name,
            content_type=f"audio/{asset.format}",
            size=asset.size,
        )


def _file_attachment_save(order, uploader, upload, *, kind, name, content_type, extension):
    upload.seek(0)
    stored = default_storage.save(_stored_name(order, extension), File(upload))
    try:
        return ChatAttachment.objects.create(
            order=order,
            uploader=uploader,
            kind=kind,
            file=stored,
            name=name,
            content_type=content_type,
            size=int(upload.size),
        )
    except BaseException:
        default_storage.delete(stored)
        raise


# --- messages -----------------------------------------------------------------------------------


def _client_msg_id(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise Invalid("client_msg_id must be a UUID.", field="client_msg_id") from None


def _attachment_ids(values) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise Invalid("attachments is a list of attachment ids.", field="attachments")
    ids = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
            raise Invalid("attachments is a list of attachment ids.", field="attachments")
        ids.append(value)
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_ATTACHMENTS:
        raise Invalid(f"At most {MAX_ATTACHMENTS} attachments a message.", field="attachments")
    return ids


def _stored(order, sender, client_msg_id) -> ChatMessage | None:
    return (
        ChatMessage.objects.select_related("sender")
        .prefetch_related("attachments")
        .filter(order=order, sender=sender, client_msg_id=client_msg_id)
        .first()
    )


def chat_message_send(
    *, order: Order, sender, client_msg_id, body, attachments=None
) -> tuple[ChatMessage, bool]:
    """Store a message and push it to the order's connections after the commit.

    Returns ``(message, created)``: a ``client_msg_id`` the sender already used on this order
    returns the stored message (``created`` False) and pushes nothing. Raises ``Invalid`` (bad
    input, attachments that are not the sender's own unattached ones of this order),
    ``ChatForbidden`` and ``ChatRateLimited`` (nothing stored).
    """
    _check(order, sender)
    client_msg_id = _client_msg_id(client_msg_id)
    if not isinstance(body, str):
        raise Invalid("body must be text.", field="body")
    body = body.strip()
    attachment_ids = _attachment_ids(attachments)
    if len(body) > MAX_BODY:
        raise Invalid(f"At most {MAX_BODY} characters.", field="body")
    if not body and not attachment_ids:
        raise Invalid("Write something or attach a file.", field="body")
    try:
        with transaction.atomic():
            # One person's sends queue here, in every process: the rate count and the
            # idempotency check below see each other's messages.
            get_user_model().objects.select_for_update().filter(pk=sender.pk).first()
            existing = _stored(order, sender, client_msg_id)
            if existing is not None:
                return existing, False
            now = timezone.now()
            recent = ChatMessage.objects.filter(
                sender=sender, created_at__gt=now - CHAT_RATE_WINDOW
            ).order_by("created_at")
            if recent.count() >= CHAT_RATE_LIMIT:
                oldest = recent.values_list("created_at", flat=True)[:1][0]
                wait = (oldest + CHAT_RATE_WINDOW - now).total_seconds()
                raise ChatRateLimited(retry_after=max(1, int(wait + 0.999)))
            message = ChatMessage.objects.create(
                order=order, sender=sender, client_msg_id=client_msg_id, body=body
            )
            attached = []
            if attachment_ids:
                attached = list(
                    ChatAttachment.objects.select_for_update()
                    .filter(pk__in=attachment_ids, order=order, uploader=sender, message=None)
                    .order_by("pk")
                )
                if len(attached) != len(attachment_ids):
                    raise Invalid(
                        "Attach only files you uploaded to this order and have not sent yet.",
                        field="attachments",
                    )
                ChatAttachment.objects.filter(pk__in=[a.pk for a in attached]).update(
                    message=message
                )
            _pointers_ensure(order)
            # Sending is reading: the sender has seen everything up to their own message, and
            # their typing ends with it.
            ChatPointer.objects.filter(order=order, user=sender).update(
                last_read_id=Greatest(F("last_read_id"), message.pk),
                last_seen_at=now,
                typing_until=None,
            )
            message.sender = sender
            for attachment in attached:
                attachment.message = message
            # What message_data reads, without asking the database again.
            message._prefetched_objects_cache = {"attachments": _as_prefetched(message, attached)}
            order_push(order.pk, {"type": "message", "message": message_data(message, order)})
    except IntegrityError:
        # The same client_msg_id raced in from another process between the check and the insert.
        existing = _stored(order, sender, client_msg_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def _as_prefetched(message, attachments):
    queryset = ChatAttachment.objects.filter(message=message)
    queryset._result_cache = list(attachments)
    queryset._prefetch_done = True
    return queryset


def _pointers_ensure(order: Order) -> None:
    people = [order.customer_id] + ([order.musician_id] if order.musician_id else [])
    ChatPointer.objects.bulk_create(
        [ChatPointer(order=order, user_id=person) for person in people], ignore_conflicts=True
    )


def _pointer(order: Order, user) -> ChatPointer:
    pointer, _ = ChatPointer.objects.get_or_create(order=order, user=user)
    return pointer


# --- read pointers, presence, typing -----------------------------------------------------------


def chat_read_mark(*, order: Order, user, up_to_id) -> int:
    """Move the person's read pointer forward to ``up_to_id`` (never back, never past the
    newest message); pushes ``{"type": "read"}`` when it moved. Returns where it stands."""
    _check(order, user)
    if isinstance(up_to_id, bool) or not isinstance(up_to_id, int) or up_to_id < 0:
        raise Invalid("up_to_id must be a message id.", field="up_to_id")
    with transaction.atomic():
        newest = (
            ChatMessage.objects.filter(order=order, id__lte=min(up_to_id, 2**63 - 1))
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        ) or 0
        pointer = _pointer(order, user)
        moved = ChatPointer.objects.filter(pk=pointer.pk, last_read_id__lt=newest).update(
            last_read_id=newest, last_seen_at=timezone.now()
        )
        if not moved:
            return max(pointer.last_read_id, newest)
        order_push(order.pk, {"type": "read", "user": {"id": str(user.pk)}, "up_to_id": newest})
    return newest


def chat_seen_touch(*, order: Order, user) -> None:
    """A connection of the person to this order's chat is alive now (the digest's "offline")."""
    if not may_chat(order, user):
        return
    updated = ChatPointer.objects.filter(order=order, user=user).update(last_seen_at=timezone.now())
    if not updated:
        try:
            with transaction.atomic():
                ChatPointer.objects.create(order=order, user=user, last_seen_at=timezone.now())
        except IntegrityError:
            ChatPointer.objects.filter(order=order, user=user).update(last_seen_at=timezone.now())


def chat_typing_set(*, order: Order, user, typing: bool) -> dict:
    """Record that the person started (or stopped) typing and push the typing event. A start
    holds for ``typing_seconds()`` unless renewed; the event says until when."""
    _check(order, user)
    now = timezone.now()
    until = now + timedelta(seconds=typing_seconds()) if typing else None
    _pointer(order, user)
    ChatPointer.objects.filter(order=order, user=user).update(typing_until=until, last_seen_at=now)
    event = typing_event(order, user, until)
    order_push(order.pk, event)
    return event


def chat_typing_expire(*, order: Order, user) -> dict | None:
    """End the person's typing if its time passed unrenewed; the stop event it pushed, or None
    (renewed meanwhile, or already stopped). Safe to call from any process, any number of
    times: only the call that clears it pushes."""
    cleared = ChatPointer.objects.filter(
        order=order, user=user, typing_until__isnull=False, typing_until__lte=timezone.now()
    ).update(typing_until=None)
    if not cleared:
        return None
    event = typing_event(order, user, None)
    order_push(order.pk, event)
    return event


def chat_typing_stop_if_typing(*, order: Order, user) -> dict | None:
    """On disconnect: a person who was typing stops."""
    cleared = ChatPointer.objects.filter(order=order, user=user, typing_until__isnull=False).update(
        typing_until=None
    )
    if not cleared:
        return None
    event = typing_event(order, user, None)
    order_push(order.pk, event)
    return event


def typing_event(order: Order, user, until) -> dict:
    event = {
        "type": "typing",
        "user": {
            "id": str(user.pk),
            "name": display_name(user, "Someone"),
            "role": role_of(order, user.pk),
        },
        "state": "start" if until else "stop",
    }
    if until:
        event["expires_at"] = until.isoformat()
        # Relative too: a client whose clock is off still drops it in time.
        event["expires_in_ms"] = int(typing_seconds() * 1000)
    return event


# --- the unread digest --------------------------------------------------------------------------

DIGEST_UNREAD_AFTER = timedelta(minutes=15)
DIGEST_OFFLINE_AFTER = timedelta(minutes=10)
DIGEST_EXCERPT = 120


def chat_digests_send(*, now=None) -> int:
    """Tell each customer and musician who has had unread messages for ``DIGEST_UNREAD_AFTER``
    and no chat connection seen for ``DIGEST_OFFLINE_AFTER`` what they missed, in one digest
    across their orders. Each message is summed up once (``digested_up_to``); the digest's key
    makes a retried run send nothing twice. Returns the number of people told."""
    now = now or timezone.now()
    pointers = selectors.chat_digest_candidates(
        unread_before=now - DIGEST_UNREAD_AFTER, seen_before=now - DIGEST_OFFLINE_AFTER
    )
    by_person: dict = {}
    for pointer in pointers:
        by_person.setdefault(pointer.user_id, []).append(pointer)
    told = 0
    for person_pointers in by_person.values():
        if _digest_one(person_pointers):
            told += 1
    return told


def _digest_one(pointers) -> bool:
    recipient = pointers[0].user
    conversations, newest_ids = [], []
    for pointer in pointers:
        unread = ChatMessage.objects.filter(
            order=pointer.order_id, id__gt=pointer.last_read_id
        ).exclude(sender=recipient)
        last = unread.select_related("sender").order_by("-id").first()
        if last is None:
            continue
        excerpt = (
            last.body if len(last.body) <= DIGEST_EXCERPT else last.body[: DIGEST_EXCERPT - 1] + "…"
        )
        conversations.append(
            {
                "title": pointer.order.title,
                "count": unread.count(),
                "url": f"/orders/{pointer.order_id}/#chat",
                "last_sender": display_name(last.sender, "Someone"),
                "last_excerpt": excerpt or "(an attachment)",
            }
        )
        newest_ids.append((pointer.pk, last.pk))
    if not conversations:
        return False
    with transaction.atomic():
        chat_digest_send(
            recipient=recipient,
            conversations=conversations,
            up_to=f"order-chat:{max(newest for _, newest in newest_ids)}",
            url="/orders/",
        )
        for pointer_id, newest in newest_ids:
            ChatPointer.objects.filter(pk=pointer_id).update(
                digested_up_to=Greatest(F("digested_up_to"), newest)
            )
    return True
