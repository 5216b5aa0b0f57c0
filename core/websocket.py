"""What Encore's websocket consumers share: the close codes clients act on, and frames that
are one JSON object each (anything else is answered with an error event, never a crash)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Sign in again (no session, or a bad token) / signed in, but not allowed here.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class JsonObjectConsumer(AsyncJsonWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = await self.decode_json(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self._error("invalid_message", "Send one JSON object per frame.")
            return
        await self.receive_json(content)

    async def _error(self, code: str, detail: str, **extra):
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})
