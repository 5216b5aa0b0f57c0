"""The showcase's pages as visitors see them: the home page's live blocks, Discover's filters,
a musician's page, the occasion pages, and what search engines read (titles, descriptions,
Open Graph, canonical links, the sitemap, JSON-LD)."""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.services import user_create
from catalog.models import Visibility
from cms.models import ArtistIndexPage, ArtistPage, HomePage, OccasionPage
from cms.services import artist_page_ensure
from orders.models import MusicianProfile, Occasion, OrderStatus
from tests.catalog.factories import ArtistFactory, SongFactory
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import OrderFactory, PackageFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def names_on(html: str) -> list[str]:
    return re.findall(r'data-testid="musician-link">([^<]+)<', html)


def profile(musician, **fields):
    return MusicianProfile.objects.update_or_create(musician=musician, defaults=fields)[0]


# --- pages and routes ----------------------------------------------------------------------


def test_showcase_tree_has_discover_and_a_page_per_occasion(client, showcase):
    assert showcase.url_path.endswith("/musicians/")
    assert set(OccasionPage.objects.live().values_list("occasion", flat=True)) == set(
        Occasion.values
    )
    for occasion in OccasionPage.objects.all():
        assert client.get(occasion.url).status_code == 200
    assert client.get("/occasions/").status_code == 200


def test_every_listed_musician_gets_one_page_whatever_the_route(showcase):
    signed_up = user_create(
        email="new@example.com",
        password="a-long-pass-phrase-42",
        display_name="Nova Noor",
        is_musician=True,
    )
    listener = user_create(
        email="lis@example.com",
        password="a-long-pass-phrase-42",
        display_name="Lis",
    )
    legacy = MusicianFactory(display_name="Old Olu")  # from before the showcase

    call_command("showcase_ensure")
    call_command("showcase_ensure")

    assert ArtistPage.objects.get(musician=signed_up).live
    assert ArtistPage.objects.get(musician=legacy).live
    assert not ArtistPage.objects.filter(musician=listener).exists()
    assert ArtistPage.objects.count() == 2
    assert artist_page_ensure(signed_up).pk == signed_up.artist_page.pk
    assert signed_up.groups.filter(name="Musicians").exists()


def test_same_names_get_different_addresses(showcase):
    first = artist_page_ensure(MusicianFactory(display_name="Sam Song"))
    second = artist_page_ensure(MusicianFactory(display_name="Sam Song"))

    assert first.slug == "sam-song"
    assert second.slug != first.slug
    assert second.slug.startswith("sam-song-")


