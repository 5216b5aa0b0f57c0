import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page, Site

from accounts.models import User
from cms.models import HomePage, StandardPage
from cms.pages import home_page_ensure
from orders.models import MusicianProfile, OrderStatus
from tests.factories import UserFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


# The site's own absolute addresses (canonical links and Open Graph URLs must be absolute; they
# name the Wagtail Site's host, or the host that was asked).
def external_urls(html: str) -> list[str]:
    # The site's own addresses: the test client's host, and SITE_URL, which the Wagtail Site
    # takes for its canonical and Open Graph links.
    own = ("http://testserver/", settings.SITE_URL.rstrip("/") + "/")
    found = re.findall(r"""(?:src|href|action|content)=["']((?:https?:)?//[^"']+)""", html)
    return [url for url in found if not url.startswith(own)]


def test_the_home_page_is_the_site_root(client):
    site = Site.objects.get(is_default_site=True)

    assert isinstance(site.root_page.specific, HomePage)
    response = client.get("/")
    assert response.status_code == 200
    # The hero the migration moved from the old fields into the first block.
    assert "Songs made for the people you love" in response.content.decode()
    assert site.root_page.specific.body[0].block_type == "hero"


def test_home_page_ensure_is_idempotent():
    first = home_page_ensure()
    second = home_page_ensure()

    assert first.pk == second.pk
    assert HomePage.objects.count() == 1


def test_the_site_takes_its_address_from_site_url_unless_staff_set_one(client, settings):
    settings.SITE_URL = "https://songs.example.com"
    Site.objects.update(hostname="localhost", port=80)  # what Wagtail's install leaves
    home = home_page_ensure()
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("songs.example.com", 443)
    assert home.full_url == "https://songs.example.com/"
    assert "<loc>https://songs.example.com/</loc>" in client.get("/sitemap.xml").content.decode()

    Site.objects.update(hostname="encore.example.org", port=8443)
    home_page_ensure()
    site.refresh_from_db()
    assert (site.hostname, site.port) == ("encore.example.org", 8443)


def test_a_standard_page_renders_under_home(client):
    home = home_page_ensure()
    page = StandardPage(
        title="About Encore",
        slug="about",
        intro="Who we are.",
        body=[("heading", "Our story"), ("paragraph", "<p>Songs for people.</p>")],
    )
    home.add_child(instance=page)
    page.save_revision().publish()

    response = client.get("/about/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "About Encore" in html
    assert "<h2>Our story</h2>" in html
    assert "Songs for people." in html


@pytest.mark.parametrize(
    ("who", "expected", "absent"),
    [
        ("anonymous", ["Home", "Discover musicians", "Log in", "Sign up"], ["Admin", "Log out"]),
        ("listener", ["Home", "Discover musicians", "Log out"], ["Admin", "Sign up"]),
        ("staff", ["Home", "Discover musicians", "Admin", "Log out"], ["Sign up"]),
    ],
)
def test_navigation_depends_on_who_is_looking(client, who, expected, absent):
    if who == "listener":
        client.force_login(UserFactory())
    elif who == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))

    html = client.get("/").content.decode()
    nav = html[html.index("<nav") : html.index("</nav>")]

    for label in expected:
        assert f">{label}<" in nav, label
    for label in absent:
        assert f">{label}<" not in nav, label


def test_the_current_page_is_marked_in_the_navigation(client, showcase):
    html = client.get("/musicians/").content.decode()

    assert re.search(r'href="/musicians/"\s+aria-current="page"', html)


def test_discover_musicians_lists_active_musicians_only(client, listed_musician):
    listed_musician(display_name="Active Annie")
    gone = listed_musician(display_name="Gone Gary")
    gone.is_active = False
    gone.save()
    UserFactory(display_name="Listener Lou")

    html = client.get("/musicians/").content.decode()

    assert "Active Annie" in html
    assert "Gone Gary" not in html
    assert "Listener Lou" not in html


def test_discover_musicians_shows_styles_rating_and_how_to_commission(
    client, django_assert_max_num_queries, listed_musician
):
    rated = listed_musician(display_name="Rated Rhea")
    MusicianProfile.objects.create(
        musician=rated,
        styles=["folk", "acoustic pop"],
        rating_average=4.5,
        rating_count=2,
        completed_orders=3,
    )
    listed_musician(display_name="New Nia")  # no profile yet: listed all the same

    with django_assert_max_num_queries(12):
        html = client.get("/musicians/").content.decode()

    assert "Folk, acoustic pop" in html
    assert "★ 4.5</span> from 2 reviews · 3 songs delivered" in html
    assert "New Nia" in html
    assert f'href="/orders/new/?musician={rated.pk}"' in html
    assert 'href="/musicians/rated-rhea/"' in html


