"""The API's URL spelling, one rule for every app's ``api_urls``: both forms of a path, with and
without the trailing slash, are accepted (clients differ in which they send, and a redirect
would drop the body of a POST)."""

from django.urls import re_path

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def api_path(pattern: str, view, name: str):
    """The route of ``pattern`` (a regular expression without its anchors or trailing slash)."""
    return re_path(rf"^{pattern}/?$", view.as_view(), name=name)
