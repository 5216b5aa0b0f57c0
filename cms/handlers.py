"""cms's handlers of lower apps' hooks (wired in config/wiring.py)."""

from cms.services import artist_page_ensure


def musician_registered(*, user, verify_url) -> None:
    """A musician who signs up gets their page in the same transaction: Discover never lists a
    musician without one. It is published at once, empty but for their name; what they write on
    it later goes through moderation."""
    if user.is_musician:
        artist_page_ensure(user)
