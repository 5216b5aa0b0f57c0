"""Mechanisms shared by every app and owned by none (see core/hooks.py)."""
