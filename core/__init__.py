"""Mechanisms shared by every app and owned by none: the hook registry (core/hooks.py), the
embedded Redis server of the embedded run mode (core/embedded_redis.py) and the API's URL
spelling (core/api_urls.py)."""
