"""How higher apps hear that an asset is ready or failed, without audio importing them.

An app registers a handler for a purpose in its ``AppConfig.ready()``::

    from audio.registry import asset_outcome_handler_register

    asset_outcome_handler_register(purpose="preview", handler=order_preview_settled)

and audio calls ``handler(asset=..., outcome="ready" | "failed")`` inside the transaction that
records the outcome (so the handler's own writes commit or roll back with it). Handlers look up
their own objects by the asset and ignore assets that are not theirs.
"""

from collections.abc import Callable

from accounts.hooks import HookRegistry

PURPOSES = ("catalog", "preview", "delivery")

_registry = HookRegistry("audio", PURPOSES)


def asset_outcome_handler_register(*, purpose: str, handler: Callable) -> None:
    _registry.register(purpose, handler)


def asset_outcome_handler_unregister(*, purpose: str, handler: Callable) -> None:
    _registry.unregister(purpose, handler)


def asset_outcome_notify(*, asset, outcome: str) -> None:
    _registry.emit(asset.purpose, asset=asset, outcome=outcome)
