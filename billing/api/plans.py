"""The plans and their prices."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from billing import plans
from billing.api.base import BillingView
from billing.api.serializers import PlanSerializer


class PlanListView(BillingView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="e.g. INR, USD")],
        responses=PlanSerializer(many=True),
        operation_id="subscriptions_plans",
    )
    def get(self, request):
        """The plans and their prices (paginated like every list)."""
        currency = str(request.query_params.get("currency") or settings.BILLING_CURRENCY).upper()[
            :3
        ]
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(list(plans.PLANS.values()), request, view=self)
        data = PlanSerializer(page, many=True, context={"currency": currency}).data
        return paginator.get_paginated_response(data)
