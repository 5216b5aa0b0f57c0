"""Every write to the showcase: the tree (Discover, occasions), a page per musician, and a
musician's edits, which go to moderation and are published only when a moderator approves.

Wagtail's own log (PageLogEntry: create, publish, edit, workflow start/approve/reject) is the
audit trail of every change made here.
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from wagtail.images import get_image_model
from wagtail.log_actions import log
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowState,
    WorkflowTask,
)

from accounts.models import User
from accounts.selectors import musicians_listed
from cms.models import ArtistIndexPage, ArtistPage, OccasionIndexPage, OccasionPage
from cms.pages import home_page_ensure
from orders.models import Occasion

MUSICIANS_GROUP = "Musicians"
MODERATORS_GROUP = "Moderators"
WORKFLOW_NAME = "Musician pages"
TASK_NAME = "Moderators approve musicians' pages"
DISCOVER_SLUG = "musicians"
OCCASIONS_SLUG = "occasions"

OCCASION_INTROS = {
    Occasion.BIRTHDAY: "A song with their name in it, for the day that is all theirs.",
    Occasion.ANNIVERSARY: "Your story together, set to music: the years, the jokes, the promises.",
    Occasion.WEDDING: "A first dance nobody else has danced to, or a surprise for the reception.",
    Occasion.PROPOSAL: "Ask the question in a song written for the two of you.",
    Occasion.TRIBUTE: "Remember someone with a song about who they were.",
    Occasion.GRADUATION: "Send them off into the world with an anthem of their own.",
    Occasion.OTHER: "A thank-you, a welcome, an apology: any moment worth a song.",
}


class ArtistPageError(ValidationError):
    """What the musician typed cannot go on their page; the studio shows it beside the field."""


# --- groups and the workflow -----------------------------------------------------------------


def musicians_group_ensure() -> Group:
    """The group every musician is in: it lets them into the Wagtail admin (where they can
    edit only their own page, ArtistPagePermissionTester) and upload photos."""
    group, _ = Group.objects.get_or_create(name=MUSICIANS_GROUP)
    access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    group.permissions.add(access)
    add_image = Permission.objects.get(
        content_type__app_label="wagtailimages", codename="add_image"
    )
    root = Collection.get_first_root_node()
    if root is not None:
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=root, permission=add_image
        )
    return group


def musician_pages_workflow_ensure() -> Workflow:
    """One approval step by the Moderators group (superusers may approve too)."""
    moderators, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    if not workflow.workflow_tasks.exists():
        task = GroupApprovalTask.objects.filter(name=TASK_NAME).first()
        if task is None:
            task = GroupApprovalTask.objects.create(name=TASK_NAME)
            task.groups.set([moderators])
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


# --- the tree --------------------------------------------------------------------------------


def _publish_new(parent: Page, page: Page, *, user=None) -> Page:
    parent.add_child(instance=page)
    log(instance=page, action="wagtail.create", user=user)
    page.save_revision(user=user, log_action=False).publish(user=user)
    return page


@transaction.atomic
def artist_index_ensure() -> ArtistIndexPage:
    """Discover, under the home page at /musicians/, with the musicians' workflow on it."""
    discover = ArtistIndexPage.objects.first()
    if discover is None:
        home = home_page_ensure()
        Page.objects.select_for_update().filter(pk=home.pk).first()
        discover = ArtistIndexPage.objects.first()
        if discover is None:
            discover = _publish_new(
                home, ArtistIndexPage(title="Discover musicians", slug=DISCOVER_SLUG)
            )
    if not WorkflowPage.objects.filter(page=discover).exists():
        WorkflowPage.objects.create(page=discover, workflow=musician_pages_workflow_ensure())
    return discover


