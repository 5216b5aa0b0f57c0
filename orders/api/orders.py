"""Orders: placing one (with its deposit), the caller's list, and one order in full."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders import selectors, services
from orders.api.base import OrdersView, uuid_or_404
from orders.api.disputes import DisputeSerializer
from orders.api.reviews import ReviewSerializer
from orders.api.versions import DeliverySerializer, RevisionRequestSerializer, VersionSerializer
from orders.models import STAGES, LyricsChoice, Occasion, Order, OrderEvent, OrderOffer, OrderStatus
from orders.permissions import order_actions_for
from orders.wording import event_note


class OrderCreateSerializer(serializers.Serializer):
    package = serializers.UUIDField(required=False, allow_null=True)
    match = serializers.BooleanField(required=False, default=False)
    occasion = serializers.ChoiceField(choices=Occasion.choices)
    occasion_date = serializers.DateField(required=False, allow_null=True)
    recipient_name = serializers.CharField(max_length=100)
    story = serializers.CharField(max_length=5000)
    genre = serializers.CharField(max_length=60, required=False, allow_blank=True)
    mood = serializers.CharField(max_length=60, required=False, allow_blank=True)
    tempo_feel = serializers.CharField(max_length=60, required=False, allow_blank=True)
    language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    lyrics_choice = serializers.ChoiceField(
        choices=LyricsChoice.choices, required=False, default=LyricsChoice.MUSICIAN
    )
    lyrics = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    names_to_include = serializers.CharField(max_length=300, required=False, allow_blank=True)
    references = serializers.ListField(
        child=serializers.URLField(max_length=services.MAX_REFERENCE_LENGTH),
        max_length=services.MAX_REFERENCES,
        required=False,
    )
    instructions = serializers.CharField(max_length=3000, required=False, allow_blank=True)
    budget = serializers.IntegerField(
        min_value=0, max_value=services.MAX_PRICE, required=False, allow_null=True
    )


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()


class DepositSerializer(MoneySerializer):
    checkout_url = serializers.CharField(allow_blank=True)


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    stage = serializers.CharField(read_only=True)
    note = serializers.SerializerMethodField(
        help_text="Worded for the caller (orders.wording): the musician never reads the budget."
    )

    class Meta:
        model = OrderEvent
        fields = ["name", "actor", "from_status", "to_status", "stage", "note", "created_at"]

    def get_note(self, event) -> str:
        order, role = self.context.get("order"), self.context.get("role", "customer")
        if order is None:
            return event.note
        return event_note(event, order=order, role=role)


STATUS_HELP = "One of: " + ", ".join(OrderStatus.values) + " (docs/architecture.md section 5)."


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer_id", read_only=True)
    musician = serializers.UUIDField(source="musician_id", read_only=True, allow_null=True)
    package = serializers.UUIDField(source="package_id", read_only=True, allow_null=True)
    title = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    stage = serializers.CharField(
        read_only=True, help_text="While in_progress: " + ", ".join(STAGES) + "."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "title",
            "status",
            "stage",
            "customer",
            "musician",
            "package",
            "price",
            "currency",
            "delivery_days",
            "revisions_included",
            "revisions_used",
            "occasion",
            "occasion_date",
            "recipient_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderPaymentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    purpose = serializers.CharField()
    amount = serializers.IntegerField()
    amount_refunded = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class OfferSerializer(serializers.ModelSerializer):
    """The offer waiting for the caller's answer, with the terms the order takes if they accept:
    a matched order's are those of the musician's package it is offered at, a picked package's
    are the order's own."""

    package = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField(
        help_text="Minor units: what the order costs if you accept (a matched order: your "
        "package's price, not the customer's budget)."
    )
    delivery_days = serializers.SerializerMethodField()
    revisions_included = serializers.SerializerMethodField()

    def _terms(self, offer):
        # Given by the order's serializer (selectors.order_terms_for the offered musician).
        return self.context["terms"]

    def get_package(self, offer) -> str | None:
        package = self._terms(offer).package
        return str(package.pk) if package is not None else None

    def get_price(self, offer) -> int:
        return self._terms(offer).price

    def get_delivery_days(self, offer) -> int:
        return self._terms(offer).delivery_days

    def get_revisions_included(self, offer) -> int:
        return self._terms(offer).revisions_included

    class Meta:
        model = OrderOffer
        fields = [
            "status",
            "offered_at",
            "expires_at",
            "package",
            "price",
            "delivery_days",
            "revisions_included",
        ]
        read_only_fields = fields


class TimelineStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=STAGES)
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "current", "upcoming"])


class TimelineStepSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "current", "stopped", "upcoming"])
    stages = TimelineStageSerializer(many=True)


