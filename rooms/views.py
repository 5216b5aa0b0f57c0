"""The rooms pages: the list (with a form to open a room), a room (the synced player, members,
queue and chat, driven by js/rooms.js over ws/rooms/<id>/), and the invite link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from rooms import selectors, services
from rooms.errors import RoomError, RoomNotFound
from rooms.models import MAX_MEMBERS, Room


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request):
    if request.method == "POST":
        try:
            room = services.room_create(
                user=request.user,
                name=request.POST.get("name", ""),
                visibility=request.POST.get("visibility", ""),
            )
        except RoomError as error:
            messages.error(request, error.message)
        else:
            return redirect("rooms:room", room_id=room.pk)
    rooms = selectors.rooms_listed_for(request.user)[:100]
    return render(
        request,
        "rooms/list.html",
        {"rooms": rooms, "max_members": MAX_MEMBERS, "visibilities": Room.Visibility.choices},
    )


def _room_or_404(user, room_id) -> Room:
    try:
        return selectors.room_get_for(user, room_id)
    except RoomNotFound:
        raise Http404() from None


@login_required
def room_detail(request, room_id):
    room = _room_or_404(request.user, room_id)
    invite_url = None
    if room.is_member and room.visibility == Room.Visibility.PRIVATE:
        invite_url = request.build_absolute_uri(f"/rooms/join/{room.invite_token}/")
    return render(
        request,
        "rooms/room.html",
        {"room": room, "invite_url": invite_url, "max_members": MAX_MEMBERS},
    )


@login_required
@require_POST
def room_join(request, room_id):
    _room_or_404(request.user, room_id)
    try:
        services.room_join(room_id=room_id, user=request.user)
    except RoomNotFound:
        raise Http404() from None
    except RoomError as error:
        messages.error(request, error.message)
        return redirect("rooms:list")
    return redirect("rooms:room", room_id=room_id)


@login_required
@require_POST
def room_leave(request, room_id):
    _room_or_404(request.user, room_id)
    try:
        services.room_leave(room_id=room_id, user=request.user)
    except RoomError as error:
        messages.error(request, error.message)
    return redirect("rooms:list")


@login_required
def invite(request, token):
    """One click from the invite link: signed in first if need be (login_required comes back
    here), then in the room. The token is the capability, so following it is the consent."""
    try:
        room = selectors.room_by_invite(token)
        services.room_join(room_id=room.pk, user=request.user, invite_token=token)
    except RoomNotFound:
        raise Http404() from None
    except RoomError as error:
        messages.error(request, error.message)
        return redirect("rooms:list")
    return redirect("rooms:room", room_id=room.pk)
