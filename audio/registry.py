"""How higher apps hear that an asset is ready or failed, without audio importing them.

An app registers a handler for a purpose in its ``AppConfig.ready()``::

    from audio.registry import asset_outcome_handler_register

    asset_outcome_handler_register(purpose="preview", handler=order_preview_settled)

and audio calls ``handler(asset=..., outcome="ready" | "failed")`` inside the transaction that
records the outcome (so the handler's own writes commit or roll back with it). Handlers look up
their own objects by the asset and ignore assets that are not theirs.
"""

from collections import defaultdict
from collections.abc import Callable

PURPOSES = ("catalog", "preview", "delivery")

_handlers: dict[str, list[Callable]] = defaultdict(list)


def asset_outcome_handler_register(*, purpose: str, handler: Callable) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; expected one of {', '.join(PURPOSES)}")
    if handler not in _handlers[purpose]:
        _handlers[purpose].append(handler)


def asset_outcome_handler_unregister(*, purpose: str, handler: Callable) -> None:
    if handler in _handlers[purpose]:
        _handlers[purpose].remove(handler)


def asset_outcome_notify(*, asset, outcome: str) -> None:
    for handler in list(_handlers[asset.purpose]):
        handler(asset=asset, outcome=outcome)