def test_a_musicians_page_shows_what_a_customer_weighs(
    client, listed_musician, django_assert_max_num_queries
):
    musician = listed_musician(display_name="Mira Melody")
    profile(
        musician,
        styles=["folk", "acoustic pop"],
        occasions=["wedding"],
        rating_average=4.5,
        rating_count=2,
        completed_orders=3,
    )
    PackageFactory(
        musician=musician, name="Wedding Ballad", price=2_000_000, occasions=["proposal"]
    )
    PackageFactory(musician=musician, name="Retired One", active=False)
    ReviewFactory(
        order=OrderFactory(musician=musician, status=OrderStatus.COMPLETED),
        text="She cried at the first chorus.",
    )
    artist = ArtistFactory(user=musician)
    SongFactory(artist=artist, title="Public Song")
    SongFactory(artist=artist, title="Secret Song", visibility=Visibility.PRIVATE)
    page = musician.artist_page
    page.headline = "Songs with your story in them"
    page.bio = "I write at the kitchen table."
    page.specializations = "First dances\nRap tributes"
    page.save_revision().publish()

    with django_assert_max_num_queries(30):
        response = client.get(page.url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Mira Melody · Encore</title>" in html
    assert "Songs with your story in them" in html
    assert "I write at the kitchen table." in html
    assert "<li>Rap tributes</li>" in html
    assert ">folk<" in html and ">acoustic pop<" in html
    assert "For wedding, proposal" in html
    assert "Wedding Ballad" in html and "₹20,000.00" in html
    assert "Retired One" not in html
    assert "★ 4.5</span> from 2 reviews" in html
    assert "She cried at the first chorus." in html
    assert "Available now" in html
    # Samples play in the persistent player: a queueable list of the visitor's visible songs.
    assert 'data-queue="musician:' in html and "Public Song" in html
    assert "Secret Song" not in html
    assert f'href="/orders/new/?musician={musician.pk}"' in html


def test_a_musician_who_left_has_no_page(client, listed_musician):
    musician = listed_musician(display_name="Gone Gil")
    url = musician.artist_page.url
    musician.is_active = False
    musician.save()

    assert client.get(url).status_code == 404
    assert "Gone Gil" not in client.get("/musicians/").content.decode()


def test_the_home_page_blocks_show_live_data(client, showcase, listed_musician):
    from cms.pages import home_page_blocks_ensure

    home_page_blocks_ensure()
    star = listed_musician(display_name="Star Sia")
    profile(star, rating_average=5.0, rating_count=4)
    ReviewFactory(
        order=OrderFactory(musician=star, status=OrderStatus.COMPLETED),
        customer=UserFactory(display_name="Cora Customer"),
        text="Best present ever.",
    )
    SongFactory(artist=ArtistFactory(user=star), title="Fresh Tune")

    html = client.get("/").content.decode()

    assert 'data-testid="featured-musicians"' in html and "Star Sia" in html
    assert "Best present ever." in html and "Cora C." in html
    assert "Cora Customer" not in html
    assert "Fresh Tune" in html and 'data-queue="home:new"' in html
    assert 'href="/occasions/wedding/"' in html
    assert "How it works" in html
    assert HomePage.objects.get().body[0].block_type == "hero"


def test_an_occasion_page_lists_the_musicians_who_take_it(client, listed_musician):
    by_profile = listed_musician(display_name="Wed Wanda")
    profile(by_profile, occasions=["wedding"])
    by_package = listed_musician(display_name="Pack Pete")
    PackageFactory(musician=by_package, occasions=["wedding", "proposal"])
    listed_musician(display_name="Birthday Bo")

    html = client.get("/occasions/wedding/").content.decode()

    assert sorted(names_on(html)) == ["Pack Pete", "Wed Wanda"]
    assert 'href="/musicians/?occasion=wedding"' in html
    assert 'href="/orders/new/?occasion=wedding"' in html


def test_an_occasion_pages_commission_link_opens_the_form_with_the_occasion_chosen(
    client, listed_musician
):
    client.force_login(UserFactory())
    form = client.get("/orders/new/?occasion=wedding").content.decode()
    assert re.search(r'<option value="wedding"[^>]*selected', form)
    # Anything that is not an occasion is ignored: the form opens as usual.
    other = client.get("/orders/new/?occasion=<script>")
    assert other.status_code == 200
    occasions = other.content.decode().split('name="occasion"')[1].split("</select>")[0]
    assert not re.search(r'<option value="\w+"[^>]*selected', occasions)


# --- Discover's filters --------------------------------------------------------------------


@pytest.fixture
def cast(listed_musician):
    today = timezone.now().date()
    folk = listed_musician(display_name="Folk Fran")
    profile(
        folk, styles=["Folk", "ballad"], occasions=["wedding"], rating_average=4.8, rating_count=5
    )
    PackageFactory(musician=folk, price=500_000)
    rapper = listed_musician(display_name="Rap Ravi")
    profile(rapper, styles=["hip hop"], rating_average=3.5, rating_count=2)
    PackageFactory(musician=rapper, price=2_500_000, occasions=["birthday"])
    away = listed_musician(display_name="Away Ama")
    profile(away, styles=["folk"], away_from=today, away_until=today + timedelta(days=9))
    PackageFactory(musician=away, price=900_000, occasions=["wedding"])
    full = listed_musician(display_name="Full Finn")
    profile(full, capacity=1)
    OrderFactory(musician=full, status=OrderStatus.IN_PROGRESS, delivery_days=40)
    return {"folk": folk, "rapper": rapper, "away": away, "full": full}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Away Ama", "Folk Fran", "Full Finn", "Rap Ravi"]),
        ("?genre=folk", ["Away Ama", "Folk Fran"]),
        ("?occasion=wedding", ["Away Ama", "Folk Fran"]),
        ("?occasion=birthday", ["Rap Ravi"]),
        ("?price_min=1000&price_max=10000", ["Away Ama", "Folk Fran"]),
        ("?price_min=20000", ["Rap Ravi"]),
        ("?rating=4", ["Folk Fran"]),
        ("?availability=now", ["Folk Fran", "Rap Ravi"]),
        ("?availability=14", ["Away Ama", "Folk Fran", "Rap Ravi"]),
        ("?q=ravi", ["Rap Ravi"]),
        ("?q=hip", ["Rap Ravi"]),
        ("?genre=folk&availability=now", ["Folk Fran"]),
        ("?sort=rating", ["Folk Fran", "Rap Ravi", "Away Ama", "Full Finn"]),
        ("?sort=price", ["Folk Fran", "Away Ama", "Rap Ravi", "Full Finn"]),
    ],
)
def test_discover_filters(client, cast, query, expected):
    response = client.get(f"/musicians/{query}")

    assert response.status_code == 200
    names = names_on(response.content.decode())
    assert names == expected if "sort" in query else sorted(names) == expected


