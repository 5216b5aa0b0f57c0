"""How a musician's track record is counted: the one definition that the aggregates on their
profile (``orders.services.musician_stats_refresh``) and the staff's performance report
(``orders.reports``) both use."""

from datetime import timedelta


def delivered_on_time(accepted_at, delivered_at, delivery_days: int) -> bool:
    """Delivered by the due date: acceptance + the order's delivery days."""
    return delivered_at <= accepted_at + timedelta(days=delivery_days)


def on_time_rate(delivered) -> float | None:
    """The share of `delivered` (``(accepted_at, delivered_at, delivery_days)`` rows)
    delivered on time; None without deliveries."""
    delivered = list(delivered)
    if not delivered:
        return None
    return round(sum(1 for row in delivered if delivered_on_time(*row)) / len(delivered), 4)


def average_completion_days(delivered) -> float | None:
    """Acceptance to delivery, in days, averaged over `delivered` (the same rows)."""
    durations = [(done - accepted).total_seconds() / 86400 for accepted, done, _ in delivered]
    return round(sum(durations) / len(durations), 2) if durations else None


def first_draft_approval_rate(revisions_used) -> float | None:
    """The share of approved orders (their ``revisions_used``) approved without a revision."""
    revisions_used = list(revisions_used)
    if not revisions_used:
        return None
    return round(sum(1 for used in revisions_used if used == 0) / len(revisions_used), 4)
