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
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.errors import BillingError
from orders import selectors, services
from orders.errors import OrderError
from orders.models import (
    STAGES,
    Delivery,
    Dispute,
    DisputeEvidence,
    DisputeOutcome,
    LyricsChoice,
    MusicianProfile,
    Occasion,
    Order,
    OrderEvent,
    OrderOffer,
    OrderStatus,
    Package,
    Review,
    RevisionRequest,
    Version,
)
from orders.permissions import order_actions_for


class OrderAPIError(exceptions.APIException):
    def __init__(self, error):
        self.status_code = error.status
        detail = {"detail": error.message, "code": error.code}
        if isinstance(error, OrderError) and error.field and error.status == 400:
            detail["errors"] = {error.field: [error.message]}
        super().__init__(detail=detail, code=error.code)
        if isinstance(error, OrderError):
            # As they are: DRF would turn every value into a string (None into "None").
            self.detail.update(error.extra)


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


def _visible_order(request, order_id) -> Order:
    """The order, if the caller may see it (customer, its musician, staff); 404 otherwise."""
    order = selectors.orders_visible_to(request.user).filter(pk=_uuid_or_404(order_id)).first()
    if order is None:
        raise exceptions.NotFound()
    return order


def _detail_response(request, order, *, status_code=status.HTTP_200_OK) -> Response:
    # After a change the caller may no longer see the order (a musician who declined it).
    detailed = selectors.order_detail_for(request.user, order.pk)
    if detailed is None:
        return Response({"id": str(order.pk), "status": order.status}, status=status_code)
    return Response(
        OrderDetailSerializer(detailed, context={"request": request}).data, status=status_code
    )


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


class VersionSerializer(serializers.ModelSerializer):
    feedback = serializers.CharField(
        read_only=True, help_text="The customer's feedback this version answers (none for v1)."
    )
    preview_url = serializers.SerializerMethodField(
        help_text="A short-lived link, issued to you, to the watermarked preview (whoever holds "
        "it may play it until it expires)."
    )
    original_url = serializers.SerializerMethodField(
        help_text="The musician's own upload: for the musician and staff only."
    )
    duration = serializers.FloatField(source="asset.duration", read_only=True)

    class Meta:
        model = Version
        fields = [
            "number",
            "status",
            "note",
            "feedback",
            "failure_reason",
            "duration",
            "preview_url",
            "original_url",
            "created_at",
            "ready_at",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_preview_url(self, version) -> str | None:
        user = self._user()
        if user is None:
            return None
        return services.version_preview_url(version=version, user=user)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_original_url(self, version) -> str | None:
        user = self._user()
        if user is None:
            return None
        return services.version_original_url(version=version, user=user)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["number", "status", "failure_reason", "created_at", "ready_at"]
        read_only_fields = fields


class RevisionRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = RevisionRequest
        fields = ["id", "feedback", "included", "status", "response_note", "created_at"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["rating", "text", "created_at"]
        read_only_fields = ["created_at"]


class DisputeEvidenceSerializer(serializers.ModelSerializer):
    author = serializers.UUIDField(source="author_id", read_only=True, allow_null=True)
    versions = serializers.SerializerMethodField()

    class Meta:
        model = DisputeEvidence
        fields = ["author", "text", "versions", "created_at"]
        read_only_fields = fields

    def get_versions(self, evidence) -> list[int]:
        return sorted(version.number for version in evidence.versions.all())


class DisputeSerializer(serializers.ModelSerializer):
    opened_by = serializers.UUIDField(source="opened_by_id", read_only=True, allow_null=True)
    evidence = DisputeEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "opened_by",
            "reason",
            "status",
            "outcome",
            "refunded_amount",
            "released_amount",
            "resolution_note",
            "created_at",
            "resolved_at",
            "evidence",
        ]
        read_only_fields = fields


class OfferSerializer(serializers.ModelSerializer):
    package = serializers.UUIDField(source="package_id", read_only=True, allow_null=True)
    price = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="A matched order: the price (minor units) it takes when you accept, from "
        "your package; null: the order's own.",
    )

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
    events = OrderEventSerializer(many=True, read_only=True)
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

    @extend_schema_field(TimelineStepSerializer(many=True))
    def get_timeline(self, order) -> list[dict]:
        return selectors.order_timeline(order)

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
        request = self.context.get("request")
        user_id = getattr(getattr(request, "user", None), "pk", None)
        for offer in order.offers.all():
            if offer.musician_id == user_id and offer.status == "pending":
                return OfferSerializer(offer).data
        return None


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
        order = selectors.order_detail_for(request.user, _uuid_or_404(order_id))
        if order is None:
            raise exceptions.NotFound()
        return Response(OrderDetailSerializer(order, context={"request": request}).data)