def test_discover_searches_what_musicians_write_on_their_page(client, cast):
    page = cast["full"].artist_page
    page.bio = "Sea shanties and lullabies."
    page.save_revision().publish()

    assert names_on(client.get("/musicians/?q=lullab").content.decode()) == ["Full Finn"]


def test_a_filter_that_makes_no_sense_is_a_400_with_the_reason(client, cast):
    response = client.get("/musicians/?price_min=50&price_max=10")
    html = response.content.decode()

    assert response.status_code == 400
    assert "The highest price must be at least the lowest." in html

    response = client.get("/musicians/?price_min=lots&occasion=cake")
    assert response.status_code == 400


def test_discover_pages_in_a_bounded_number_of_queries(
    client, listed_musician, django_assert_max_num_queries
):
    for n in range(3):
        musician = listed_musician(display_name=f"Early {n}")
        profile(musician, styles=["folk"], occasions=["wedding"])
        PackageFactory(musician=musician)
    with django_assert_max_num_queries(40) as few:
        client.get("/musicians/?occasion=wedding&availability=now&genre=folk")
    for n in range(25):
        musician = listed_musician(display_name=f"Later {n:02}")
        profile(musician, styles=["folk"], occasions=["wedding"])
        PackageFactory(musician=musician)
        OrderFactory(musician=musician, status=OrderStatus.IN_REVIEW)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/musicians/?occasion=wedding&availability=now&genre=folk")

    html = response.content.decode()
    assert len(names_on(html)) == 12
    assert "28 musicians" in html
    with django_assert_max_num_queries(len(few.captured_queries)):
        page3 = client.get(
            "/musicians/?occasion=wedding&availability=now&genre=folk&page=3"
        ).content.decode()
    assert len(names_on(page3)) == 4
    assert 'href="?occasion=wedding&amp;availability=now&amp;genre=folk&amp;page=2"' in page3


def test_every_card_links_to_the_musicians_page(client, cast):
    html = client.get("/musicians/").content.decode()

    for musician in cast.values():
        assert f'href="{musician.artist_page.url}"' in html


