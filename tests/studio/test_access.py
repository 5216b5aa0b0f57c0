"""Only their own data: every studio page and action sends anonymous people to log in, refuses
listeners (403), and answers 404 for another musician's order, offer, package, song or album,
leaving it as it was."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Album, Song
from orders.models import OfferStatus, Order, OrderStatus, Package
from tests.catalog.factories import AlbumFactory, ArtistFactory, SongFactory
from tests.orders.factories import OrderFactory, PackageFactory
from tests.studio.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(musician):
    """One of everything the studio shows, belonging to `musician`."""
    artist = ArtistFactory(user=musician)
    return {
        "order": OrderFactory(
            musician=musician, status=OrderStatus.IN_PROGRESS, accepted_at=timezone.now()
        ),
        "offer": OrderFactory(musician=musician, status=OrderStatus.MATCHING),
        "package": PackageFactory(musician=musician),
        "song": SongFactory(artist=artist),
        "album": AlbumFactory(artist=artist),
    }


@pytest.fixture
def theirs(other_musician):
    """The same, belonging to another musician."""
    artist = ArtistFactory(user=other_musician)
    return {
        "order": OrderFactory(
            musician=other_musician,
            status=OrderStatus.IN_PROGRESS,
            accepted_at=timezone.now(),
            recipient_name="Zubin",
        ),
        "offer": OrderFactory(
            musician=other_musician, status=OrderStatus.MATCHING, recipient_name="Zubin"
        ),
        "package": PackageFactory(musician=other_musician, name="Their package"),
        "song": SongFactory(artist=artist, title="Their song"),
        "album": AlbumFactory(artist=artist, title="Their album"),
    }


def pages(objects) -> list[str]:
    return [
        "/studio/",
        "/studio/orders/",
        f"/studio/orders/{objects['order'].pk}/",
        f"/studio/orders/{objects['order'].pk}/uploads/",
        "/studio/settings/",
        f"/studio/settings/packages/{objects['package'].pk}/",
        "/studio/catalog/",
        f"/studio/catalog/songs/{objects['song'].pk}/",
        f"/studio/catalog/albums/{objects['album'].pk}/",
        "/studio/stats/",
    ]


def actions(objects) -> list[tuple[str, dict]]:
    package = {
        "name": "Changed",
        "price": "1000",
        "currency": "INR",
        "delivery_days": "5",
        "revisions_included": "1",
    }
    return [
        (f"/studio/offers/{objects['offer'].pk}/accept/", {}),
        (f"/studio/offers/{objects['offer'].pk}/decline/", {"reason": "Busy"}),
        ("/studio/settings/availability/", {"capacity": "4", "accepting_orders": "on"}),
        ("/studio/settings/profile/", {"styles": "jazz"}),
        ("/studio/settings/packages/", package),
        (f"/studio/settings/packages/{objects['package'].pk}/", package),
        (f"/studio/settings/packages/{objects['package'].pk}/retire/", {}),
        (f"/studio/settings/packages/{objects['package'].pk}/restore/", {}),
        ("/studio/catalog/songs/", {"title": "New"}),
        (
            f"/studio/catalog/songs/{objects['song'].pk}/",
            {"title": "Changed", "visibility": "public"},
        ),
        (f"/studio/catalog/songs/{objects['song'].pk}/delete/", {}),
        ("/studio/catalog/albums/", {"title": "New album", "visibility": "public"}),
        (
            f"/studio/catalog/albums/{objects['album'].pk}/",
            {"title": "Changed", "visibility": "public"},
        ),
        (f"/studio/catalog/albums/{objects['album'].pk}/songs/", {"title": "New"}),
        (f"/studio/catalog/albums/{objects['album'].pk}/delete/", {}),
    ]


def test_anonymous_people_are_sent_to_log_in_from_every_page_and_action(mine):
    anonymous = client_for(None)
    for url in pages(mine):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"/accounts/login/?next={url}"), url
    for url, data in actions(mine):
        response = anonymous.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_listeners_are_refused_every_page_and_action(mine, listener):
    browser = client_for(listener)
    for url in pages(mine):
        assert browser.get(url).status_code == 403, url
    for url, data in actions(mine):
        assert browser.post(url, data).status_code == 403, url
    assert Song.objects.filter(pk=mine["song"].pk).exists()
    assert Album.objects.filter(pk=mine["album"].pk).exists()
    assert Order.objects.get(pk=mine["offer"].pk).status == OrderStatus.MATCHING


def test_the_studio_link_is_in_a_musicians_navigation_only(musician, listener):
    assert 'href="/studio/"' in client_for(musician).get("/orders/").content.decode()
    assert 'href="/studio/"' not in client_for(listener).get("/orders/").content.decode()


def test_a_musician_opens_every_page_of_their_own(studio, mine):
    for url in pages(mine):
        assert studio.get(url).status_code == 200, url


def test_another_musicians_ids_are_not_found_on_any_page(studio, theirs):
    for url in pages(theirs):
        if url.count("/") <= 3:  # the lists: nothing of theirs is shown there
            body = studio.get(url).content.decode()
            for name in ("Their package", "Their song", "Their album", "Zubin"):
                assert name not in body, (url, name)
            continue
        assert studio.get(url).status_code == 404, url


def test_another_musicians_ids_are_not_found_by_any_action_and_stay_as_they_were(
    studio, theirs, other_musician
):
    per_id = [(url, data) for url, data in actions(theirs) if str(theirs["offer"].pk) in url]
    per_id += [
        (url, data)
        for url, data in actions(theirs)
        if any(str(theirs[key].pk) in url for key in ("package", "song", "album"))
    ]
    assert len(per_id) == 10
    for url, data in per_id:
        assert studio.post(url, data).status_code == 404, url

    offer = Order.objects.get(pk=theirs["offer"].pk)
    assert offer.status == OrderStatus.MATCHING and offer.musician_id == other_musician.pk
    assert offer.offers.get().status == OfferStatus.PENDING
    package = Package.objects.get(pk=theirs["package"].pk)
    assert package.name == "Their package" and package.active
    assert Song.objects.get(pk=theirs["song"].pk).title == "Their song"
    assert Album.objects.get(pk=theirs["album"].pk).title == "Their album"


def test_an_order_the_musician_commissioned_is_not_their_workspace(studio, musician):
    """A musician may commission another musician: that order is theirs as a customer, on
    /orders/, never in the studio."""
    bought = OrderFactory(customer=musician, status=OrderStatus.IN_PROGRESS, recipient_name="Zubin")
    assert client_for(musician).get(f"/orders/{bought.pk}/").status_code == 200
    assert studio.get(f"/studio/orders/{bought.pk}/").status_code == 404
    assert studio.get(f"/studio/orders/{bought.pk}/uploads/").status_code == 404
    assert "Zubin" not in studio.get("/studio/orders/?show=all").content.decode()


def test_an_offer_that_went_to_another_musician_is_not_found(studio, musician, other_musician):
    """Declined or expired, the order moved on to the next candidate: the first musician can no
    longer answer it, nor open it."""
    order = OrderFactory(musician=other_musician, status=OrderStatus.MATCHING)
    order.offers.update(expires_at=timezone.now() + timedelta(hours=1))
    assert studio.post(f"/studio/offers/{order.pk}/accept/").status_code == 404
    assert studio.get(f"/studio/orders/{order.pk}/").status_code == 404


def test_an_unknown_answer_or_change_is_not_found(studio, mine):
    assert studio.post(f"/studio/offers/{mine['offer'].pk}/maybe/").status_code == 404
    package = mine["package"]
    assert studio.post(f"/studio/settings/packages/{package.pk}/delete/").status_code == 404
    package.refresh_from_db()
    assert package.active