# --- transitions ----------------------------------------------------------------------------


class EmptySerializer(serializers.Serializer):
    """Transitions that take no body."""


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class FeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(max_length=5000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class DisputeOpenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=20,
        required=False,
        help_text="Numbers of the versions the reason is about.",
    )


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
    status_code = status.HTTP_200_OK

    def perform(self, *, order, user, data):  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def post(self, request, order_id):
        # Who may see the order first: an outsider learns nothing from validation errors.
        order = _visible_order(request, order_id)
        serializer = self.request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = self.perform(order=order, user=request.user, data=serializer.validated_data)
        return _detail_response(request, order, status_code=self.status_code)


def _transition_schema(name: str, request, description: str):
    """Describes the inherited ``post`` of a TransitionView subclass (a class decorator)."""
    return extend_schema_view(
        post=extend_schema(
            request=request,
            responses={200: OrderDetailSerializer, 409: TRANSITION_CONFLICT},
            operation_id=f"orders_{name}",
            description=description,
        )
    )


@_transition_schema("accept", EmptySerializer, "The offered musician takes the order.")
class AcceptView(TransitionView):
    def perform(self, *, order, user, data):
        return services.order_accept(order=order, musician=user)


@_transition_schema("decline", ReasonSerializer, "The offered musician says no.")
class DeclineView(TransitionView):
    request_serializer = ReasonSerializer

    def perform(self, *, order, user, data):
        return services.order_decline(order=order, musician=user, reason=data.get("reason", ""))


@_transition_schema(
    "advance_stage", NoteSerializer, "The musician moves the work to its next stage."
)
class AdvanceStageView(TransitionView):
    request_serializer = NoteSerializer

    def perform(self, *, order, user, data):
        return services.order_advance_stage(order=order, musician=user, note=data.get("note", ""))


@_transition_schema(
    "request_revision", FeedbackSerializer, "The customer asks for changes to the draft."
)
class RequestRevisionView(TransitionView):
    request_serializer = FeedbackSerializer

    def perform(self, *, order, user, data):
        request = services.order_request_revision(
            order=order, customer=user, feedback=data["feedback"]
        )
        if request.status == "pending":
            self.status_code = status.HTTP_202_ACCEPTED
        return request.order


@_transition_schema("approve", EmptySerializer, "The customer approves the draft.")
class ApproveView(TransitionView):
    def perform(self, *, order, user, data):
        return services.order_approve(order=order, customer=user)


@_transition_schema(
    "cancel",
    ReasonSerializer,
    "The customer cancels before a musician accepts; the deposit is refunded in full.",
)
class CancelView(TransitionView):
    request_serializer = ReasonSerializer

    def perform(self, *, order, user, data):
        return services.order_cancel(order=order, actor=user, reason=data.get("reason", ""))


@_transition_schema(
    "open_dispute",
    DisputeOpenSerializer,
    "The customer or the musician opens a dispute, with the versions it is about.",
)
class OpenDisputeView(TransitionView):
    request_serializer = DisputeOpenSerializer

    def perform(self, *, order, user, data):
        dispute = services.order_open_dispute(
            order=order, actor=user, reason=data["reason"], versions=data.get("versions", [])
        )
        return dispute.order


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
        order = _visible_order(request, order_id)
        checkout = services.order_balance_checkout(order=order, actor=request.user)
        return Response(
            {
                "amount": order.balance_amount,
                "currency": order.currency,
                "checkout_url": checkout.url if checkout is not None else "",
            }
        )


class RevisionConsentSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


@_transition_schema(
    "revision_consent",
    RevisionConsentSerializer,
    "The musician accepts or declines a revision beyond the included ones.",
)
class RevisionConsentView(TransitionView):
    request_serializer = RevisionConsentSerializer

    def perform(self, *, order, user, data):
        services.revision_consent(
            order=order, musician=user, accept=data["accept"], note=data.get("note", "")
        )
        return order


class ResolveDisputeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DisputeOutcome.choices)
    refund_amount = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="refund only, minor units; default: all the escrow holds. The rest is "
        "released to the musician (a split).",
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


@_transition_schema(
    "resolve_dispute",
    ResolveDisputeSerializer,
    "Staff only: refund (full or partial), release to the musician, or continue the work.",
)
class ResolveDisputeView(TransitionView):
    request_serializer = ResolveDisputeSerializer

    def perform(self, *, order, user, data):
        services.dispute_resolve(
            order=order,
            staff=user,
            outcome=data["outcome"],
            refund_amount=data.get("refund_amount"),
            note=data.get("note", ""),
        )
        return order


class PayDepositView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: DepositSerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_pay_deposit",
    )
    def post(self, request, order_id):
        """Where to pay (or retry paying) the deposit of a placed order."""
        order = _visible_order(request, order_id)
        checkout = services.order_deposit_checkout(order=order, actor=request.user)
        return Response(
            {
                "amount": order.deposit_amount,
                "currency": order.currency,
                "checkout_url": checkout.url,
            }
        )


class AudioUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="MP3, WAV, FLAC, M4A/AAC or Ogg; at most 50 MB.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class VersionsView(OrdersView, generics.ListAPIView):
    """The drafts of an order (GET, paginated like every list), and the musician's upload of
    the next one (POST)."""

    permission_classes = [IsAuthenticated]
    serializer_class = VersionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Version.objects.none()
        order = _visible_order(self.request, self.kwargs["order_id"])
        return selectors.versions_of(order)

    @extend_schema(operation_id="orders_versions_list")
    def get(self, request, *args, **kwargs):
        """Every version, oldest first, with a fresh signed link to each ready preview."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": AudioUploadSerializer},
        responses={202: VersionSerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_versions_create",
    )
    def post(self, request, order_id):
        """The musician uploads a draft: it becomes the next version, processed in the
        background; the order goes to review when its watermarked preview is ready."""
        order = _visible_order(request, order_id)
        serializer = AudioUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.version_upload(
            order=order,
            musician=request.user,
            upload=serializer.validated_data["audio"],
            note=serializer.validated_data.get("note", ""),
        )
        body = VersionSerializer(version, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class DeliverView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request={"multipart/form-data": AudioUploadSerializer},
        responses={202: DeliverySerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_deliver",
    )
    def post(self, request, order_id):
        """The musician uploads the finals of an approved order. They are normalised into
        MP3, WAV and FLAC and checked; when they pass the order is delivered."""
        order = _visible_order(request, order_id)
        serializer = AudioUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_upload(
            order=order, musician=request.user, upload=serializer.validated_data["audio"]
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DownloadSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["mp3", "wav", "flac"])
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField()


class DownloadsView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DownloadSerializer(many=True)}, operation_id="orders_downloads")
    def get(self, request, order_id):
        """Expiring signed links to the finals, issued anew on every call (409 until the
        balance is paid)."""
        order = _visible_order(request, order_id)
        links = services.order_downloads(order=order, user=request.user)
        return Response(DownloadSerializer(links, many=True).data)


class ReviewCreateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ReviewView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReviewCreateSerializer,
        responses={201: ReviewSerializer},
        operation_id="orders_review",
    )
    def post(self, request, order_id):
        """The customer reviews a completed order, once."""
        order = _visible_order(request, order_id)
        serializer = ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_create(
            order=order,
            customer=request.user,
            rating=serializer.validated_data["rating"],
            text=serializer.validated_data.get("text", ""),
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class EvidenceCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=20, required=False
    )


class DisputeEvidenceView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=EvidenceCreateSerializer,
        responses={201: DisputeEvidenceSerializer},
        operation_id="orders_dispute_evidence",
    )
    def post(self, request, order_id):
        """Either side adds a statement, and the versions it points at, to the open dispute."""
        order = _visible_order(request, order_id)
        serializer = EvidenceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = services.dispute_evidence_add(
            order=order,
            actor=request.user,
            text=serializer.validated_data["text"],
            versions=serializer.validated_data.get("versions", []),
        )
        return Response(DisputeEvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


TRANSITION_VIEWS = {
    "accept": AcceptView,
    "decline": DeclineView,
    "advance_stage": AdvanceStageView,
    "request_revision": RequestRevisionView,
    "approve": ApproveView,
    "cancel": CancelView,
    "open_dispute": OpenDisputeView,
    "pay_balance": PayBalanceView,
    "pay_deposit": PayDepositView,
    "revision_consent": RevisionConsentView,
    "resolve_dispute": ResolveDisputeView,
    "versions": VersionsView,
    "deliver": DeliverView,
    "downloads": DownloadsView,
    "review": ReviewView,
    "dispute_evidence": DisputeEvidenceView,
}


# --- musicians ------------------------------------------------------------------------------


class MusicianProfileSerializer(serializers.ModelSerializer):
    styles = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False
    )
    occasions = serializers.ListField(
        child=serializers.ChoiceField(choices=Occasion.choices),
        max_length=len(Occasion.values),
        required=False,
    )
    capacity = serializers.IntegerField(min_value=1, max_value=50, required=False)

    class Meta:
        model = MusicianProfile
        fields = [
            "styles",
            "occasions",
            "capacity",
            "accepting_orders",
            "away_from",
            "away_until",
            "rating_average",
            "rating_count",
            "on_time_rate",
            "first_draft_approval_rate",
            "average_completion_days",
            "completed_orders",
        ]
        read_only_fields = [
            "rating_average",
            "rating_count",
            "on_time_rate",
            "first_draft_approval_rate",
            "average_completion_days",
            "completed_orders",
        ]


class PublicReviewSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.display_name", read_only=True)

    class Meta:
        model = Review
        fields = ["rating", "text", "customer_name", "created_at"]
        read_only_fields = fields


class MusicianProfileView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MusicianProfileSerializer, operation_id="musicians_me_retrieve")
    def get(self, request):
        """Your matching profile: styles, occasions, capacity, time away and your figures."""
        if not request.user.is_musician:
            raise exceptions.PermissionDenied("Only musicians have a matching profile.")
        return Response(MusicianProfileSerializer(services.musician_profile_get(request.user)).data)

    @extend_schema(
        request=MusicianProfileSerializer,
        responses=MusicianProfileSerializer,
        operation_id="musicians_me_partial_update",
    )
    def patch(self, request):
        serializer = MusicianProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = services.musician_profile_update(
            musician=request.user, **serializer.validated_data
        )
        return Response(MusicianProfileSerializer(profile).data)


class MusicianPublicView(OrdersView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "MusicianPublic",
            {
                "id": serializers.UUIDField(),
                "display_name": serializers.CharField(),
                "profile": MusicianProfileSerializer(),
                "packages": PackageSerializer(many=True),
                "reviews": PublicReviewSerializer(many=True),
            },
        ),
        operation_id="musicians_retrieve",
    )
    def get(self, request, musician_id):
        """A musician's public figures (rating, on-time rate, first-draft approval, average
        completion days), active packages and latest reviews."""
        musician = selectors.musician_public(_uuid_or_404(musician_id))
        if musician is None:
            raise exceptions.NotFound()
        profile = getattr(musician, "musician_profile", None) or MusicianProfile(musician=musician)
        packages = selectors.packages_for(None, musician_id=musician.pk)
        reviews = selectors.reviews_of(musician)[:10]
        return Response(
            {
                "id": str(musician.pk),
                "display_name": musician.display_name,
                "profile": MusicianProfileSerializer(profile).data,
                "packages": PackageSerializer(packages, many=True).data,
                "reviews": PublicReviewSerializer(reviews, many=True).data,
            }
        )
