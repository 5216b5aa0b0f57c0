"""Catalog moderation in the Wagtail admin: staff find songs and albums (search, filters), listen,
and hide the ones that break the rules with a reason the owner is told, or list them again.

Staff only and read-only apart from those two acts, which go through
``catalog.services.song_hide`` / ``song_unhide`` / ``album_hide`` / ``album_unhide`` (the row
keeps who, when and why; Wagtail's log keeps the act). What a hidden item means for listeners
is decided in one place, ``catalog.selectors``."""

import django_filters
from django import forms
from django.urls import reverse
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.log_actions import LogFormatter
from wagtail.permissions import register_permission_policy

from billing.admin_actions import ReasonForm, StaffActionView, StaffReadOnlyPolicy
from billing.admin_views import StaffInspectView, StaffModelViewSet
from catalog import services
from catalog.models import Album, Song, Visibility
from catalog.streaming import stream_for

for model in (Song, Album):
    register_permission_policy(model, StaffReadOnlyPolicy(model))


class ModerationFilterSet(WagtailFilterSet):
    hidden = django_filters.BooleanFilter(
        label="Hidden by moderators",
        field_name="hidden_at",
        lookup_expr="isnull",
        exclude=True,
        widget=forms.RadioSelect(choices=[("", "All"), ("true", "Hidden"), ("false", "Listed")]),
    )
    visibility = django_filters.ChoiceFilter(
        label="Visibility", choices=Visibility.choices, empty_label="All", widget=forms.RadioSelect
    )
    created_at = django_filters.DateFromToRangeFilter(
        label="Published", widget=DateRangePickerWidget
    )


class SongFilterSet(ModerationFilterSet):
    class Meta:
        model = Song
        fields = []


class AlbumFilterSet(ModerationFilterSet):
    class Meta:
        model = Album
        fields = []


def _moderation_buttons(item, *, kind: str, button_class) -> list:
    if item.is_hidden:
        return [
            button_class(
                "List again",
                url=reverse(f"catalog_{kind}s:unhide", args=[item.pk]),
                icon_name="view",
                priority=5,
            )
        ]
    return [
        button_class(
            "Hide",
            url=reverse(f"catalog_{kind}s:hide", args=[item.pk]),
            icon_name="no-view",
            priority=5,
        )
    ]


def _index_view(kind: str, related: tuple):
    class ModerationIndexView(IndexView):
        def get_base_queryset(self):
            return super().get_base_queryset().select_related(*related)

        def get_list_more_buttons(self, instance):
            return super().get_list_more_buttons(instance) + _moderation_buttons(
                instance, kind=kind, button_class=Button
            )

    return ModerationIndexView


class ModerationInspectView(StaffInspectView):
    kind = ""
    template_name = "catalog/admin/inspect.html"

    def get_action_buttons(self):
        return _moderation_buttons(self.object, kind=self.kind, button_class=HeaderButton)


class SongInspectView(ModerationInspectView):
    kind = "song"

    def get_related(self):
        # Staff hear what they judge, hidden or not (a short-lived link made for them).
        return {"stream": stream_for(user=self.request.user, song=self.object, asked="normal")}


class AlbumInspectView(ModerationInspectView):
    kind = "album"

    def get_related(self):
        return {
            "songs": list(
                Song.objects.filter(album=self.object)
                .select_related("hidden_by")
                .order_by("track_number", "created_at")
            )
        }


class HideView(StaffActionView):
    kind = ""
    form_class = ReasonForm
    header_icon = "no-view"
    button_label = "Hide"
    button_class = "button serious"
    template_name = "catalog/admin/moderate.html"

    def get_page_title(self):
        return f"Hide this {self.kind}"

    def get_confirmation(self):
        songs = " and its songs" if self.kind == "album" else ""
        return (
            f"Listeners will no longer find or play this {self.kind}{songs}, anywhere on "
            "Encore. Its artist still sees it, marked with your reason, and is told the reason "
            "by notification and email."
        )


