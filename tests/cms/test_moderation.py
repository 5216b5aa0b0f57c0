"""Musicians edit their own page, from the studio or in the Wagtail admin, and nothing else;
every edit waits for a moderator, and only approval publishes it."""

import pytest
from wagtail.models import Page, TaskState, WorkflowState

from cms.models import ArtistPage, HomePage
from cms.selectors import artist_page_state
from cms.services import artist_page_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(showcase):
    from django.contrib.auth.models import Group

    person = UserFactory(is_staff=True, display_name="Mo Moderator")
    person.groups.add(Group.objects.get(name="Moderators"))
    from django.contrib.auth.models import Permission

    person.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return person


def live_bio(page) -> str:
    return ArtistPage.objects.get(pk=page.pk).bio


def submit(musician, **changes):
    fields = {
        "title": musician.display_name,
        "headline": "",
        "bio": "",
        "specializations": "",
        **changes,
    }
    return artist_page_submit(musician=musician, **fields)


def approve(page, moderator):
    state = WorkflowState.objects.for_instance(page).get(status=WorkflowState.STATUS_IN_PROGRESS)
    task_state = state.current_task_state
    task_state.task.specific.on_action(task_state, moderator, "approve")


def reject(page, moderator, comment):
    state = WorkflowState.objects.for_instance(page).get(status=WorkflowState.STATUS_IN_PROGRESS)
    task_state = state.current_task_state
    task_state.task.specific.on_action(task_state, moderator, "reject", comment=comment)


# --- the service -----------------------------------------------------------------------------


def test_an_edit_is_not_live_until_a_moderator_approves_it(client, listed_musician, moderator):
    musician = listed_musician(display_name="Edit Eda")
    page = musician.artist_page

    submit(musician, bio="New bio, pending.")

    assert live_bio(page) == ""
    assert "New bio, pending." not in client.get(page.url).content.decode()
    assert artist_page_state(ArtistPage.objects.get(pk=page.pk)).status == "in_moderation"
    state = WorkflowState.objects.for_instance(page).get()
    assert state.workflow.name == "Musician pages"
    assert state.requested_by == musician

    approve(page, moderator)

    assert live_bio(page) == "New bio, pending."
    assert "New bio, pending." in client.get(page.url).content.decode()
    assert artist_page_state(ArtistPage.objects.get(pk=page.pk)).status == "published"


def test_a_rejected_edit_comes_back_with_the_comment_and_can_be_sent_again(
    listed_musician, moderator
):
    musician = listed_musician(display_name="Rej Rae")
    page = musician.artist_page
    submit(musician, bio="Call me on +1 555 0100!")

    reject(page, moderator, "No phone numbers, please.")

    state = artist_page_state(ArtistPage.objects.get(pk=page.pk))
    assert state.status == "rejected"
    assert state.comment == "No phone numbers, please."
    assert live_bio(page) == ""

    submit(musician, bio="Write to me through Encore.")
    assert artist_page_state(ArtistPage.objects.get(pk=page.pk)).status == "in_moderation"
    approve(page, moderator)
    assert live_bio(page) == "Write to me through Encore."


def test_a_second_edit_while_waiting_replaces_the_first_in_the_queue(listed_musician, moderator):
    musician = listed_musician(display_name="Twice Tia")
    page = musician.artist_page
    submit(musician, bio="First try.")
    submit(musician, bio="Second try.")

    assert (
        WorkflowState.objects.for_instance(page)
        .filter(status=WorkflowState.STATUS_IN_PROGRESS)
        .count()
        == 1
    )
    approve(page, moderator)

    assert live_bio(page) == "Second try."


def test_only_musicians_submit_pages(showcase):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        submit(UserFactory(display_name="Lou Listener"), bio="Hi")


# --- the studio page -------------------------------------------------------------------------


def test_studio_page_is_for_musicians(client, showcase):
    assert client.get("/studio/page/").status_code == 302
    client.force_login(UserFactory())
    assert client.get("/studio/page/").status_code == 403


