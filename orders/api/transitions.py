"""The requests that move an order: ``POST /api/orders/{id}/<transition>`` (accept, decline,
advance_stage, request_revision, approve, cancel, open_dispute, revision_consent,
resolve_dispute) and the milestone checkouts (pay_deposit, pay_balance)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders import services
from orders.api.base import TRANSITION_CONFLICT, OrdersView, visible_order, visible_order_and_input
from orders.api.orders import DepositSerializer, OrderDetailSerializer, detail_response
from orders.models import DisputeOutcome


class EmptySerializer(serializers.Serializer):
    """Transitions that take no body."""


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


VERSION_HELP = (
    "The number of the draft being judged (the one the customer listened to). When it is not "
    "the draft in review now (a newer version arrived), the request is refused with 409 "
    "version_superseded and current_version. Optional: without it the draft in review now is "
    "judged."
)


def judged_version_field():
    return serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)


class FeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(max_length=5000)
    version = judged_version_field()


class ApproveSerializer(serializers.Serializer):
    version = judged_version_field()


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


class TransitionView(OrdersView):
    """``POST /api/orders/{id}/<transition>``: 404 when the caller cannot see the order, 403
    when they see it but the transition is the other side's, 409 when it is not allowed now."""

    permission_classes = [IsAuthenticated]
    request_serializer = EmptySerializer
    status_code = status.HTTP_200_OK

    def perform(self, *, order, user, data):  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def post(self, request, order_id):
        order, data = visible_order_and_input(request, order_id, self.request_serializer)
        order = self.perform(order=order, user=request.user, data=data)
        return detail_response(request, order, status_code=self.status_code)


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
            order=order, customer=user, feedback=data["feedback"], version=data.get("version")
        )
        if request.status == "pending":
            self.status_code = status.HTTP_202_ACCEPTED
        return request.order


@_transition_schema("approve", ApproveSerializer, "The customer approves the draft.")
class ApproveView(TransitionView):
    request_serializer = ApproveSerializer

    def perform(self, *, order, user, data):
        return services.order_approve(order=order, customer=user, version=data.get("version"))


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
        order = visible_order(request, order_id)
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
        order = visible_order(request, order_id)
        checkout = services.order_deposit_checkout(order=order, actor=request.user)
        return Response(
            {
                "amount": order.deposit_amount,
                "currency": order.currency,
                "checkout_url": checkout.url,
            }
        )
