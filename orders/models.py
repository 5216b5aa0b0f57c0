"""Commission orders (docs/architecture.md section 5): packages, orders and their audit trail.

Transition methods only guard and change state; services (orders.services) lock, call them,
save, append the OrderEvent and schedule the side effects.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


class Occasion(models.TextChoices):
    BIRTHDAY = "birthday", "Birthday"
    ANNIVERSARY = "anniversary", "Anniversary"
    WEDDING = "wedding", "Wedding"
    PROPOSAL = "proposal", "Proposal"
    TRIBUTE = "tribute", "Tribute"
    GRADUATION = "graduation", "Graduation"
    OTHER = "other", "Other"


class LyricsChoice(models.TextChoices):
    CUSTOMER = "customer", "I'll provide the lyrics"
    MUSICIAN = "musician", "The musician writes them"
    INSTRUMENTAL = "instrumental", "Instrumental"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    MATCHING = "matching", "Finding your musician"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "Draft in review"
    REVISION_REQUESTED = "revision_requested", "Revision requested"
    APPROVED = "approved", "Approved"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    DISPUTED = "disputed", "Disputed"
    REFUNDED = "refunded", "Refunded"


class Stage(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    COMPOSITION = "composition", "Composition"
    RECORDING = "recording", "Recording"
    PRODUCTION = "production", "Production"


STAGES = tuple(Stage.values)


class DisputeOutcome(models.TextChoices):
    REFUND = "refund", "Refund"
    RELEASE = "release", "Release to the musician"
    CONTINUE = "continue", "Continue the work"


S = OrderStatus
# Made by payment events and by matching, never by a request.
AUTOMATIC_TRANSITIONS = frozenset({"deposit_captured", "balance_captured", "offer", "expire_offer"})
MILESTONE_DUE = {S.PLACED: {"pay_deposit"}, S.DELIVERED: {"pay_balance"}}
DISPUTABLE = [S.IN_PROGRESS, S.IN_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.DELIVERED]
RESOLUTION_TARGETS = {
    DisputeOutcome.REFUND: S.REFUNDED,
    DisputeOutcome.RELEASE: S.COMPLETED,
    DisputeOutcome.CONTINUE: S.IN_PROGRESS,
}


@register_setting(icon="cog")
class MarketplaceSettings(BaseGenericSetting):
    """Marketplace rules admins tune (docs/architecture.md section 2), read by the orders domain."""

    platform_fee_bps = models.PositiveIntegerField(
        "platform fee (basis points)",
        default=1500,
        validators=[MaxValueValidator(5000)],
        help_text="Taken from each completed order when its escrow is released: 1500 = 15%.",
    )
    offer_expiry_hours = models.PositiveIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
    )
    default_revisions = models.PositiveIntegerField(
        default=1,
        validators=[MaxValueValidator(20)],
        help_text="Revisions included when a customer asks to be matched.",
    )
    match_delivery_days = models.PositiveIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Delivery days when a customer asks to be matched.",
    )
    reminder_days = models.PositiveIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )

    class Meta:
        verbose_name = "marketplace rules"
        constraints = [
            models.CheckConstraint(
                condition=Q(platform_fee_bps__lte=5000), name="marketplace_fee_at_most_half"
            ),
        ]

    def platform_fee(self, amount: int) -> int:
        """The platform's share of `amount` minor units, rounded down."""
        return amount * self.platform_fee_bps // 10_000


