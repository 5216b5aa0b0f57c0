from django.urls import path

from accounts.consumers import PersonalEventsConsumer

websocket_urlpatterns = [
    path("ws/events/", PersonalEventsConsumer.as_asgi()),
]