@transaction.atomic
def occasion_pages_ensure() -> OccasionIndexPage:
    """The occasions' index and a page for every occasion orders know, each made once; an
    editor's changes to them are kept."""
    occasions = OccasionIndexPage.objects.first()
    if occasions is None:
        home = home_page_ensure()
        occasions = _publish_new(
            home,
            OccasionIndexPage(
                title="Occasions",
                slug=OCCASIONS_SLUG,
                intro="Every song on Encore is written for a moment. Which is yours?",
            ),
        )
    have = set(OccasionPage.objects.values_list("occasion", flat=True))
    for value, label in Occasion.choices:
        if value in have:
            continue
        occasions.refresh_from_db()
        _publish_new(
            occasions,
            OccasionPage(
                title=f"{label} songs" if value != Occasion.OTHER else "Songs for any moment",
                slug=value,
                occasion=value,
                intro=OCCASION_INTROS.get(value, ""),
            ),
        )
    return occasions


def showcase_tree_ensure() -> None:
    """Discover, the occasions, the groups and the workflow, and a page per listed musician."""
    musicians_group_ensure()
    artist_index_ensure()
    occasion_pages_ensure()
    for musician in musicians_listed():
        artist_page_ensure(musician)


# --- a musician's page -----------------------------------------------------------------------


def _free_slug(parent: Page, name: str, musician: User) -> str:
    base = slugify(name)[:60] or "musician"
    taken = set(parent.get_children().values_list("slug", flat=True))
    if base not in taken:
        return base
    return f"{base}-{str(musician.pk)[:8]}"


@transaction.atomic
def artist_page_ensure(musician: User) -> ArtistPage | None:
    """The musician's published page, made once (idempotent, safe to call twice at once: the
    musician's row is locked first). None for someone who is not a musician."""
    if not musician.is_musician:
        return None
    User.objects.select_for_update().filter(pk=musician.pk).first()
    page = ArtistPage.objects.filter(musician=musician).first()
    if page is None:
        discover = artist_index_ensure()
        Page.objects.select_for_update().filter(pk=discover.pk).first()
        discover.refresh_from_db()
        page = _publish_new(
            discover,
            ArtistPage(
                title=musician.display_name or "Musician",
                slug=_free_slug(discover, musician.display_name, musician),
                musician=musician,
                owner=musician,
            ),
        )
    musician.groups.add(musicians_group_ensure())
    return page


def _photo_create(*, musician: User, upload):
    Image = get_image_model()
    image = Image(
        title=f"{musician.display_name} (photo)",
        file=upload,
        uploaded_by_user=musician,
        collection=Collection.get_first_root_node(),
    )
    image.full_clean(exclude=["file_hash", "file_size"])
    image.save()
    return image


@transaction.atomic
def artist_page_submit(
    *,
    musician: User,
    title: str,
    headline: str,
    bio: str,
    specializations: str,
    photo=None,
    photo_remove: bool = False,
    search_description: str | None = None,
) -> ArtistPage:
    """Save the musician's edit as a new revision of their page and send it to moderation.
    The live page does not change until a moderator approves. An edit made while an earlier
    one waits replaces it in the queue (the moderator reviews the newest); an edit after a
    rejection resumes the same review."""
    if not musician.is_musician:
        raise ArtistPageError("Only musicians have a page.", code="not_musician")
    if artist_page_ensure(musician) is None:
        raise ArtistPageError("Only musicians have a page.", code="not_musician")
    page = ArtistPage.objects.select_for_update().get(musician=musician)
    draft = page.get_latest_revision_as_object()
    draft.title = title.strip()
    draft.draft_title = draft.title
    draft.headline = headline.strip()
    draft.bio = bio.strip()
    draft.specializations = specializations.strip()
    if search_description is not None:
        draft.search_description = search_description.strip()
    if photo is not None:
        draft.photo = _photo_create(musician=musician, upload=photo)
    elif photo_remove:
        draft.photo = None
    draft.save_revision(user=musician, log_action=True)

    workflow = draft.get_workflow()
    if workflow is None:
        raise ArtistPageError("Page moderation is switched off.", code="no_workflow")
    state = draft.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user=musician)
    else:
        if state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS:
            state.cancel(user=musician)
            draft = ArtistPage.objects.get(pk=page.pk)
        workflow.start(draft, musician)
    return ArtistPage.objects.get(pk=page.pk)