class Package(models.Model):
    """What a musician offers: a price and terms, copied onto every order placed with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    musician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="packages"
    )
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=2000)
    price = models.BigIntegerField(help_text="Minor units (paise, cents).")
    currency = models.CharField(max_length=3)
    delivery_days = models.PositiveIntegerField()
    revisions_included = models.PositiveIntegerField(default=1)
    occasions = models.JSONField(default=list, blank=True, help_text="Occasion values.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["price", "created_at"]
        indexes = [models.Index(fields=["musician", "active"])]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(
                condition=Q(delivery_days__gte=1) & Q(delivery_days__lte=365),
                name="package_delivery_days_range",
            ),
            models.CheckConstraint(
                condition=Q(revisions_included__lte=20), name="package_revisions_at_most_20"
            ),
        ]

    def __str__(self):
        return self.name


class Order(FSMModelMixin, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_placed"
    )
    musician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_taken",
    )
    package = models.ForeignKey(
        Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    status = FSMField(default=S.PLACED, choices=S.choices, protected=True, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)

    # The package's terms, snapshotted when the order is placed.
    price = models.BigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3)
    revisions_included = models.PositiveIntegerField(default=1)
    delivery_days = models.PositiveIntegerField()
    revisions_used = models.PositiveIntegerField(default=0)

    # The brief (the API's field names).
    occasion = models.CharField(max_length=20, choices=Occasion.choices)
    occasion_date = models.DateField(null=True, blank=True)
    recipient_name = models.CharField(max_length=100)
    story = models.TextField(max_length=5000)
    genre = models.CharField(max_length=60, blank=True)
    mood = models.CharField(max_length=60, blank=True)
    tempo_feel = models.CharField(max_length=60, blank=True)
    language = models.CharField(max_length=40, blank=True)
    lyrics_choice = models.CharField(
        max_length=20, choices=LyricsChoice.choices, default=LyricsChoice.MUSICIAN
    )
    lyrics = models.TextField(max_length=10000, blank=True)
    names_to_include = models.CharField(max_length=300, blank=True)
    references = models.JSONField(default=list, blank=True)
    instructions = models.TextField(max_length=3000, blank=True)
    budget = models.BigIntegerField(null=True, blank=True, help_text="Minor units.")
    match = models.BooleanField(default=False, help_text="The customer asked to be matched.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["musician", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="order_price_positive"),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="order_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(delivery_days__gte=1), name="order_delivery_days_positive"
            ),
            models.CheckConstraint(
                condition=~Q(customer=F("musician")), name="order_musician_not_customer"
            ),
            models.CheckConstraint(
                condition=~Q(status="in_progress") | Q(stage__in=STAGES),
                name="order_stage_set_when_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(stage="") | Q(stage__in=STAGES), name="order_stage_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_occasion_display()} song for {self.recipient_name}"

    @property
    def title(self) -> str:
        return str(self)

    @property
    def due_at(self):
        """When the musician promised the song: acceptance + the delivery days."""
        if self.accepted_at is None:
            return None
        return self.accepted_at + timedelta(days=self.delivery_days)

    @property
    def deposit_amount(self) -> int:
        return -(-self.price // 2)  # ceil(price / 2), in integers

    @property
    def balance_amount(self) -> int:
        return self.price - self.deposit_amount

    def allowed_transitions(self) -> list[str]:
        """What a request may do now: the transitions, less those made by payment events and
        matching, plus paying the milestone that is due (its capture makes the transition)."""
        names = {t.name for t in self.get_available_status_transitions()} - AUTOMATIC_TRANSITIONS
        names |= MILESTONE_DUE.get(self.status, set())
        return sorted(names)

    # --- transitions: guard and change state, nothing else ----------------------------------

    @transition(field=status, source=S.PLACED, target=S.MATCHING)
    def deposit_captured(self):
        """The deposit is in escrow: the order looks for its musician."""

    @transition(field=status, source=S.MATCHING, target=S.IN_PROGRESS)
    def accept(self):
        self.stage = Stage.CONSULTATION

    @transition(field=status, source=S.MATCHING, target=S.MATCHING)
    def offer(self, musician):
        self.musician = musician

    @transition(field=status, source=S.MATCHING, target=S.MATCHING)
    def decline(self):
        self.musician = None

    @transition(field=status, source=S.MATCHING, target=S.MATCHING)
    def expire_offer(self):
        self.musician = None

    def has_next_stage(self) -> bool:
        return self.stage != STAGES[-1]

    @transition(
        field=status, source=S.IN_PROGRESS, target=S.IN_PROGRESS, conditions=[has_next_stage]
    )
    def advance_stage(self):
        index = STAGES.index(self.stage) if self.stage in STAGES else -1
        self.stage = STAGES[index + 1]

    @transition(field=status, source=[S.IN_PROGRESS, S.REVISION_REQUESTED], target=S.IN_REVIEW)
    def submit_draft(self):
        """A draft's preview is ready for the customer."""

    @transition(field=status, source=S.IN_REVIEW, target=S.REVISION_REQUESTED)
    def request_revision(self):
        self.revisions_used += 1

    @transition(field=status, source=S.IN_REVIEW, target=S.APPROVED)
    def approve(self):
        """The customer approves the draft in review."""

    @transition(field=status, source=S.APPROVED, target=S.DELIVERED)
    def deliver(self):
        """The finals passed QC: the balance is due."""

    @transition(field=status, source=S.DELIVERED, target=S.COMPLETED)
    def balance_captured(self):
        """The balance is in escrow: the order is complete."""

    @transition(field=status, source=[S.PLACED, S.MATCHING], target=S.CANCELLED)
    def cancel(self):
        # Nobody accepted it: the musician it was offered to (if any) is no longer part of it.
        # Who was picked stays on the package and the offers.
        self.musician = None

    @transition(field=status, source=DISPUTABLE, target=S.DISPUTED)
    def open_dispute(self):
        """Either side stops the order for staff to decide."""

    @transition(
        field=status,
        source=S.DISPUTED,
        target=RETURN_VALUE(S.REFUNDED, S.COMPLETED, S.IN_PROGRESS),
    )
    def resolve_dispute(self, outcome: str):
        target = RESOLUTION_TARGETS[DisputeOutcome(outcome)]
        if target == S.IN_PROGRESS and self.stage not in STAGES:
            self.stage = Stage.CONSULTATION
        return target


