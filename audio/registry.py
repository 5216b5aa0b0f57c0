"""How higher apps hear that an asset is ready or failed, without audio importing them.

A higher app provides a handler for a purpose, connected in ``config/wiring.py``::

    registry.register("preview", order_preview_settled)

and audio calls ``handler(asset=..., outcome="ready" | "failed")`` inside the transaction that
records the outcome (so the handler's own writes commit or roll back with it). Handlers look up
their own objects by the asset and ignore assets that are not theirs.

Only purposes some higher app listens to are hook purposes: catalog assets have no listener
yet (the catalog app will declare the purpose when it needs one), so their outcome is not
emitted.
"""

from collections.abc import Callable

from core.hooks import HookRegistry

PURPOSES = ("preview", "delivery")

_registry = HookRegistry("audio", PURPOSES)
register = _registry.register
unregister = _registry.unregister
handlers = _registry.handlers


def asset_outcome_handler_register(*, purpose: str, handler: Callable) -> None:
    _registry.register(purpose, handler)


def asset_outcome_handler_unregister(*, purpose: str, handler: Callable) -> None:
    _registry.unregister(purpose, handler)


def asset_outcome_notify(*, asset, outcome: str) -> None:
    if asset.purpose in PURPOSES:
        _registry.emit(asset.purpose, asset=asset, outcome=outcome)
