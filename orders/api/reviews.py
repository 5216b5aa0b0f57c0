"""Reviews: the customer's of a completed order, and a musician's public ones."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders import services
from orders.api.base import OrdersView, visible_order_and_input
from orders.models import Review


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["rating", "text", "created_at"]
        read_only_fields = ["created_at"]


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
        order, data = visible_order_and_input(request, order_id, ReviewCreateSerializer)
        review = services.review_create(
            order=order, customer=request.user, rating=data["rating"], text=data.get("text", "")
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class PublicReviewSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.display_name", read_only=True)

    class Meta:
        model = Review
        fields = ["rating", "text", "customer_name", "created_at"]
        read_only_fields = fields