class OrderEvent(models.Model):
    """One step of an order's life: who moved it, from what, to what. The timeline and audit."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=40, help_text="The transition or happening.")
    from_status = models.CharField(max_length=20, choices=S.choices)
    to_status = models.CharField(max_length=20, choices=S.choices)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    note = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self):
        return f"{self.order_id} {self.name}: {self.from_status} -> {self.to_status}"


# --- matching -------------------------------------------------------------------------------


class MusicianProfile(models.Model):
    """What matching reads about a musician: what they make, how much they take on, whether
    they are away, and the aggregates their finished orders and reviews earned them."""

    musician = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="musician_profile",
    )
    styles = models.JSONField(
        default=list, blank=True, help_text='Genres and styles, lower case ("acoustic pop").'
    )
    occasions = models.JSONField(default=list, blank=True, help_text="Occasion values.")
    capacity = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Orders in progress at once; a full musician gets no new offers.",
    )
    accepting_orders = models.BooleanField(default=True)
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)

    # Aggregates, recomputed by orders.services.musician_stats_refresh.
    rating_average = models.FloatField(null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    on_time_rate = models.FloatField(null=True, blank=True)
    first_draft_approval_rate = models.FloatField(null=True, blank=True)
    average_completion_days = models.FloatField(null=True, blank=True)
    completed_orders = models.PositiveIntegerField(default=0)
    stats_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(away_from__isnull=True)
                | Q(away_until__isnull=True)
                | Q(away_until__gte=F("away_from")),
                name="musician_profile_away_range",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=50),
                name="musician_profile_capacity_range",
            ),
        ]

    def __str__(self):
        return f"Profile of {self.musician_id}"

    def is_away(self, day) -> bool:
        if self.away_from is None and self.away_until is None:
            return False
        starts = self.away_from or day
        ends = self.away_until or day
        return starts <= day <= ends


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class OrderOffer(models.Model):
    """An order offered to one musician, who accepts or declines before it expires."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="offers")
    musician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="order_offers"
    )
    rank = models.PositiveIntegerField(help_text="1: the customer's pick or the best match.")
    score = models.FloatField(null=True, blank=True, help_text="Matching score (0-1).")
    status = models.CharField(
        max_length=12, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    reason = models.TextField(blank=True, max_length=1000, help_text="Why it was declined.")
    # For an order that asked to be matched: the musician's package it is offered at (the
    # budget is only a ceiling). Accepting gives the order this price and these terms.
    package = models.ForeignKey(
        Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    price = models.BigIntegerField(null=True, blank=True, help_text="Minor units.")
    delivery_days = models.PositiveIntegerField(null=True, blank=True)
    revisions_included = models.PositiveIntegerField(null=True, blank=True)
    offered_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "offered_at", "id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(fields=["order", "musician"], name="offer_once_per_musician"),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_order",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="offer_price_positive"
            ),
        ]

    def __str__(self):
        return f"Offer of {self.order_id} to {self.musician_id}: {self.status}"

    @property
    def terms(self) -> dict | None:
        """The price and terms the order takes when this offer is accepted (None: it keeps
        its own, the customer's pick)."""
        if self.price is None:
            return None
        return {
            "package_id": self.package_id,
            "price": self.price,
            "delivery_days": self.delivery_days,
            "revisions_included": self.revisions_included,
        }


# --- drafts, revisions, delivery --------------------------------------------------------------


class RevisionStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    PENDING = "pending", "Waiting for the musician's consent"
    DECLINED = "declined", "Declined by the musician"


class RevisionRequest(models.Model):
    """The customer's feedback on a draft. Within the included revisions it is granted at once;
    beyond them it waits for the musician's consent."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="revision_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    feedback = models.TextField(max_length=5000)
    included = models.BooleanField(help_text="Within the revisions the package includes.")
    status = models.CharField(max_length=10, choices=RevisionStatus.choices)
    response_note = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="pending"),
                name="revision_one_pending_per_order",
            ),
        ]

    def __str__(self):
        return f"Revision request on {self.order_id}: {self.status}"


class MediaStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    REPLACED = "replaced", "Replaced by newer finals"


class Version(models.Model):
    """One draft (v1, v2, ...): immutable once made, with the feedback that led to it. The
    customer only ever hears its watermarked preview."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    asset = models.OneToOneField(
        "audio.AudioAsset", on_delete=models.PROTECT, related_name="order_version"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000, help_text="The musician's note.")
    revision_request = models.OneToOneField(
        RevisionRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="version",
        help_text="The feedback this version answers (none for v1).",
    )
    status = models.CharField(
        max_length=12, choices=MediaStatus.choices, default=MediaStatus.PROCESSING
    )
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="version_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_positive"),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="processing"),
                name="version_one_processing_per_order",
            ),
        ]

    def __str__(self):
        return f"v{self.number} of {self.order_id}"

    @property
    def feedback(self) -> str:
        return self.revision_request.feedback if self.revision_request_id else ""


