"""Errors catalog's services raise. Each carries the HTTP status and code the API answers with
(``config.api.exception_handler`` renders them as ``{"detail", "code", ...extra}``)."""

from core.errors import ServiceError


class CatalogError(ServiceError):
    pass


class Invalid(CatalogError):
    pass


class NotMusician(CatalogError):
    status = 403
    code = "not_musician"
    default_message = "Only musicians publish songs and albums."


class NotOwner(CatalogError):
    status = 403
    code = "not_owner"
    default_message = "Only the artist who published it may change it."


class NotStaff(CatalogError):
    status = 403
    code = "not_staff"
    default_message = "Only staff moderate the catalog."


class NotFound(CatalogError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(CatalogError):
    status = 409
    code = "conflict"


class SkipLimit(CatalogError):
    """A free listener used the plan's skips for the rolling hour."""

    status = 429
    code = "skip_limit"
    default_message = "You have used your skips for this hour. Premium skips without limits."
