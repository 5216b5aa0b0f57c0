"""The REST mirror of the order chat (DESIGN section 7), on the same services as the websocket:

- ``GET /api/orders/{id}/messages?after_id=&limit=``: messages after an id, in id order, a page
  at a time (``next`` continues); ``POST`` the body of ``message.send`` (201, or 200 with the
  stored message when its ``client_msg_id`` was sent before; 429 past the rate);
- ``POST /api/orders/{id}/messages/read`` ``{"up_to_id"}``: move the read pointer;
- ``POST /api/orders/{id}/attachments`` multipart ``file``: upload an attachment (audio, image,
  PDF, checked by content) for a later message;
- ``GET /api/orders/{id}/attachments/{attachment id}``: the file, to the order's people only.
"""

from urllib.parse import urlencode

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from audio import storage
from audio.signing import audio_url_sign, presigned_url
from orders import selectors
from orders.api.base import OrdersView, visible_order
from orders.models import ChatAttachment
from orders.services import chat


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["audio", "image", "pdf"])
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class SenderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["customer", "musician", "staff"])


class MessageSerializer(serializers.Serializer):
    """Documents ``orders.services.chat.message_data``, which makes the payload."""

    id = serializers.IntegerField()
    client_msg_id = serializers.UUIDField()
    sender = SenderSerializer()
    body = serializers.CharField(allow_blank=True)
    attachments = AttachmentSerializer(many=True)
    created_at = serializers.DateTimeField()


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    unread = serializers.IntegerField()
    read = serializers.DictField(child=serializers.IntegerField())


class MessageSendSerializer(serializers.Serializer):
    client_msg_id = serializers.UUIDField()
    body = serializers.CharField(max_length=chat.MAX_BODY, allow_blank=True, required=False)
    attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=chat.MAX_ATTACHMENTS,
        required=False,
    )


class ReadSerializer(serializers.Serializer):
    up_to_id = serializers.IntegerField(min_value=0, max_value=2**63 - 1)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def _bounded_int(request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["A whole number."]}) from None
    if not 0 <= value <= maximum:
        raise exceptions.ValidationError({name: [f"Between 0 and {maximum}."]})
    return value


class ChatView(OrdersView):
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, chat.ChatRateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response


class MessagesView(ChatView):
    @extend_schema(
        parameters=[
            OpenApiParameter("after_id", int, description="Messages after this id (0: all)."),
            OpenApiParameter("limit", int, description=f"At most {selectors.CHAT_PAGE_MAX}."),
        ],
        responses={200: MessagePageSerializer},
        operation_id="orders_messages_list",
    )
    def get(self, request, order_id):
        """The order's messages after ``after_id``, oldest first, a page at a time."""
        order = visible_order(request, order_id)
        after_id = _bounded_int(request, "after_id", 0, 2**63 - 1)
        limit = _bounded_int(request, "limit", selectors.CHAT_PAGE, selectors.CHAT_PAGE_MAX) or 1
        # One more than asked: whether a next page exists without counting.
        messages = selectors.chat_messages_after(order, after_id=after_id, limit=limit + 1)
        more = len(messages) > limit
        messages = messages[:limit]
        next_url = None
        if more:
            query = urlencode({"after_id": messages[-1].pk, "limit": limit})
            next_url = request.build_absolute_uri(f"{request.path}?{query}")
        return Response(
            {
                "results": [chat.message_data(m, order) for m in messages],
                "next": next_url,
                "unread": selectors.chat_unread_count(order, request.user),
                "read": selectors.chat_read_marks(order),
            }
        )

    @extend_schema(
        request=MessageSendSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description="Sent before: the stored one."),
            429: OpenApiResponse(description="rate_limited: nothing was stored."),
        },
        operation_id="orders_messages_send",
    )
    def post(self, request, order_id):
        """Send a message, as ``message.send`` on the websocket does."""
        order = visible_order(request, order_id)
        serializer = MessageSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message, created = chat.chat_message_send(
            order=order,
            sender=request.user,
            client_msg_id=data["client_msg_id"],
            body=data.get("body", ""),
            attachments=data.get("attachments", []),
        )
        if created:
            message = selectors.chat_messages_after(order, after_id=message.pk - 1, limit=1)[0]
        return Response(
            chat.message_data(message, order),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessagesReadView(ChatView):
    @extend_schema(
        request=ReadSerializer,
        responses={200: ReadSerializer},
        operation_id="orders_messages_read",
    )
    def post(self, request, order_id):
        """Everything up to ``up_to_id`` is read (the pointer never moves back)."""
        order = visible_order(request, order_id)
        serializer = ReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        up_to = chat.chat_read_mark(
            order=order, user=request.user, up_to_id=serializer.validated_data["up_to_id"]
        )
        return Response({"up_to_id": up_to})


class AttachmentsView(ChatView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            413: OpenApiResponse(description="Too large."),
            415: OpenApiResponse(description="Not audio, a JPEG/PNG/WebP/GIF image or a PDF."),
        },
        operation_id="orders_attachments_upload",
    )
    def post(self, request, order_id):
        """Upload a file to reference in a message (``attachments: [id]``)."""
        order = visible_order(request, order_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": ["Attach a file."]})
        attachment = chat.chat_attachment_upload(order=order, uploader=request.user, upload=upload)
        return Response(chat.attachment_data(attachment), status=status.HTTP_201_CREATED)


class AttachmentView(ChatView):
    @extend_schema(
        responses={200: OpenApiResponse(description="The file."), 302: None},
        operation_id="orders_attachments_file",
    )
    def get(self, request, order_id, attachment_id):
        """The file. Unsent attachments are their uploader's alone."""
        order = visible_order(request, order_id)
        attachment = (
            ChatAttachment.objects.select_related("asset")
            .filter(order=order, pk=attachment_id)
            .first()
        )
        if attachment is None or (
            attachment.message_id is None and attachment.uploader_id != request.user.pk
        ):
            raise exceptions.NotFound()
        if attachment.asset_id is not None:
            response = HttpResponseRedirect(audio_url_sign(user=request.user, obj=attachment.asset))
        elif storage.is_s3(attachment.file.storage):
            url = presigned_url(
                attachment.file.storage,
                attachment.file.name,
                expires_in=300,
                issued_to=str(request.user.pk),
                parameters={"ResponseContentType": attachment.content_type},
            )
            response = HttpResponseRedirect(url)
        else:
            response = FileResponse(
                default_storage.open(attachment.file.name, "rb"),
                content_type=attachment.content_type,
                as_attachment=attachment.kind == "pdf",
                filename=attachment.name or None,
            )
            response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