class Delivery(models.Model):
    """The finals: loudness-normalised MP3, WAV and FLAC made from one upload, gated by QC."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    number = models.PositiveIntegerField()
    asset = models.OneToOneField(
        "audio.AudioAsset", on_delete=models.PROTECT, related_name="order_delivery"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=MediaStatus.choices, default=MediaStatus.PROCESSING
    )
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "number"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="delivery_number_unique"),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["processing", "ready"]),
                name="delivery_one_live_per_order",
            ),
        ]

    def __str__(self):
        return f"Delivery {self.number} of {self.order_id}"


# --- reviews and disputes -------------------------------------------------------------------


class Review(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="review")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_written"
    )
    musician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_received"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["musician", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.rating}/5 for {self.order_id}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Dispute(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="disputes")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(max_length=5000)
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    outcome = models.CharField(max_length=10, choices=DisputeOutcome.choices, blank=True)
    refunded_amount = models.BigIntegerField(default=0, help_text="Minor units.")
    released_amount = models.BigIntegerField(default=0, help_text="Minor units.")
    resolution_note = models.TextField(blank=True, max_length=5000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="open"), name="dispute_one_open_per_order"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(outcome=""))
                | (Q(status="resolved") & ~Q(outcome="")),
                name="dispute_outcome_iff_resolved",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(released_amount__gte=0),
                name="dispute_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"Dispute on {self.order_id}: {self.status}"


class DisputeEvidence(models.Model):
    """What either side puts before staff: a statement, and the versions it points at."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=5000)
    versions = models.ManyToManyField(Version, blank=True, related_name="+")
    messages = models.ManyToManyField(
        "ChatMessage", blank=True, related_name="+", help_text="Chat messages it points at."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "dispute evidence"

    def __str__(self):
        return f"Evidence on {self.dispute_id}"


# --- the order chat -------------------------------------------------------------------------


class AttachmentKind(models.TextChoices):
    AUDIO = "audio", "Audio"
    IMAGE = "image", "Image"
    PDF = "pdf", "PDF"


class ChatMessage(models.Model):
    """One message of an order's chat. The id orders the conversation; ``client_msg_id`` is the
    sender's own id for it, so a message sent twice (a retry, a reconnect) is stored once."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="chat_messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chat_messages_sent"
    )
    client_msg_id = models.UUIDField()
    body = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["order", "id"]),
            models.Index(fields=["sender", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "sender", "client_msg_id"], name="chat_message_once_per_client_id"
            ),
        ]

    def __str__(self):
        return f"Message {self.pk} on {self.order_id}"


class ChatAttachment(models.Model):
    """A file uploaded over HTTP for the chat; it belongs to its uploader until a message of
    theirs on the same order references it."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="chat_attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_attachments"
    )
    message = models.ForeignKey(
        ChatMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    kind = models.CharField(max_length=8, choices=AttachmentKind.choices)
    # Audio goes through the media pipeline as an AudioAsset; images and PDFs are stored as is.
    asset = models.OneToOneField(
        "audio.AudioAsset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chat_attachment",
    )
    file = models.FileField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True, help_text="The uploader's file name.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "uploader", "message"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="audio") & Q(asset__isnull=False))
                | (~Q(kind="audio") & Q(asset__isnull=True) & ~Q(file="")),
                name="chat_attachment_stored_by_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} attachment {self.pk} on {self.order_id}"


class ChatPointer(models.Model):
    """One person's place in an order's chat: what they have read, when a connection of theirs
    was last seen, until when they are typing, and up to which message a digest told them of."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="chat_pointers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_pointers"
    )
    last_read_id = models.BigIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    typing_until = models.DateTimeField(null=True, blank=True)
    digested_up_to = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "user"], name="chat_pointer_once_per_person"),
            models.CheckConstraint(
                condition=Q(last_read_id__gte=0) & Q(digested_up_to__gte=0),
                name="chat_pointer_ids_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} read {self.order_id} up to {self.last_read_id}"
