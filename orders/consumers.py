"""``ws/orders/<order_id>/``: an order's chat and live status (DESIGN section 7).

Open to the order's customer, its musician and staff; an anonymous caller is closed with 4401
and anyone else with 4403 (accepted first, as accounts.consumers explains, so the browser reads
the code). Everything a client sends goes through ``orders.services.chat``; what it receives
is pushed by the services after their commit to the order's group, so this process holds no
state another process would need: a reconnect anywhere asks for ``sync`` after its last id.
"""

import asyncio
import time
import uuid

from channels.db import database_sync_to_async

from core.websocket import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, JsonObjectConsumer
from orders import selectors
from orders.errors import OrderError
from orders.realtime import order_group_name
from orders.services import chat

SYNC_BATCH = 100
# Presence for the unread digest: refreshed this often while a connection is open, so a
# connection that died with its process stops counting as "online" soon after.
SEEN_EVERY_SECONDS = 60


def _int(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < 2**63 else None


class OrderChatConsumer(JsonObjectConsumer):
    order = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        order_id = self.scope["url_route"]["kwargs"]["order_id"]
        if _valid_uuid(order_id):
            self.order = await database_sync_to_async(selectors.chat_order_for)(user, order_id)
        if self.order is None:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.group_name = order_group_name(self.order.pk)
        self.typing_timer: asyncio.Task | None = None
        self.seen_at = 0.0
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        hello = await database_sync_to_async(self._hello)()
        await self.send_json(hello)
        self.heartbeat = asyncio.ensure_future(self._keep_seen())

    def _hello(self) -> dict:
        chat.chat_seen_touch(order=self.order, user=self.user)
        return {
            "type": "hello",
            "order_id": str(self.order.pk),
            "user_id": str(self.user.pk),
            "status": self.order.status,
            "stage": self.order.stage or None,
            "unread": selectors.chat_unread_count(self.order, self.user),
            "read": selectors.chat_read_marks(self.order),
            "typing_seconds": chat.typing_seconds(),
        }

    async def _keep_seen(self):
        while True:
            await asyncio.sleep(SEEN_EVERY_SECONDS)
            await self._touch(force=True)

    async def _touch(self, *, force=False):
        now = time.monotonic()
        if force or now - self.seen_at > SEEN_EVERY_SECONDS / 2:
            self.seen_at = now
            await database_sync_to_async(chat.chat_seen_touch)(order=self.order, user=self.user)

    async def disconnect(self, code):
        if self.order is None or not hasattr(self, "group_name"):
            return
        await self.channel_layer.group_discard(self.group_name, self.channel_name)
        for task in (getattr(self, "heartbeat", None), self.typing_timer):
            if task is not None:
                task.cancel()

        def leave():
            chat.chat_typing_stop_if_typing(order=self.order, user=self.user)
            chat.chat_seen_touch(order=self.order, user=self.user)

        await database_sync_to_async(leave)()

    async def receive_json(self, content, **kwargs):
        await self._touch()
        handler = {
            "message.send": self._on_message_send,
            "typing": self._on_typing,
            "read": self._on_read,
            "sync": self._on_sync,
            "ping": self._on_ping,
        }.get(content.get("type"))
        if handler is None:
            await self._error("unknown_type", "Send message.send, typing, read, sync or ping.")
            return
        try:
            await handler(content)
        except OrderError as error:
            await self._error(error.code, error.message, **error.extra)

    # --- what clients send ------------------------------------------------------------------------

    async def _on_message_send(self, content):
        client_msg_id = content.get("client_msg_id")

        def send():
            message, created = chat.chat_message_send(
                order=self.order,
                sender=self.user,
                client_msg_id=client_msg_id,
                body=content.get("body", ""),
                attachments=content.get("attachments") or [],
            )
            return (None if created else chat.message_data(message, self.order)), created

        try:
            stored, _created = await database_sync_to_async(send)()
        except OrderError as error:
            # The client learns which of its messages failed, to mark it (or retry it later).
            extra = {"client_msg_id": str(client_msg_id)} if client_msg_id else {}
            await self._error(error.code, error.message, **error.extra, **extra)
            return
        if stored is not None:
            # Sent before: the stored message, to this connection only (the others have it).
            await self.send_json({"type": "message", "message": stored})
        if self.typing_timer is not None:
            self.typing_timer.cancel()
            self.typing_timer = None

    async def _on_typing(self, content):
        state = content.get("state")
        if state not in ("start", "stop"):
            await self._error("invalid", 'state is "start" or "stop".')
            return
        await database_sync_to_async(chat.chat_typing_set)(
            order=self.order, user=self.user, typing=state == "start"
        )
        if self.typing_timer is not None:
            self.typing_timer.cancel()
            self.typing_timer = None
        if state == "start":
            self.typing_timer = asyncio.ensure_future(self._typing_expire())

    async def _typing_expire(self):
        # A little past the expiry: the database decides, so a renewal made through another
        # connection (another process) keeps the person typing.
        await asyncio.sleep(chat.typing_seconds() + 0.05)
        await database_sync_to_async(chat.chat_typing_expire)(order=self.order, user=self.user)
        self.typing_timer = None

    async def _on_read(self, content):
        up_to_id = _int(content.get("up_to_id"))
        if up_to_id is None:
            await self._error("invalid", "up_to_id must be a message id.")
            return
        await database_sync_to_async(chat.chat_read_mark)(
            order=self.order, user=self.user, up_to_id=up_to_id
        )

    async def _on_sync(self, content):
        after_id = _int(content.get("after_id", 0))
        if after_id is None:
            await self._error("invalid", "after_id must be a message id (0 for all).")
            return

        def batch(after):
            messages = selectors.chat_messages_after(self.order, after_id=after, limit=SYNC_BATCH)
            return [chat.message_data(m, self.order) for m in messages]

        last = after_id
        while True:
            found = await database_sync_to_async(batch)(last)
            for message in found:
                await self.send_json({"type": "message", "message": message})
            if found:
                last = found[-1]["id"]
            if len(found) < SYNC_BATCH:
                break
        unread = await database_sync_to_async(selectors.chat_unread_count)(self.order, self.user)
        await self.send_json({"type": "sync.done", "last_id": last, "unread": unread})

    async def _on_ping(self, content):
        await self.send_json({"type": "pong"})

    # --- what the services push -------------------------------------------------------------

    async def order_push(self, message):
        """Relay ``{"type": "order.push", "event": {...}}`` sent to the order's group."""
        await self.send_json(message["event"])


def _valid_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
