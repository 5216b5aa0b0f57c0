"""Reviews of completed orders, and the aggregates musicians are ranked and shown by."""

from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone

from orders import notices, stats
from orders.errors import Conflict, Invalid
from orders.models import MusicianProfile, Order, OrderStatus, Review
from orders.services.base import customer_only, display_name, event_add, lock

MAX_REVIEW_TEXT = 2000


def musician_stats_refresh(*, musician) -> MusicianProfile:
    """Recompute a musician's aggregates from their orders and reviews:

    - rating: the average of their reviews (and how many);
    - on-time rate, first-draft approval and average completion days as ``orders.stats``
      counts them, over their delivered and approved orders.
    """
    reviews = Review.objects.filter(musician=musician).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    taken = Order.objects.filter(musician=musician, accepted_at__isnull=False)
    delivered = list(
        taken.filter(delivered_at__isnull=False).values_list(
            "accepted_at", "delivered_at", "delivery_days"
        )
    )
    approvals = list(
        taken.filter(approved_at__isnull=False).values_list("revisions_used", flat=True)
    )
    with transaction.atomic():
        profile, _ = MusicianProfile.objects.select_for_update().get_or_create(musician=musician)
        profile.rating_average = (
            round(reviews["average"], 2) if reviews["average"] is not None else None
        )
        profile.rating_count = reviews["count"]
        profile.on_time_rate = stats.on_time_rate(delivered)
        profile.first_draft_approval_rate = stats.first_draft_approval_rate(approvals)
        profile.average_completion_days = stats.average_completion_days(delivered)
        profile.completed_orders = taken.filter(status=OrderStatus.COMPLETED).count()
        profile.stats_updated_at = timezone.now()
        profile.save()
    return profile


def review_create(*, order: Order, customer, rating: int, text: str = "") -> Review:
    """The customer rates a completed order, once (1-5 stars and a few words)."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise Invalid("Rate from 1 to 5 stars.", field="rating")
    text = (text or "").strip()
    if len(text) > MAX_REVIEW_TEXT:
        raise Invalid(f"At most {MAX_REVIEW_TEXT} characters.", field="text")
    with transaction.atomic():
        order = lock(order)
        customer_only(customer)(order)
        if order.status != OrderStatus.COMPLETED:
            raise Conflict("Only a completed order can be reviewed.", code="not_completed")
        if Review.objects.filter(order=order).exists():
            raise Conflict("You already reviewed this order.", code="already_reviewed")
        review = Review.objects.create(
            order=order, customer=customer, musician=order.musician, rating=rating, text=text
        )
        reviewed = event_add(order, actor=customer, name="review", note=f"{rating}/5")
        musician_stats_refresh(musician=order.musician)
        notices.schedule(
            "order.review_received",
            recipient=order.musician,
            order=order,
            occurrence=reviewed,
            customer_name=display_name(customer, "The customer"),
            rating=rating,
        )
    return review
