"""The home page's hero moves into its body as the first block (its fields go in 0005), in the
live page and in its latest revision, so the editor opens what visitors see. The Musicians group
(admin access, photo uploads) and the musicians' page workflow (one approval by Moderators) are
made here; Discover is assigned the workflow when it is made (cms.services.artist_index_ensure,
run by `manage.py showcase_ensure` and seed_demo)."""

import json
import uuid

from django.db import migrations

HERO_FIELDS = ("hero_title", "hero_text", "commission_cta", "listen_cta")


def _hero(title, text, commission, listen) -> dict:
    return {
        "type": "hero",
        "id": str(uuid.uuid4()),
        "value": {
            "title": title or "Songs made for the people you love",
            "text": text or "",
            "commission_label": commission or "Commission a song",
            "listen_label": listen or "Start listening",
            "image": None,
        },
    }


def _with_hero(stream, hero):
    if isinstance(stream, str):
        blocks = json.loads(stream) if stream else []
        return json.dumps([hero, *blocks])
    return [hero, *(stream or [])]


def hero_into_body(apps, schema_editor):
    HomePage = apps.get_model("cms", "HomePage")
    Revision = apps.get_model("wagtailcore", "Revision")
    for home in HomePage.objects.all():
        raw = list(home.body.raw_data) if home.body else []
        if any(block.get("type") == "hero" for block in raw):
            continue
        hero = _hero(home.hero_title, home.hero_text, home.commission_cta, home.listen_cta)
        home.body = json.dumps([hero, *raw])
        home.save(update_fields=["body"])
        if home.latest_revision_id:
            revision = Revision.objects.get(pk=home.latest_revision_id)
            content = dict(revision.content)
            content["body"] = _with_hero(content.get("body"), hero)
            for name in HERO_FIELDS:
                content.pop(name, None)
            revision.content = content
            revision.save(update_fields=["content"])


def body_into_hero(apps, schema_editor):
    HomePage = apps.get_model("cms", "HomePage")
    for home in HomePage.objects.all():
        raw = list(home.body.raw_data) if home.body else []
        hero = next((block for block in raw if block.get("type") == "hero"), None)
        if hero is None:
            continue
        value = hero["value"]
        home.hero_title = value.get("title") or home.hero_title
        home.hero_text = value.get("text") or ""
        home.commission_cta = value.get("commission_label") or home.commission_cta
        home.listen_cta = value.get("listen_label") or home.listen_cta
        home.body = json.dumps([block for block in raw if block is not hero])
        home.save()


def moderation_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    ContentType = apps.get_model("contenttypes", "ContentType")

    musicians, _ = Group.objects.get_or_create(name="Musicians")
    access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    if access is not None:
        musicians.permissions.add(access)
    add_image = Permission.objects.filter(
        content_type__app_label="wagtailimages", codename="add_image"
    ).first()
    root = Collection.objects.filter(depth=1).first()
    if add_image is not None and root is not None:
        GroupCollectionPermission.objects.get_or_create(
            group=musicians, collection=root, permission=add_image
        )

    moderators, _ = Group.objects.get_or_create(name="Moderators")
    workflow, _ = Workflow.objects.get_or_create(name="Musician pages", defaults={"active": True})
    if not WorkflowTask.objects.filter(workflow=workflow).exists():
        task_type, _ = ContentType.objects.get_or_create(
            app_label="wagtailcore", model="groupapprovaltask"
        )
        task = GroupApprovalTask.objects.create(
            name="Moderators approve musicians' pages", content_type=task_type, active=True
        )
        task.groups.set([moderators])
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_showcase"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailimages", "0027_image_description"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(hero_into_body, body_into_hero),
        migrations.RunPython(moderation_create, migrations.RunPython.noop),
    ]
