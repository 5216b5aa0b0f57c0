"""Orders API (DESIGN.md sections 5 and 8). Thin: validate, call a service, serialize.

Services raise orders.errors; each carries its HTTP status and code. An illegal transition
answers 409 ``{"detail", "code": "transition_not_allowed", "allowed": [...]}``. Orders the
caller may not see are 404.
"""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.errors import BillingError
from orders import selectors, services
from orders.errors import OrderError, TransitionConflict
from orders.models import (
    STAGES,
    LyricsChoice,
    Occasion,
    Order,
    OrderEvent,
    OrderStatus,
    Package,
)


class OrderAPIError(exceptions.APIException):
    def __init__(self, error):
        self.status_code = error.status
        detail = {"detail": error.message, "code": error.code}
        if isinstance(error, TransitionConflict):
            detail["allowed"] = error.allowed
        if isinstance(error, OrderError) and error.field and error.status == 400:
            detail["errors"] = {error.field: [error.message]}
        super().__init__(detail=detail, code=error.code)


class OrdersView(APIView):
    """Turns orders' (and billing's) service errors into API errors."""

    def handle_exception(self, exc):
        if isinstance(exc, OrderError | BillingError):
            exc = OrderAPIError(exc)
        return super().handle_exception(exc)


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise exceptions.NotFound() from None


# --- packages -------------------------------------------------------------------------------


