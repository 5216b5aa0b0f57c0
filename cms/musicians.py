"""What the showcase says about musicians, read from the apps that own it: the matching profile,
packages and reviews (orders), availability (orders.availability, the one rule), songs (catalog,
through its visibility gate). No page model is imported here, so the page models, the blocks and
the selectors can all use it without import circles."""

from collections import defaultdict
from dataclasses import dataclass, field

from catalog import selectors as catalog_selectors
from catalog.views import songs_context as songs_for_player
from orders import selectors as order_selectors
from orders.availability import Availability, musicians_availability
from orders.models import MusicianProfile, Occasion, Package, Review
from orders.wording import availability_label

SONGS_SHOWN = 10
REVIEWS_SHOWN = 6


def occasions_of(profile: MusicianProfile | None, package_occasions) -> list[str]:
    """The occasions a musician takes: those of their matching profile and those their active
    packages name (a package for any occasion names none), in Occasion order."""
    taken = set((profile.occasions if profile else None) or []) | set(package_occasions)
    return [value for value in Occasion.values if value in taken]


def occasion_labels(values) -> list[str]:
    labels = dict(Occasion.choices)
    return [labels[value] for value in values if value in labels]


def packages_by_musician(musician_ids) -> dict:
    """Active packages of these musicians, cheapest first, in one query."""
    packages = defaultdict(list)
    for package in Package.objects.filter(musician_id__in=list(musician_ids), active=True).order_by(
        "price", "created_at"
    ):
        packages[package.musician_id].append(package)
    return packages


@dataclass
class ArtistCard:
    """One musician as a card: on Discover, on the home page and on occasion pages."""

    page: object
    musician: object
    profile: MusicianProfile | None
    availability: Availability
    packages: list = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.availability.available

    @property
    def availability_label(self) -> str:
        return availability_label(self.availability)

    @property
    def cheapest(self):
        return self.packages[0] if self.packages else None

    @property
    def styles(self) -> list[str]:
        return list((self.profile.styles if self.profile else None) or [])

    @property
    def occasions(self) -> list[str]:
        return occasions_of(self.profile, {o for p in self.packages for o in (p.occasions or [])})


def artist_cards(pages, *, availability: dict | None = None) -> list[ArtistCard]:
    """Cards for ArtistPages loaded with ``musician__musician_profile``: two queries at most
    (packages, then availability unless the caller already has it), whatever their number."""
    pages = list(pages)
    musicians = [page.musician for page in pages]
    packages = packages_by_musician(m.pk for m in musicians)
    if availability is None:
        availability = musicians_availability(musicians)
    return [
        ArtistCard(
            page=page,
            musician=page.musician,
            profile=getattr(page.musician, "musician_profile", None),
            availability=availability[page.musician.pk],
            packages=packages.get(page.musician.pk, []),
        )
        for page in pages
    ]


def musician_songs(user, musician, *, limit: int = SONGS_SHOWN) -> dict:
    """The musician's catalog songs the visitor may hear, most played first, shaped for the
    player's song list (catalog/_song_list.html)."""
    songs = (
        catalog_selectors.songs_visible_to(user)
        .filter(artist__user=musician)
        .order_by("-play_count", "-created_at")[:limit]
    )
    return songs_for_player(user, songs)


def songs_newest(user, *, count: int) -> dict:
    songs = catalog_selectors.songs_visible_to(user).order_by("-created_at")[:count]
    return songs_for_player(user, songs)


def musician_reviews(musician, *, limit: int = REVIEWS_SHOWN) -> list[Review]:
    return list(order_selectors.reviews_of(musician)[:limit])


def reviews_recent(*, count: int, min_rating: int = 4) -> list[Review]:
    """Recent reviews with words, good ones, of musicians still on the site: testimonials."""
    return list(
        Review.objects.filter(
            rating__gte=min_rating, musician__is_active=True, musician__is_musician=True
        )
        .exclude(text="")
        .select_related("customer", "musician", "order")
        .order_by("-created_at")[:count]
    )