def test_discover_follows_its_page_when_an_editor_moves_it(client, showcase, listed_musician):
    listed_musician(display_name="Moved Mo")
    showcase.slug = "find-a-musician"
    showcase.save_revision().publish()

    assert "Moved Mo" in client.get("/musicians/").content.decode()
    assert "Moved Mo" in client.get("/find-a-musician/").content.decode()


def test_the_navigation_leads_to_discover(client, showcase):
    html = client.get("/").content.decode()
    nav = html[html.index("<nav") : html.index("</nav>")]

    assert 'href="/musicians/"' in nav and ">Discover musicians<" in nav


# --- SEO -----------------------------------------------------------------------------------


def meta(html: str, prop: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return found.group(1) if found else None


def json_ld_of(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found, "no JSON-LD"
    return json.loads(found.group(1))


def test_a_musicians_page_tells_search_engines_and_link_previews(client, listed_musician):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    musician = listed_musician(display_name="Seo Sara")
    profile(musician, styles=["jazz"], rating_average=4.25, rating_count=4)
    PackageFactory(musician=musician, name="Jazz Standard", price=750_000, currency="INR")
    page = musician.artist_page
    page.headline = "Jazz for your <special> day & night"
    page.photo = get_image_model().objects.create(title="Sara", file=get_test_image_file())
    page.save_revision().publish()

    html = client.get(page.url).content.decode()

    assert "<title>Seo Sara · Encore</title>" in html
    assert meta(html, "description") == "Jazz for your &lt;special&gt; day &amp; night"
    assert meta(html, "og:title") == "Seo Sara"
    assert meta(html, "og:type") == "profile"
    image = meta(html, "og:image")
    assert image.startswith("http://testserver/") and "fill-1200x630" in image
    assert re.search(r'<link rel="canonical" href="http://[^"]+/musicians/seo-sara/">', html)
    data = json_ld_of(html)
    assert data["@type"] == "Person"
    assert data["name"] == "Seo Sara"
    assert data["genre"] == ["jazz"]
    assert data["aggregateRating"]["ratingValue"] == 4.25
    assert data["aggregateRating"]["ratingCount"] == 4
    assert data["makesOffer"][0]["price"] == "7500.00"
    assert data["makesOffer"][0]["priceCurrency"] == "INR"
    assert data["image"] == image
    # Text from the page cannot close the script.
    assert "<special>" not in html.split('application/ld+json">')[1].split("</script>")[0]


def test_search_description_wins_and_no_rating_without_reviews(client, listed_musician):
    musician = listed_musician(display_name="Plain Pat")
    page = musician.artist_page
    page.search_description = "Pat writes lullabies."
    page.save_revision().publish()

    html = client.get(page.url).content.decode()

    assert meta(html, "description") == "Pat writes lullabies."
    assert meta(html, "og:description") == "Pat writes lullabies."
    assert "aggregateRating" not in json_ld_of(html)
    assert "makesOffer" not in json_ld_of(html)


def test_the_sitemap_lists_the_showcase(client, listed_musician):
    here = listed_musician(display_name="Mapped May")
    gone = listed_musician(display_name="Hidden Hal")
    gone.is_active = False
    gone.save()

    response = client.get("/sitemap.xml")

    xml = response.content.decode()
    assert response.status_code == 200
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    paths = {re.sub(r"^https?://[^/]+", "", loc) for loc in locations}
    assert {"/", "/musicians/", "/occasions/", "/occasions/wedding/"} <= paths
    assert here.artist_page.url in paths
    assert gone.artist_page.url not in paths


def test_discover_and_occasions_have_titles_and_descriptions(client, showcase):
    html = client.get("/musicians/").content.decode()
    assert "<title>Discover musicians · Encore</title>" in html
    assert meta(html, "description") == showcase.intro
    wedding = client.get("/occasions/wedding/").content.decode()
    assert "<title>Wedding songs · Encore</title>" in wedding
    assert meta(wedding, "og:description").startswith("A first dance")
    assert ArtistIndexPage.objects.count() == 1
