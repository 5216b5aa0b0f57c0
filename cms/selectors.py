"""Reads of the showcase pages, for the home page's blocks, the navigation and the studio."""

from dataclasses import dataclass

from django.urls import reverse
from wagtail.models import WorkflowState

from cms import musicians as reads
from cms.page_models import ArtistIndexPage, ArtistPage, OccasionPage


def discover_url() -> str:
    """Where Discover is: /musicians/ always serves the live ArtistIndexPage (cms.views)."""
    return reverse("cms:musicians")


def artist_cards_featured(*, picked_ids=(), count: int) -> list:
    """Cards of the musicians an editor picked (in their order), else of the best rated."""
    discover = ArtistIndexPage.objects.live().first()
    if discover is None:
        return []
    pages = discover.artist_pages()
    if picked_ids:
        by_id = {page.pk: page for page in pages.filter(pk__in=list(picked_ids))}
        chosen = [by_id[pk] for pk in picked_ids if pk in by_id][:count]
    else:
        chosen = list(
            pages.order_by("-musician__musician_profile__rating_count", "musician__display_name")[
                :count
            ]
        )
    return reads.artist_cards(chosen)


def occasion_pages_live():
    return list(OccasionPage.objects.live().order_by("path"))


@dataclass(frozen=True)
class Testimonial:
    review: object
    customer_name: str
    artist_page: ArtistPage | None


def _short_name(name: str) -> str:
    """ "Cora Customer" -> "Cora C.": a reviewer is named, not exposed."""
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{parts[0]} {parts[-1][0]}."


def testimonials(*, count: int) -> list[Testimonial]:
    reviews = reads.reviews_recent(count=count)
    pages = {
        page.musician_id: page
        for page in ArtistPage.objects.live().filter(
            musician_id__in=[review.musician_id for review in reviews]
        )
    }
    return [
        Testimonial(
            review=review,
            customer_name=_short_name(review.customer.display_name),
            artist_page=pages.get(review.musician_id),
        )
        for review in reviews
    ]


def songs_newest(user, *, count: int) -> dict:
    return reads.songs_newest(user, count=count)


def artist_page_of(musician) -> ArtistPage | None:
    return ArtistPage.objects.filter(musician=musician).select_related("photo").first()


@dataclass(frozen=True)
class PageState:
    """Where a musician's page stands: live or not, and what moderation said of the last edit."""

    live: bool
    status: str  # "published", "in_moderation", "rejected", "draft"
    comment: str = ""
    submitted_at: object = None


def artist_page_state(page: ArtistPage) -> PageState:
    state = (
        WorkflowState.objects.for_instance(page)
        .select_related("current_task_state")
        .order_by("-created_at", "-pk")
        .first()
    )
    if state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS:
        return PageState(page.live, "in_moderation", submitted_at=state.created_at)
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        task_state = state.current_task_state
        comment = task_state.get_comment() if task_state is not None else ""
        return PageState(page.live, "rejected", comment=comment, submitted_at=state.created_at)
    if page.has_unpublished_changes:
        return PageState(page.live, "draft")
    return PageState(page.live, "published" if page.live else "draft")