class SongHideView(HideView):
    kind = "song"
    success_message = "Hidden: the artist has been told why."

    def perform(self, reason):
        return services.song_hide(song_id=self.object.pk, actor=self.request.user, reason=reason)


class AlbumHideView(HideView):
    kind = "album"
    success_message = "Hidden with its songs: the artist has been told why."

    def perform(self, reason):
        return services.album_hide(album_id=self.object.pk, actor=self.request.user, reason=reason)


class UnhideView(StaffActionView):
    kind = ""
    header_icon = "view"
    button_label = "List again"
    template_name = "catalog/admin/moderate.html"
    success_message = "Listed again: the artist has been told."

    def get_page_title(self):
        return f"List this {self.kind} again"

    def get_confirmation(self):
        return (
            f"Listeners can find and play this {self.kind} again, and its artist is told. It was "
            f"hidden because: {self.object.hidden_reason}"
        )


class SongUnhideView(UnhideView):
    kind = "song"

    def perform(self, reason):
        return services.song_unhide(song_id=self.object.pk, actor=self.request.user)


class AlbumUnhideView(UnhideView):
    kind = "album"

    def perform(self, reason):
        return services.album_unhide(album_id=self.object.pk, actor=self.request.user)


MODERATION_FIELDS = ["hidden_at", "hidden_by", "hidden_reason"]


class SongViewSet(StaffModelViewSet):
    model = Song
    icon = "media"
    menu_label = "Songs"
    index_view_class = _index_view("song", ("artist", "album", "hidden_by"))
    inspect_view_class = SongInspectView
    filterset_class = SongFilterSet
    action_views = {"hide": SongHideView, "unhide": SongUnhideView}
    list_display = [
        "title",
        "artist_name",
        "album_title",
        "visibility",
        Column("hidden", label="Hidden", accessor=lambda song: song.hidden_reason or ""),
        DateColumn("created_at", label="Published", sort_key="created_at"),
    ]
    search_fields = ["title", "artist_name", "album_title", "genre_names"]
    inspect_view_fields = [
        "title",
        "artist",
        "album",
        "visibility",
        "explicit",
        "lyrics",
        "play_count",
        "like_count",
        "created_at",
        *MODERATION_FIELDS,
    ]


class AlbumViewSet(StaffModelViewSet):
    model = Album
    icon = "folder-open-1"
    menu_label = "Albums"
    index_view_class = _index_view("album", ("artist", "hidden_by"))
    inspect_view_class = AlbumInspectView
    filterset_class = AlbumFilterSet
    action_views = {"hide": AlbumHideView, "unhide": AlbumUnhideView}
    list_display = [
        "title",
        "artist_name",
        "visibility",
        Column("hidden", label="Hidden", accessor=lambda album: album.hidden_reason or ""),
        DateColumn("created_at", label="Published", sort_key="created_at"),
    ]
    search_fields = ["title", "artist_name", "description"]
    inspect_view_fields = [
        "title",
        "artist",
        "description",
        "release_date",
        "visibility",
        "created_at",
        *MODERATION_FIELDS,
    ]


class CatalogGroup(ViewSetGroup):
    menu_label = "Catalog moderation"
    menu_icon = "media"
    menu_order = 860
    items = (SongViewSet("catalog_songs"), AlbumViewSet("catalog_albums"))


@hooks.register("register_admin_viewset")
def register_catalog_moderation():
    return CatalogGroup()


class ReasonFormatter(LogFormatter):
    """A log line that carries the moderator's reason."""

    def format_message(self, log_entry):
        reason = (log_entry.data or {}).get("reason")
        return f"{self.message}: {reason}" if reason else self.message


@hooks.register("register_log_actions")
def register_catalog_log_actions(actions):
    for kind in ("song", "album"):
        for verb, label, message in (
            ("hide", f"Hide {kind}", "Hidden by moderators"),
            ("unhide", f"List {kind} again", "Listed again (it was hidden because)"),
        ):
            formatter = type(
                "ModerationFormatter", (ReasonFormatter,), {"label": label, "message": message}
            )
            actions.register_action(f"catalog.{kind}_{verb}")(formatter)
