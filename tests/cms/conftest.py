import pytest


@pytest.fixture
def showcase(db):
    """Discover, the occasions and the musicians' workflow, as `showcase_ensure` makes them."""
    from cms.models import ArtistIndexPage
    from cms.services import showcase_tree_ensure

    showcase_tree_ensure()
    return ArtistIndexPage.objects.get()


@pytest.fixture
def listed_musician(showcase):
    """A musician with their page, made the way the sign-up hook makes it."""
    from cms.services import artist_page_ensure
    from tests.factories import MusicianFactory

    def make(**fields):
        musician = MusicianFactory(**fields)
        artist_page_ensure(musician)
        return musician

    return make
