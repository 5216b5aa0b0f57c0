"""Drafts and finals: the musician's uploads go through the media pipeline (audio/).

- A draft becomes an immutable ``Version`` (v1, v2, ...). Its preview (watermarked, reduced
  bitrate) is the only rendition the customer can stream; once it is ready the order goes to
  review. A draft that fails processing says why, and the musician uploads another.
- The finals become a ``Delivery``: loudness-normalised MP3, WAV and FLAC, gated by QC. Once
  they pass, the order is delivered and the balance is due; the customer downloads them
  through expiring signed links once the balance is captured.

audio tells us an asset settled through the handlers registered in OrdersConfig.ready().
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from audio import conf as audio_conf
from audio.models import AudioAsset, Rendition
from audio.services import audio_asset_create
from audio.signing import audio_url_sign
from orders.errors import Conflict, Invalid, TransitionConflict
from orders.models import (
    Delivery,
    MediaStatus,
    Order,
    OrderStatus,
    RevisionStatus,
    Version,
)
from orders.services.base import event_add, is_staff, lock, musician_only
from orders.services.transitions import order_deliver, order_submit_draft

logger = logging.getLogger(__name__)

DRAFT_STATUSES = (OrderStatus.IN_PROGRESS, OrderStatus.REVISION_REQUESTED)
DELIVERY_FORMATS = (
    ("mp3", Rendition.Kind.DELIVERY_MP3),
    ("wav", Rendition.Kind.DELIVERY_WAV),
    ("flac", Rendition.Kind.DELIVERY_FLAC),
)


def _store(*, owner, upload, purpose: str):
    """Validate and store an upload as an asset (its pipeline starts on commit). A rejected
    upload raises audio's MediaRejected (413/415/400) and leaves nothing behind."""
    return audio_asset_create(owner=owner, upload=upload, purpose=purpose)


def _discard_file(asset) -> None:
    """The transaction that created `asset` rolled back: its stored original goes too."""
    if asset is not None and asset.original.name:
        try:
            default_storage.delete(asset.original.name)
        except OSError:
            logger.warning("could not delete %s", asset.original.name)


def version_upload(*, order: Order, musician, upload, note: str = "") -> Version:
    """The musician uploads a draft while the order is in progress or a revision is asked
    for. It becomes the next version; the order goes to review when its preview is ready."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid("At most 2000 characters.", field="note")
    asset = None
    try:
        with transaction.atomic():
            order = lock(order)
            musician_only(musician)(order)
            if order.status not in DRAFT_STATUSES:
                raise TransitionConflict(order=order, transition="submit_draft", actor=musician)
            if order.versions.filter(status=MediaStatus.PROCESSING).exists():
                raise Conflict(
                    "Your last draft is still being processed.", code="version_processing"
                )
            asset = _store(owner=musician, upload=upload, purpose=AudioAsset.Purpose.PREVIEW)
            number = (order.versions.aggregate(last=Max("number"))["last"] or 0) + 1
            # The feedback this draft answers: the latest granted request no draft answered yet.
            # A draft that failed processing answered nothing; the retry takes its request.
            answered = (
                order.revision_requests.filter(status=RevisionStatus.GRANTED)
                .filter(Q(version__isnull=True) | Q(version__status=MediaStatus.FAILED))
                .order_by("-created_at", "-id")
                .first()
            )
            if answered is not None:
                Version.objects.filter(revision_request=answered, status=MediaStatus.FAILED).update(
                    revision_request=None
                )
            version = Version.objects.create(
                order=order,
                number=number,
                asset=asset,
                uploaded_by=musician,
                note=note,
                revision_request=answered,
            )
            event_add(order, actor=musician, name="version_uploaded", note=f"v{number}")
    except BaseException:
        _discard_file(asset)
        raise
    return version


def version_asset_settled(*, asset, outcome: str) -> None:
    """audio's handler for previews: the version is ready (the order goes to review) or failed
    (the musician sees why and uploads again). Runs inside audio's transaction."""
    version = (
        Version.objects.select_for_update(of=("self",))
        .select_related("order", "uploaded_by")
        .filter(asset=asset)
        .first()
    )
    if version is None or version.status != MediaStatus.PROCESSING:
        return
    # Under the order's lock: a dispute opened meanwhile must not make order_submit_draft
    # raise inside audio's transaction (which would leave the draft processing for good).
    order = lock(version.order)
    if outcome == "ready":
        version.status = MediaStatus.READY
        version.ready_at = timezone.now()
        version.save(update_fields=["status", "ready_at"])
        if order.status in DRAFT_STATUSES and order.musician_id == version.uploaded_by_id:
            order_submit_draft(order=order, musician=version.uploaded_by, note=f"v{version.number}")
        else:
            event_add(order, actor=None, name="version_ready", note=f"v{version.number}")
        return
    version.status = MediaStatus.FAILED
    version.failure_reason = asset.failure_reason or "The draft could not be processed."
    version.save(update_fields=["status", "failure_reason"])
    event_add(
        order,
        actor=None,
        name="version_failed",
        note=f"v{version.number}: {version.failure_reason}",
    )


