"""The seats of Duo and Family plans: members, invitations, joining and leaving."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import selectors, services
from billing.api.base import BillingListView, BillingView
from billing.api.serializers import InvitationSerializer, MemberSerializer, MeSerializer
from billing.models import SeatInvitation, SubscriptionMember


class SeatListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = MemberSerializer

    @extend_schema(operation_id="subscriptions_seats_list")
    def get(self, request, *args, **kwargs):
        """The people on the caller's plan (as owner or member)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        own = selectors.own_live_subscription(self.request.user)
        membership = None if own else selectors.membership_for(self.request.user)
        subscription = own or (membership.subscription if membership else None)
        if subscription is None:
            return SubscriptionMember.objects.none()
        return selectors.members_of(subscription)


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class SeatInviteView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=InviteSerializer,
        responses={
            201: InvitationSerializer,
            409: OpenApiResponse(description="seat_limit_reached, no_seats, already_invited..."),
        },
        operation_id="subscriptions_seats_invite",
    )
    def post(self, request):
        """Invite someone by email to a seat on the caller's Duo or Family plan."""
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.seat_invite(
            owner=request.user, email=serializer.validated_data["email"]
        )
        return Response(
            InvitationSerializer(invitation, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class AcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class SeatAcceptView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AcceptSerializer,
        responses={
            200: MeSerializer,
            403: OpenApiResponse(description="invitation_for_another_email"),
        },
        operation_id="subscriptions_seats_accept",
    )
    def post(self, request):
        """Take the seat of an invitation (the token from its link)."""
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.seat_accept(user=request.user, token=serializer.validated_data["token"])
        overview = selectors.subscription_overview(request.user)
        return Response(MeSerializer(overview, context={"request": request}).data)


class SeatLeaveView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="subscriptions_seats_leave")
    def post(self, request):
        """Leave the plan the caller listens on."""
        services.seat_leave(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeatRemoveView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="subscriptions_seats_remove")
    def delete(self, request, user_id):
        """The owner removes a member from their plan."""
        services.seat_remove(owner=request.user, member_user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeatRemovePostView(BillingView):
    """The same as ``DELETE /api/subscriptions/seats/{user_id}``, for clients that only POST."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={204: None}, operation_id="subscriptions_seats_remove_post"
    )
    def post(self, request, user_id):
        """The owner removes a member from their plan."""
        services.seat_remove(owner=request.user, member_user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = InvitationSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("for", str, enum=["me"], description="me: invitations to the caller")
        ],
        operation_id="subscriptions_invitations_list",
    )
    def get(self, request, *args, **kwargs):
        """Pending invitations the caller sent, or (``?for=me``) received."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user = self.request.user
        if self.request.query_params.get("for") == "me":
            return selectors.invitations_for(user)
        own = selectors.own_live_subscription(user)
        if own is None:
            return SeatInvitation.objects.none()
        return selectors.pending_invitations_of(own).select_related("subscription", "invited_by")


class InvitationRevokeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={204: None}, operation_id="subscriptions_invitations_revoke"
    )
    def delete(self, request, invitation_id):
        services.invitation_revoke(owner=request.user, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