class OrderDetailSerializer(OrderSerializer):
    brief = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    price_is_budget = serializers.SerializerMethodField(
        help_text="A matched order nobody accepted yet: price is the customer's budget, a "
        "ceiling; the order takes the accepting musician's package price. The musician it is "
        "offered to reads that package's price, delivery days and revisions in price, "
        "delivery_days and revisions_included (and in offer)."
    )
    timeline = serializers.SerializerMethodField(
        help_text="The tracking steps and, in progress, only the stages the order has passed."
    )
    payments = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField(
        help_text="What you may do with the order now (the requests that would succeed)."
    )
    versions = VersionSerializer(many=True, read_only=True)
    deliveries = DeliverySerializer(many=True, read_only=True)
    revision_requests = RevisionRequestSerializer(many=True, read_only=True)
    review = serializers.SerializerMethodField()
    disputes = DisputeSerializer(many=True, read_only=True)
    offer = serializers.SerializerMethodField(
        help_text="For the musician the order is offered to: until when they can answer."
    )
    deposit_amount = serializers.IntegerField(read_only=True)
    balance_amount = serializers.IntegerField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "deposit_amount",
            "balance_amount",
            "price_is_budget",
            "accepted_at",
            "due_at",
            "approved_at",
            "delivered_at",
            "closed_at",
            "brief",
            "events",
            "timeline",
            "payments",
            "allowed",
            "versions",
            "deliveries",
            "revision_requests",
            "review",
            "disputes",
            "offer",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_brief(self, order) -> dict:
        return {field: getattr(order, field) for field in services.BRIEF_FIELDS} | {
            "occasion_date": order.occasion_date.isoformat() if order.occasion_date else None
        }

    def _viewer(self):
        return getattr(self.context.get("request"), "user", None)

    def _role(self, order) -> str:
        return selectors.viewer_role(order, self._viewer())

    def to_representation(self, order):
        data = super().to_representation(order)
        terms = selectors.order_terms_for(order, self._viewer())
        if terms.offered:
            # The musician answering an offer reads the terms they would accept.
            data.update(
                price=terms.price,
                package=str(terms.package.pk) if terms.package is not None else None,
                delivery_days=terms.delivery_days,
                revisions_included=terms.revisions_included,
                deposit_amount=terms.deposit_amount,
                balance_amount=terms.balance_amount,
            )
        return data

    def get_price_is_budget(self, order) -> bool:
        return selectors.order_terms_for(order, self._viewer()).budget

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_events(self, order) -> list[dict]:
        context = {**self.context, "order": order, "role": self._role(order)}
        return OrderEventSerializer(order.events.all(), many=True, context=context).data

    @extend_schema_field(TimelineStepSerializer(many=True))
    def get_timeline(self, order) -> list[dict]:
        return selectors.order_timeline(order, role=self._role(order))

    @extend_schema_field(OrderPaymentSerializer(many=True))
    def get_payments(self, order) -> list[dict]:
        return OrderPaymentSerializer(selectors.order_payments(order), many=True).data

    def get_allowed(self, order) -> list[str]:
        request = self.context.get("request")
        return sorted(order_actions_for(order, getattr(request, "user", None)))

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, order) -> dict | None:
        review = getattr(order, "review", None)
        return ReviewSerializer(review).data if review is not None else None

    @extend_schema_field(OfferSerializer(allow_null=True))
    def get_offer(self, order) -> dict | None:
        viewer = self._viewer()
        offer = selectors.offer_pending_for(order, viewer)
        if offer is None:
            return None
        terms = selectors.order_terms_for(order, viewer)
        return OfferSerializer(offer, context={"terms": terms}).data


class OrderCreatedSerializer(OrderSerializer):
    deposit = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "deposit"]
        read_only_fields = fields

    @extend_schema_field(DepositSerializer)
    def get_deposit(self, order) -> dict:
        checkout = self.context.get("checkout")
        return {
            "amount": order.deposit_amount,
            "currency": order.currency,
            "checkout_url": checkout.url if checkout is not None else "",
        }


MUSICIAN_UNAVAILABLE = OpenApiResponse(
    response=inline_serializer(
        "MusicianUnavailable",
        {
            "detail": serializers.CharField(),
            "code": serializers.CharField(),
            "reason": serializers.ChoiceField(choices=["inactive", "paused", "away", "full"]),
            "next_free_date": serializers.DateField(allow_null=True),
            "alternatives": serializers.ListField(child=serializers.CharField()),
        },
    ),
    description="musician_unavailable: the picked musician cannot take an order now; "
    '"match" (ask to be matched) is the way on.',
)


class OrderListView(OrdersView, generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_visible_to(self.request.user)

    @extend_schema(operation_id="orders_list")
    def get(self, request, *args, **kwargs):
        """The caller's orders, as customer or musician (staff: all), newest first."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderCreatedSerializer, 409: MUSICIAN_UNAVAILABLE},
        operation_id="orders_create",
    )
    def post(self, request):
        """Commission a song: a package, or ``"match": true`` with a budget. Answers with the
        deposit to pay (ceil(price / 2)) and where to pay it."""
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        package_id = data.pop("package", None)
        package = None
        if package_id is not None:
            package = selectors.packages_for(request.user).filter(pk=package_id).first()
            if package is None:
                raise exceptions.ValidationError({"package": ["No such package."]})
        order = services.order_place(customer=request.user, package=package, **data)
        checkout = services.order_deposit_checkout(order=order, actor=request.user)
        body = OrderCreatedSerializer(order, context={"checkout": checkout}).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrderDetailView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OrderDetailSerializer, operation_id="orders_retrieve")
    def get(self, request, order_id):
        """Status, stage, brief, events (the timeline) and payments of one order."""
        order = selectors.order_detail_for(request.user, uuid_or_404(order_id))
        if order is None:
            raise exceptions.NotFound()
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


def detail_response(request, order, *, status_code=status.HTTP_200_OK) -> Response:
    # After a change the caller may no longer see the order (a musician who declined it).
    detailed = selectors.order_detail_for(request.user, order.pk)
    if detailed is None:
        return Response({"id": str(order.pk), "status": order.status}, status=status_code)
    return Response(
        OrderDetailSerializer(detailed, context={"request": request}).data, status=status_code
    )
