"""Errors the room services raise, each with the HTTP status and code the API answers with and
the code the websocket sends in ``{"type": "error", "code": ...}``."""

from core.errors import ServiceError


class RoomError(ServiceError):
    pass


class Invalid(RoomError):
    pass


class NotMember(RoomError):
    status = 403
    code = "not_member"
    default_message = "Join the room first."


class NotHost(RoomError):
    status = 403
    code = "not_host"
    default_message = "Only the host controls this room."


class RoomNotFound(RoomError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class RoomFull(RoomError):
    status = 409
    code = "room_full"
    default_message = "This room is full (32 people)."


class QueueEmpty(RoomError):
    status = 409
    code = "queue_empty"
    default_message = "Nothing to play: add songs to the queue."
