"""The rooms API: create, list, read, join and leave rooms; the queue; the host's settings.
Thin: validate, call a service, serialize. Room service errors answer ``{"detail", "code"}``."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import selectors, services
from rooms.errors import NotMember, RoomError
from rooms.models import MAX_MEMBERS, Room
from rooms.state import room_state_shared


def _api_error(error: RoomError) -> exceptions.APIException:
    exc = exceptions.APIException(detail={"detail": error.message, "code": error.code})
    exc.status_code = error.status
    return exc


class RoomErrors:
    """Room service errors become the API's JSON errors with their own status."""

    def handle_exception(self, exc):
        if isinstance(exc, RoomError):
            exc = _api_error(exc)
        return super().handle_exception(exc)


class RoomSerializer(serializers.ModelSerializer):
    host = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True)
    max_members = serializers.SerializerMethodField()
    is_member = serializers.BooleanField(read_only=True)
    invite_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    ws_url = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = [
            "id",
            "name",
            "visibility",
            "host",
            "guests_may_command",
            "member_count",
            "max_members",
            "is_member",
            "created_at",
            "invite_url",
            "page_url",
            "ws_url",
        ]

    def get_host(self, room) -> dict | None:
        if room.host is None:
            return None
        return {"id": str(room.host_id), "display_name": room.host.display_name}

    def get_max_members(self, room) -> int:
        return MAX_MEMBERS

    def get_invite_url(self, room) -> str | None:
        """Private rooms only, and only to their members: the link is the key."""
        if room.visibility != Room.Visibility.PRIVATE or not room.is_member:
            return None
        path = reverse("rooms:join", kwargs={"token": room.invite_token})
        return self.context["request"].build_absolute_uri(path)

    def get_page_url(self, room) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("rooms:room", kwargs={"room_id": room.pk})
        )

    def get_ws_url(self, room) -> str:
        return f"/ws/rooms/{room.pk}/"


class RoomCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    visibility = serializers.ChoiceField(choices=Room.Visibility.values)


class JoinSerializer(serializers.Serializer):
    invite_token = serializers.CharField(max_length=64, required=False, allow_blank=True)


class QueueAddSerializer(serializers.Serializer):
    song_id = serializers.UUIDField()


class SettingsSerializer(serializers.Serializer):
    guests_may_command = serializers.BooleanField()


def _room_data(request, room_id) -> dict:
    room = selectors.room_get_for(request.user, room_id)
    return RoomSerializer(room, context={"request": request}).data


def _state_for(request, room_id) -> dict:
    """The room's shared state (without stream links, which the websocket gives each member)."""
    room = selectors.room_get_for(request.user, room_id)
    if not room.is_member:
        raise _api_error(NotMember())
    return room_state_shared(room)


class RoomListView(RoomErrors, generics.ListAPIView):
    serializer_class = RoomSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a user
            return Room.objects.none()
        return selectors.rooms_listed_for(self.request.user)

    @extend_schema(request=RoomCreateSerializer, responses={201: RoomSerializer})
    def post(self, request):
        serializer = RoomCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = services.room_create(user=request.user, **serializer.validated_data)
        return Response(_room_data(request, room.pk), status=status.HTTP_201_CREATED)


class RoomDetailView(RoomErrors, APIView):
    @extend_schema(responses=RoomSerializer)
    def get(self, request, room_id):
        data = _room_data(request, room_id)
        if data["is_member"]:
            data["state"] = _state_for(request, room_id)
        return Response(data)

    @extend_schema(request=SettingsSerializer, responses=RoomSerializer)
    def patch(self, request, room_id):
        selectors.room_get_for(request.user, room_id)
        serializer = SettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.room_settings_update(
            room_id=room_id, user=request.user, **serializer.validated_data
        )
        return Response(_room_data(request, room_id))


class RoomJoinView(RoomErrors, APIView):
    @extend_schema(request=JoinSerializer, responses={200: RoomSerializer, 201: RoomSerializer})
    def post(self, request, room_id):
        serializer = JoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _member, joined = services.room_join(
            room_id=room_id,
            user=request.user,
            invite_token=serializer.validated_data.get("invite_token") or None,
        )
        return Response(
            _room_data(request, room_id),
            status=status.HTTP_201_CREATED if joined else status.HTTP_200_OK,
        )


class RoomLeaveView(RoomErrors, APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, room_id):
        selectors.room_get_for(request.user, room_id)
        services.room_leave(room_id=room_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomQueueView(RoomErrors, APIView):
    @extend_schema(responses=inline_serializer("RoomQueue", {"queue": serializers.ListField()}))
    def get(self, request, room_id):
        return Response({"queue": _state_for(request, room_id)["queue"]})

    @extend_schema(request=QueueAddSerializer, responses={201: None})
    def post(self, request, room_id):
        selectors.room_get_for(request.user, room_id)
        serializer = QueueAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = services.room_queue_add(
            room_id=room_id, user=request.user, song_id=serializer.validated_data["song_id"]
        )
        return Response({"queue": state["queue"]}, status=status.HTTP_201_CREATED)


class RoomQueueEntryView(RoomErrors, APIView):
    @extend_schema(request=None, responses={200: None})
    def delete(self, request, room_id, entry_id):
        selectors.room_get_for(request.user, room_id)
        state = services.room_queue_remove(room_id=room_id, user=request.user, entry_id=entry_id)
        return Response({"queue": state["queue"]})
