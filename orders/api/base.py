"""What every orders endpoint shares: service errors as API errors, the order the caller may
see (404 otherwise), and the 409 an illegal transition answers.

Services raise orders.errors; each carries its HTTP status and code. An illegal transition
answers 409 ``{"detail", "code": "transition_not_allowed", "allowed": [...]}``, ``allowed``
being what the caller may do now (orders.permissions). Orders the caller may not see are 404.
"""

import uuid

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from billing.errors import BillingError
from orders import selectors
from orders.errors import OrderError
from orders.models import Order


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


def uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise exceptions.NotFound() from None


def visible_order(request, order_id) -> Order:
    """The order, if the caller may see it (customer, its musician, staff); 404 otherwise."""
    order = selectors.orders_visible_to(request.user).filter(pk=uuid_or_404(order_id)).first()
    if order is None:
        raise exceptions.NotFound()
    return order


def visible_order_and_input(request, order_id, serializer_class) -> tuple[Order, dict]:
    """For a POST about an order: the order (as ``visible_order``), then the validated body.
    Who may see the order is checked first, so an outsider learns nothing from validation."""
    order = visible_order(request, order_id)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return order, serializer.validated_data


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
