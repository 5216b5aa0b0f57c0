from core.api_urls import UUID, api_path
from rooms import api

ROOM = rf"rooms/(?P<room_id>{UUID})"

# Each path is taken with and without its trailing slash (api_path).
urlpatterns = [
    api_path("rooms", api.RoomListView, "rooms"),
    api_path(ROOM, api.RoomDetailView, "rooms-detail"),
    api_path(f"{ROOM}/join", api.RoomJoinView, "rooms-join"),
    api_path(f"{ROOM}/leave", api.RoomLeaveView, "rooms-leave"),
    api_path(f"{ROOM}/queue", api.RoomQueueView, "rooms-queue"),
    api_path(
        rf"{ROOM}/queue/(?P<entry_id>[0-9]{{1,18}})", api.RoomQueueEntryView, "rooms-queue-entry"
    ),
]
