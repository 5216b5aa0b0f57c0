"""Subscribing to a plan and managing one's own subscription."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import plans, selectors, services
from billing.api.base import BillingView
from billing.api.serializers import CheckoutSerializer, MeSerializer, SubscriptionSerializer


class SubscribeSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=plans.PAID_PLAN_CHOICES)
    return_to = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SubscribeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=SubscribeSerializer,
        responses={
            201: CheckoutSerializer,
            403: OpenApiResponse(description="student_verification_required"),
            409: OpenApiResponse(description="already_subscribed or already_member"),
            503: OpenApiResponse(description="payments_not_configured: no provider takes them"),
        },
        operation_id="subscriptions_subscribe",
    )
    def post(self, request):
        """Start a checkout for a premium plan; send the person to ``checkout_url``."""
        serializer = SubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checkout = services.subscription_checkout_start(
            user=request.user,
            plan=serializer.validated_data["plan"],
            return_to=serializer.validated_data.get("return_to", ""),
        )
        return Response(CheckoutSerializer(checkout).data, status=status.HTTP_201_CREATED)


class MeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, operation_id="subscriptions_me")
    def get(self, request):
        """The caller's plan, status, next charge, seats and entitlements."""
        overview = selectors.subscription_overview(request.user)
        return Response(MeSerializer(overview, context={"request": request}).data)


class CancelView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 409: OpenApiResponse(description="not_subscribed")},
        operation_id="subscriptions_cancel",
    )
    def post(self, request):
        """Cancel at the end of the current period (premium lasts until then)."""
        subscription = services.subscription_cancel(user=request.user)
        return Response(SubscriptionSerializer(subscription).data)


class ResumeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses=SubscriptionSerializer, operation_id="subscriptions_resume"
    )
    def post(self, request):
        """Undo a cancellation before the period ends."""
        subscription = services.subscription_resume(user=request.user)
        return Response(SubscriptionSerializer(subscription).data)


class PortalView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("PortalLink", fields={"url": serializers.URLField()}),
        operation_id="subscriptions_portal",
    )
    def post(self, request):
        """A link to manage payment methods and invoices (Stripe's billing portal)."""
        return Response({"url": services.subscription_portal_url(user=request.user)})