def test_studio_page_sends_the_edit_to_moderation(
    client, listed_musician, moderator, django_assert_max_num_queries
):
    musician = listed_musician(display_name="Studio Stu")
    client.force_login(musician)

    with django_assert_max_num_queries(40):
        response = client.get("/studio/page/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="published"' in html
    assert 'value="Studio Stu"' in html

    response = client.post(
        "/studio/page/",
        {
            "title": "Studio Stu",
            "headline": "Lo-fi love songs",
            "bio": "Bedroom producer.",
            "specializations": "Lo-fi\nLullabies",
            "search_description": "",
        },
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "waiting for a moderator" in html
    # The form shows the edit sent, the live page the approved version.
    assert "Lo-fi love songs" in html
    assert "Lo-fi love songs" not in client.get(musician.artist_page.url).content.decode()

    reject(musician.artist_page, moderator, "Say more about your music.")
    html = client.get("/studio/page/").content.decode()
    assert 'data-state="rejected"' in html
    assert "Say more about your music." in html


def test_studio_page_refuses_a_bad_edit_and_keeps_what_was_typed(client, listed_musician):
    musician = listed_musician(display_name="Bad Bea")
    client.force_login(musician)

    response = client.post(
        "/studio/page/", {"title": "", "headline": "x" * 200, "bio": "Kept text."}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Kept text." in html
    assert not WorkflowState.objects.for_instance(musician.artist_page).exists()


def test_studio_page_photo_upload_goes_to_moderation_too(client, listed_musician, moderator):
    from wagtail.images.tests.utils import get_test_image_file

    musician = listed_musician(display_name="Photo Phil")
    client.force_login(musician)
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = get_test_image_file(filename="me.png").file.getvalue()
    upload = SimpleUploadedFile("me.png", png, content_type="image/png")

    response = client.post(
        "/studio/page/",
        {"title": "Photo Phil", "photo": upload},
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    page = ArtistPage.objects.get(musician=musician)
    assert page.photo is None
    approve(page, moderator)
    assert ArtistPage.objects.get(pk=page.pk).photo.uploaded_by_user == musician


# --- the Wagtail admin -----------------------------------------------------------------------


def test_a_musician_edits_only_their_own_page_in_the_admin(client, listed_musician):
    own = listed_musician(display_name="Own Oona")
    other = listed_musician(display_name="Other Otto")
    client.force_login(own)

    assert client.get("/admin/").status_code == 200
    assert client.get(f"/admin/pages/{own.artist_page.pk}/edit/").status_code == 200
    assert client.get(f"/admin/pages/{other.artist_page.pk}/edit/").status_code in (302, 403)
    home = HomePage.objects.get()
    assert client.get(f"/admin/pages/{home.pk}/edit/").status_code in (302, 403)
    assert client.get(f"/admin/pages/{own.artist_page.pk}/delete/").status_code in (302, 403)
    listing = client.get(f"/admin/pages/{own.artist_page.get_parent().pk}/")
    assert "Other Otto" not in listing.content.decode()
    perms = own.artist_page.permissions_for_user(own)
    assert perms.can_edit() and not perms.can_publish()
    assert not perms.can_delete() and not perms.can_move() and not perms.can_copy()
    assert not other.artist_page.permissions_for_user(own).can_edit()


def test_a_musicians_admin_edit_is_submitted_to_moderation_not_published(
    client, listed_musician, moderator
):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    musician = listed_musician(display_name="Admin Ada")
    page = musician.artist_page
    client.force_login(musician)

    data = nested_form_data(
        {
            "title": "Admin Ada",
            "slug": page.slug,
            "headline": "From the admin",
            "bio": "Admin bio.",
            "specializations": "",
            "gallery": inline_formset([]),
            "comments": inline_formset([]),
            "action-submit": "Submit to Musician pages",
        }
    )
    response = client.post(f"/admin/pages/{page.pk}/edit/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert live_bio(page) == ""
    assert artist_page_state(ArtistPage.objects.get(pk=page.pk)).status == "in_moderation"

    # A musician cannot publish, even by posting the publish button.
    data["action-publish"] = "Publish"
    data.pop("action-submit")
    client.post(f"/admin/pages/{page.pk}/edit/", data)
    assert live_bio(page) == ""

    approve(page, moderator)
    assert live_bio(page) == "Admin bio."


def test_another_musician_cannot_post_to_someone_elses_page(client, listed_musician):
    own = listed_musician(display_name="Nosy Ned")
    other = listed_musician(display_name="Private Pam")
    client.force_login(own)

    response = client.post(
        f"/admin/pages/{other.artist_page.pk}/edit/",
        {"title": "Hacked", "slug": "hacked", "bio": "Hacked"},
    )

    assert response.status_code in (302, 403)
    assert Page.objects.get(pk=other.artist_page.pk).title == "Private Pam"
    assert not TaskState.objects.exists()
