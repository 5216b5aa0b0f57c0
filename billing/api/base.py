"""What every billing API view shares: billing's service errors become the API's
``{"detail", "code"}`` answer (each error carries its HTTP status and code)."""

from rest_framework import exceptions, generics, status
from rest_framework.views import APIView

from billing.errors import BillingError


class BillingAPIError(exceptions.APIException):
    def __init__(self, error: BillingError):
        self.status_code = error.status
        super().__init__(detail=error.message, code=error.code)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BillingView(APIView):
    """Turns billing's service errors into API errors."""

    def handle_exception(self, exc):
        if isinstance(exc, BillingError):
            exc = BillingAPIError(exc)
        return super().handle_exception(exc)


class BillingListView(BillingView, generics.ListAPIView):
    pass