def delivery_upload(*, order: Order, musician, upload) -> Delivery:
    """The musician uploads the finals of an approved order. They are normalised and checked;
    the order is delivered when they pass."""
    asset = None
    try:
        with transaction.atomic():
            order = lock(order)
            musician_only(musician)(order)
            if order.status != OrderStatus.APPROVED:
                raise TransitionConflict(order=order, transition="deliver", actor=musician)
            if order.deliveries.filter(status=MediaStatus.PROCESSING).exists():
                raise Conflict(
                    "Your last upload of the finals is still being checked.",
                    code="delivery_processing",
                )
            asset = _store(owner=musician, upload=upload, purpose=AudioAsset.Purpose.DELIVERY)
            # Finals that passed before a dispute sent the work back are replaced by these (one
            # live delivery per order); links already issued to them run out on their own.
            order.deliveries.filter(status=MediaStatus.READY).update(status=MediaStatus.REPLACED)
            number = (order.deliveries.aggregate(last=Max("number"))["last"] or 0) + 1
            delivery = Delivery.objects.create(
                order=order, number=number, asset=asset, uploaded_by=musician
            )
            event_add(order, actor=musician, name="delivery_uploaded", note=f"finals {number}")
    except BaseException:
        _discard_file(asset)
        raise
    return delivery


def delivery_asset_settled(*, asset, outcome: str) -> None:
    """audio's handler for finals: passed QC (the order is delivered) or failed (why)."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("order", "uploaded_by")
        .filter(asset=asset)
        .first()
    )
    if delivery is None or delivery.status != MediaStatus.PROCESSING:
        return
    order = lock(delivery.order)  # as for drafts: the state is read under the lock
    if outcome == "ready":
        delivery.status = MediaStatus.READY
        delivery.ready_at = timezone.now()
        delivery.save(update_fields=["status", "ready_at"])
        if order.status == OrderStatus.APPROVED and order.musician_id == delivery.uploaded_by_id:
            order_deliver(order=order, musician=delivery.uploaded_by)
        return
    delivery.status = MediaStatus.FAILED
    delivery.failure_reason = asset.failure_reason or "The finals could not be processed."
    delivery.save(update_fields=["status", "failure_reason"])
    event_add(order, actor=None, name="delivery_failed", note=delivery.failure_reason)


# --- signed links ---------------------------------------------------------------------------


def version_preview_url(*, version: Version, user) -> str | None:
    """A short-lived link, issued to `user`, to the version's watermarked preview (None until it
    is ready). The caller has checked that `user` may see the order: the link itself is a bearer
    capability, so whoever holds it may play the preview until it expires."""
    if version.status != MediaStatus.READY:
        return None
    rendition = next(
        (r for r in version.asset.renditions.all() if r.kind == Rendition.Kind.PREVIEW_MP3), None
    )
    if rendition is None:
        return None
    return audio_url_sign(user=user, obj=rendition)


def version_original_url(*, version: Version, user) -> str | None:
    """The musician's own upload, for the musician (and staff) only; never the customer."""
    order = version.order
    if not (user.pk == version.uploaded_by_id == order.musician_id or is_staff(user)):
        return None
    return audio_url_sign(user=user, obj=version.asset)


def download_ttl() -> int:
    """ORDER_DOWNLOAD_TTL_SECONDS, within audio's cap on signed links (which would otherwise
    cut the links short of the expires_at we announce)."""
    ttl = int(getattr(settings, "ORDER_DOWNLOAD_TTL_SECONDS", 3600))
    return min(ttl, int(audio_conf.get("AUDIO_SIGNED_URL_MAX_TTL_SECONDS")))


def order_downloads(*, order: Order, user) -> list[dict]:
    """Fresh expiring links to the finals (MP3, WAV, FLAC), issued anew on every call.

    The customer gets them once the balance is captured (the order is completed); the musician
    and staff as soon as the finals passed QC. Raises Conflict (409) before that.
    """
    delivery = (
        order.deliveries.filter(status=MediaStatus.READY)
        .select_related("asset")
        .prefetch_related("asset__renditions")
        .first()
    )
    if delivery is None:
        raise Conflict("The finals are not delivered yet.", code="not_delivered")
    is_customer = user.pk == order.customer_id
    if is_customer and not is_staff(user) and order.status != OrderStatus.COMPLETED:
        raise Conflict("The downloads open once the balance is paid.", code="balance_unpaid")
    renditions = {r.kind: r for r in delivery.asset.renditions.all()}
    ttl = download_ttl()
    expires_at = timezone.now() + timedelta(seconds=ttl)
    links = []
    for name, kind in DELIVERY_FORMATS:
        rendition = renditions.get(kind)
        if rendition is None:
            continue
        links.append(
            {
                "format": name,
                "url": audio_url_sign(user=user, obj=rendition, expires_in=ttl, download=True),
                "expires_at": expires_at,
                "size": rendition.size,
                "content_type": rendition.content_type,
            }
        )
    return links
