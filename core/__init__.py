"""Mechanisms shared by every app and owned by none: the hook registry (core/hooks.py) and
the embedded Redis server of the embedded run mode (core/embedded_redis.py)."""
