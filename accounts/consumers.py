"""A person's own event stream: pushes addressed to them (upload progress, notifications...)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.realtime import user_group_name
from core.websocket import CLOSE_UNAUTHENTICATED


class PersonalEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accepted first: a close before the handshake completes reaches the client as an
            # HTTP 403 (close code 1006), and clients could not tell "sign in again" from a
            # network failure worth retrying.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group_name = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": str(user.pk)})

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json(
                {
                    "type": "error",
                    "code": "invalid_message",
                    "detail": "Send one JSON object per frame.",
                }
            )
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json(
            {"type": "error", "code": "unknown_type", "detail": "This stream only sends events."}
        )

    async def user_event(self, message):
        """Relay ``{"type": "user.event", "event": {...}}`` sent to the person's group."""
        await self.send_json(message["event"])
