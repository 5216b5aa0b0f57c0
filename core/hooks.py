"""The one mechanism a lower app uses to tell higher apps that something happened.

Dependencies point down the layers (docs/architecture.md, "Apps and layers"): accounts, audio
and billing never import the apps above them, yet they have news those apps must act on (a
person signed up, a draft's preview is ready, a deposit was captured). Each of them owns one
``HookRegistry`` of documented purposes and emits to it; the handlers of the higher apps are
connected in one place, ``config/wiring.py``. No Django signals: a registry is explicit, keyed
by purpose, and refuses a purpose it does not know.

The class lives here, owned by no app, because three apps share it: were it in one of them, the
others would depend on that app for a mechanism that is not about it.
"""

from collections.abc import Callable, Iterable

Handler = Callable[..., object]

_registries: list["HookRegistry"] = []


def registries() -> tuple["HookRegistry", ...]:
    """Every registry created so far (one per lower app, made when its module is imported)."""
    return tuple(_registries)


class HookRegistry:
    """Handlers registered by higher apps, keyed by purpose, called in registration order."""

    def __init__(self, owner: str, purposes: Iterable[str]):
        self.owner = owner
        self._handlers: dict[str, list[Handler]] = {purpose: [] for purpose in purposes}
        _registries.append(self)

    @property
    def purposes(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def _check(self, purpose: str) -> None:
        if purpose not in self._handlers:
            raise ValueError(f"unknown {self.owner} hook purpose: {purpose!r}")

    def register(self, purpose: str, handler: Handler) -> None:
        """Call `handler(**arguments)` whenever `purpose` is emitted (idempotent)."""
        self._check(purpose)
        if handler not in self._handlers[purpose]:
            self._handlers[purpose].append(handler)

    def unregister(self, purpose: str, handler: Handler) -> None:
        self._check(purpose)
        if handler in self._handlers[purpose]:
            self._handlers[purpose].remove(handler)

    def handlers(self, purpose: str) -> tuple[Handler, ...]:
        self._check(purpose)
        return tuple(self._handlers[purpose])

    def emit(self, purpose: str, **arguments) -> int:
        """Run every handler of `purpose`; return how many ran.

        A handler's exception propagates to the caller: inside a transaction it rolls the
        transaction back, which is what a caller relying on the handler wants.
        """
        registered = self.handlers(purpose)
        for handler in registered:
            handler(**arguments)
        return len(registered)
