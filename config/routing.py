from django.urls import path

from accounts.consumers import PersonalEventsConsumer
from orders.consumers import OrderChatConsumer
from rooms.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/events/", PersonalEventsConsumer.as_asgi()),
    # Any id: one that is not a UUID is refused by the consumer (4403), not by the router.
    path("ws/orders/<str:order_id>/", OrderChatConsumer.as_asgi()),
    path("ws/rooms/<str:room_id>/", RoomConsumer.as_asgi()),
]