class PackageSerializer(serializers.ModelSerializer):
    musician = serializers.UUIDField(source="musician_id", read_only=True)
    musician_name = serializers.CharField(source="musician.display_name", read_only=True)
    price = serializers.IntegerField(
        min_value=1, max_value=services.MAX_PRICE, help_text="Minor units."
    )
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
    delivery_days = serializers.IntegerField(min_value=1, max_value=365)
    revisions_included = serializers.IntegerField(min_value=0, max_value=20, required=False)
    occasions = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=len(Occasion.values),
        required=False,
        help_text=f"Occasions offered for (empty: any): {', '.join(Occasion.values)}.",
    )

    def validate_occasions(self, value):
        unknown = [item for item in value if item not in Occasion.values]
        if unknown:
            raise serializers.ValidationError(f"Unknown occasion: {unknown[0]}.")
        return list(dict.fromkeys(value))

    class Meta:
        model = Package
        fields = [
            "id",
            "musician",
            "musician_name",
            "name",
            "description",
            "price",
            "currency",
            "delivery_days",
            "revisions_included",
            "occasions",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class PackageListView(OrdersView, generics.ListAPIView):
    serializer_class = PackageSerializer

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Package.objects.none()
        musician = self.request.query_params.get("musician")
        musician_id = None
        if musician:
            try:
                musician_id = uuid.UUID(musician)
            except ValueError:
                raise exceptions.ValidationError({"musician": ["Not a user id."]}) from None
        return selectors.packages_for(self.request.user, musician_id=musician_id)

    @extend_schema(
        parameters=[OpenApiParameter("musician", OpenApiTypes.UUID, description="A musician.")],
        operation_id="packages_list",
    )
    def get(self, request, *args, **kwargs):
        """Packages on offer (public); a musician also sees their own inactive ones."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PackageSerializer,
        responses={201: PackageSerializer},
        operation_id="packages_create",
    )
    def post(self, request):
        """A musician offers a new package."""
        serializer = PackageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        package = services.package_create(musician=request.user, **serializer.validated_data)
        return Response(PackageSerializer(package).data, status=status.HTTP_201_CREATED)


class PackageDetailView(OrdersView):
    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    def _package(self, request, package_id):
        package = selectors.packages_for(request.user).filter(pk=_uuid_or_404(package_id)).first()
        if package is None:
            raise exceptions.NotFound()
        return package

    @extend_schema(responses=PackageSerializer, operation_id="packages_retrieve")
    def get(self, request, package_id):
        return Response(PackageSerializer(self._package(request, package_id)).data)

    def _update(self, request, package_id, *, partial):
        package = self._package(request, package_id)
        serializer = PackageSerializer(package, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        package = services.package_update(
            package=package, actor=request.user, **serializer.validated_data
        )
        return Response(PackageSerializer(package).data)

    @extend_schema(
        request=PackageSerializer, responses=PackageSerializer, operation_id="packages_update"
    )
    def put(self, request, package_id):
        """The owner changes a package (orders placed keep the terms they were placed with)."""
        return self._update(request, package_id, partial=False)

    @extend_schema(
        request=PackageSerializer,
        responses=PackageSerializer,
        operation_id="packages_partial_update",
    )
    def patch(self, request, package_id):
        return self._update(request, package_id, partial=True)

    @extend_schema(responses={204: None}, operation_id="packages_destroy")
    def delete(self, request, package_id):
        """The owner stops offering a package (it is kept for the orders placed with it)."""
        services.package_deactivate(package=self._package(request, package_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- orders ---------------------------------------------------------------------------------


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

    class Meta:
        model = OrderEvent
        fields = ["name", "actor", "from_status", "to_status", "stage", "note", "created_at"]


STATUS_HELP = "One of: " + ", ".join(OrderStatus.values) + " (DESIGN.md section 5)."


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


class OrderDetailSerializer(OrderSerializer):
    brief = serializers.SerializerMethodField()
    events = OrderEventSerializer(many=True, read_only=True)
    payments = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField(help_text="The transitions the order can take now.")

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "brief", "events", "payments", "allowed"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_brief(self, order) -> dict:
        return {field: getattr(order, field) for field in services.BRIEF_FIELDS} | {
            "occasion_date": order.occasion_date.isoformat() if order.occasion_date else None
        }

    @extend_schema_field(OrderPaymentSerializer(many=True))
    def get_payments(self, order) -> list[dict]:
        return OrderPaymentSerializer(selectors.order_payments(order), many=True).data

    def get_allowed(self, order) -> list[str]:
        return order.allowed_transitions()


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
        responses={201: OrderCreatedSerializer},
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
        order = selectors.order_detail_for(request.user, _uuid_or_404(order_id))
        if order is None:
            raise exceptions.NotFound()
        return Response(OrderDetailSerializer(order).data)


# --- transitions ----------------------------------------------------------------------------


class EmptySerializer(serializers.Serializer):
    pass


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class FeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(max_length=5000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


TRANSITION_CONFLICT = OpenApiResponse(
    response=inline_serializer(
        "TransitionConflict",
        {
            "detail": serializers.CharField(),
            "code": serializers.CharField(),
            "allowed": serializers.ListField(child=serializers.CharField()),
        },
    ),
    description="transition_not_allowed: the order cannot take this transition now.",
)


class TransitionView(OrdersView):
    """``POST /api/orders/{id}/<transition>``: 404 when the caller cannot see the order, 403
    when they see it but the transition is the other side's, 409 when it is not allowed now."""

    permission_classes = [IsAuthenticated]
    request_serializer = EmptySerializer

    def perform(self, *, order, user, data):  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def post(self, request, order_id):
        serializer = self.request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = selectors.orders_visible_to(request.user).filter(pk=_uuid_or_404(order_id)).first()
        if order is None:
            raise exceptions.NotFound()
        order = self.perform(order=order, user=request.user, data=serializer.validated_data)
        order = selectors.order_detail_for(request.user, order.pk) or order
        return Response(OrderDetailSerializer(order).data)


def _transition_schema(name: str, request, description: str):
    return extend_schema(
        request=request,
        responses={200: OrderDetailSerializer, 409: TRANSITION_CONFLICT},
        operation_id=f"orders_{name}",
        description=description,
    )


class AcceptView(TransitionView):
    @_transition_schema("accept", EmptySerializer, "The offered musician takes the order.")
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_accept(order=order, musician=user)


class DeclineView(TransitionView):
    request_serializer = ReasonSerializer

    @_transition_schema("decline", ReasonSerializer, "The offered musician says no.")
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_decline(order=order, musician=user, reason=data.get("reason", ""))


class AdvanceStageView(TransitionView):
    request_serializer = NoteSerializer

    @_transition_schema(
        "advance_stage", NoteSerializer, "The musician moves the work to its next stage."
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_advance_stage(order=order, musician=user, note=data.get("note", ""))


class RequestRevisionView(TransitionView):
    request_serializer = FeedbackSerializer

    @_transition_schema(
        "request_revision", FeedbackSerializer, "The customer asks for changes to the draft."
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_request_revision(
            order=order, customer=user, feedback=data["feedback"]
        )


class ApproveView(TransitionView):
    @_transition_schema("approve", EmptySerializer, "The customer approves the draft.")
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_approve(order=order, customer=user)


class CancelView(TransitionView):
    request_serializer = ReasonSerializer

    @_transition_schema(
        "cancel",
        ReasonSerializer,
        "The customer cancels before a musician accepts; the deposit is refunded in full.",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_cancel(order=order, actor=user, reason=data.get("reason", ""))


class OpenDisputeView(TransitionView):
    request_serializer = DisputeSerializer

    @_transition_schema(
        "open_dispute", DisputeSerializer, "The customer or the musician opens a dispute."
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def perform(self, *, order, user, data):
        return services.order_open_dispute(order=order, actor=user, reason=data["reason"])


class PayBalanceView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: DepositSerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_pay_balance",
    )
    def post(self, request, order_id):
        """The customer pays the balance (price - deposit) of a delivered order: answers with
        where to pay it. Once captured the order completes and the escrow is released."""
        order = selectors.orders_visible_to(request.user).filter(pk=_uuid_or_404(order_id)).first()
        if order is None:
            raise exceptions.NotFound()
        checkout = services.order_balance_checkout(order=order, actor=request.user)
        return Response(
            {
                "amount": order.balance_amount,
                "currency": order.currency,
                "checkout_url": checkout.url if checkout is not None else "",
            }
        )


TRANSITION_VIEWS = {
    "accept": AcceptView,
    "decline": DeclineView,
    "advance_stage": AdvanceStageView,
    "request_revision": RequestRevisionView,
    "approve": ApproveView,
    "cancel": CancelView,
    "open_dispute": OpenDisputeView,
    "pay_balance": PayBalanceView,
}