def availability_of(html: str) -> dict[str, str]:
    """Each musician card on Discover: the name -> what it says about taking commissions."""
    cards = re.findall(
        r'<h2 class="card-title"><a [^>]*>([^<]+)</a></h2>.*?data-testid="availability">([^<]+)<',
        html,
        re.S,
    )
    return dict(cards)


def test_discover_musicians_shows_who_is_free_and_when_in_one_read(
    client, django_assert_max_num_queries, listed_musician
):
    today = timezone.now().date()
    listed_musician(display_name="Free Farah")
    paused = listed_musician(display_name="Paused Pia")
    MusicianProfile.objects.create(musician=paused, accepting_orders=False)
    away = listed_musician(display_name="Away Arun")
    MusicianProfile.objects.create(
        musician=away, away_from=today, away_until=today + timedelta(days=4)
    )
    full = listed_musician(display_name="Full Fay")
    MusicianProfile.objects.create(musician=full, capacity=1)
    OrderFactory(musician=full, status=OrderStatus.IN_PROGRESS, delivery_days=6)

    with django_assert_max_num_queries(12) as few:
        html = client.get("/musicians/").content.decode()

    back, free = today + timedelta(days=5), today + timedelta(days=6)
    assert availability_of(html) == {
        "Away Arun": f"Away, back on {back:%-d %B %Y}",
        "Free Farah": "Available now",
        "Full Fay": f"Fully booked, next free on {free:%-d %B %Y}",
        "Paused Pia": "Paused: not taking new commissions",
    }
    # The same reads for a full page of musicians, each with work in hand: no query per card.
    for n in range(20):
        musician = listed_musician(display_name=f"Musician {n:02}")
        MusicianProfile.objects.create(musician=musician, capacity=2)
        OrderFactory(musician=musician, status=OrderStatus.IN_REVIEW)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/musicians/").content.decode()
    assert len(availability_of(html)) == 12  # a page of Discover
    assert availability_of(html)["Musician 00"] == "Available now"


def test_pages_link_to_nothing_outside_the_site(client, showcase):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in ("/", "/musicians/", "/accounts/profile/", "/accounts/password/change/"):
        html = client.get(path).content.decode()
        assert external_urls(html) == [], path
    client.logout()
    for path in ("/accounts/login/", "/accounts/register/", "/accounts/password/reset/"):
        assert external_urls(client.get(path).content.decode()) == [], path


def test_htmx_is_served_from_our_own_static_files(client):
    html = client.get("/").content.decode()
    src = re.search(r'src="(/static/vendor/htmx/htmx\.min\.js)"', html).group(1)

    response = client.get(src)

    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)


def test_wagtail_admin_is_for_staff(client):
    assert client.get("/admin/").status_code == 302
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == 200


def test_wagtail_admin_edits_the_home_page(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    home = HomePage.objects.get()

    response = client.get(f"/admin/pages/{home.pk}/edit/")

    assert response.status_code == 200
    assert "Songs made for the people you love" in response.content.decode()


def test_seed_demo_creates_the_demo_accounts_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    emails = set(User.objects.values_list("email", flat=True))
    assert {
        "admin@demo.encore.test",
        "listener@demo.encore.test",
        "customer@demo.encore.test",
        "musician@demo.encore.test",
        "musician2@demo.encore.test",
    } <= emails
    assert User.objects.count() == 5
    admin = User.objects.get(email="admin@demo.encore.test")
    assert admin.is_staff and admin.is_superuser and admin.check_password("encore-demo")
    assert User.objects.filter(is_musician=True).count() == 2
    out = capsys.readouterr().out
    assert "encore-demo" in out
    assert "nothing changed" in out
    assert Page.objects.type(HomePage).count() == 1


@pytest.mark.django_db
def test_the_home_page_comes_back_on_an_emptied_page_tree():
    """seed_demo (and `make run`) still find a home when the tree was wiped, root and all."""
    from wagtail.models import Page, Site

    from cms.models import HomePage
    from cms.pages import home_page_ensure

    Site.objects.all().delete()
    Page.objects.all().delete()
    home = home_page_ensure()
    assert isinstance(home, HomePage) and home.live
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert home.get_parent().is_root()
