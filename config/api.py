"""API conventions shared by every app: pagination, error shape, optional trailing slash."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import re_path
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from audio.errors import MediaRejected
from catalog.errors import CatalogError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class OptionalSlashRouter(DefaultRouter):
    """Router whose routes answer with and without the trailing slash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


def optional_slash(route: str, view, name: str):
    """A URL pattern for `route` (no leading or trailing slash) that accepts both spellings."""
    return re_path(rf"^{route}/?$", view, name=name)


def public_api_endpoints(endpoints):
    """drf-spectacular hook: describe only /api/, not the Wagtail admin's internal API."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


def canonical_paths(result, generator, request, public):
    """drf-spectacular hook: one name per path, without the optional trailing slash."""
    result["paths"] = {
        (path.rstrip("/") if path != "/" else path): item for path, item in result["paths"].items()
    }
    return result


def _flatten(detail, prefix=""):
    """Yield (field, message, code) from DRF's nested ErrorDetail structures."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if not prefix else f"{prefix}.{key}"
            yield from _flatten(value, field)
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield prefix, str(detail), getattr(detail, "code", None) or "invalid"


def _catalog_api_exception(error: CatalogError) -> exceptions.APIException:
    exc = exceptions.APIException(
        detail={"detail": error.message, "code": error.code}, code=error.code
    )
    exc.detail.update(error.extra)  # as they are: DRF would make every value a string
    exc.status_code = error.status
    if "retry_after" in error.extra:
        exc.wait = error.extra["retry_after"]  # DRF sends it as the Retry-After header
    return exc


def exception_handler(exc, context):
    """Every API error is JSON ``{"detail", "code"}``; validation errors add ``errors``."""
    if isinstance(exc, MediaRejected):
        exc = exc.as_api_exception()
    elif isinstance(exc, CatalogError):
        exc = _catalog_api_exception(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        problems = list(_flatten(exc.detail))
        errors: dict[str, list[str]] = {}
        for field, message, _code in problems:
            errors.setdefault(field or "non_field_errors", []).append(message)
        first_field, first_message, first_code = (
            problems[0] if problems else ("", "Invalid.", "invalid")
        )
        if first_field in ("", "non_field_errors"):
            summary = first_message
        else:
            summary = f"{first_field}: {first_message}"
        response.data = {"detail": summary, "code": first_code, "errors": errors}
        return response

    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict) and "detail" in detail:
        code = detail.get("code") or getattr(detail["detail"], "code", None)
        message = detail["detail"]
        extra = {k: v for k, v in detail.items() if k not in ("detail", "code")}
    else:
        message = detail if detail is not None else str(exc)
        code = getattr(detail, "code", None)
        extra = {}
    if not code and hasattr(exc, "get_codes"):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else None
    response.data = {"detail": str(message), "code": code or exc.default_code, **extra}
    return response


def json_error(detail: str, code: str, http_status: int) -> Response:
    return Response({"detail": detail, "code": code}, status=http_status)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"
