"""The hook registries: every purpose is heard, unknown purposes are refused, and every wiring
is listed in config/wiring.py."""

import ast
from pathlib import Path

import pytest

from accounts import hooks as account_hooks
from audio import registry as audio_hooks
from billing import hooks as billing_hooks
from core import hooks as core_hooks
from core.hooks import HookRegistry, registries

WIRING = Path(__file__).resolve().parents[2] / "config" / "wiring.py"


def _name(handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def test_every_purpose_of_every_registry_has_a_handler_once_django_is_set_up():
    found = {registry.owner: registry for registry in registries()}

    assert set(found) == {"accounts", "audio", "billing"}
    unheard = [
        f"{owner}: {purpose}"
        for owner, registry in found.items()
        for purpose in registry.purposes
        if not registry.handlers(purpose)
    ]
    assert not unheard, f"purposes nobody handles: {unheard}"


def test_every_wiring_is_listed_in_config_wiring():
    """What is registered at run time is exactly what config/wiring.py registers: no AppConfig
    or module elsewhere adds a handler a reader of that file would not see."""
    tree = ast.parse(WIRING.read_text())
    modules = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    listed = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register"
        ):
            registry = modules[node.func.value.id]
            purpose, handler = node.args
            listed.add((registry, purpose.value, f"{modules[handler.value.id]}.{handler.attr}"))

    running = {
        (module.__name__, purpose, _name(handler))
        for module in (account_hooks, audio_hooks, billing_hooks)
        for purpose in module._registry.purposes
        for handler in module.handlers(purpose)
    }

    assert listed, "config/wiring.py registers nothing?"
    assert running == listed


@pytest.mark.parametrize("module", [account_hooks, audio_hooks, billing_hooks])
def test_registering_an_unknown_purpose_raises(module):
    with pytest.raises(ValueError, match="unknown .* hook purpose: 'no_such_purpose'"):
        module.register("no_such_purpose", print)


def test_catalog_assets_and_subscription_charges_are_no_hook_purpose():
    """Nobody above audio or billing acts on them yet, so they are not purposes a handler
    could wait for in vain."""
    with pytest.raises(ValueError):
        audio_hooks.register("catalog", print)
    with pytest.raises(ValueError):
        billing_hooks.register("subscription", print)
    assert billing_hooks.emit("subscription", event="captured", payment=None) == 0


def test_handlers_run_in_order_once_each_and_their_errors_reach_the_caller(monkeypatch):
    monkeypatch.setattr(core_hooks, "_registries", [])  # keep this one out of the real list
    registry = HookRegistry("test", ["happened"])
    heard = []

    def first(**arguments):
        heard.append(("first", arguments))

    def second(**arguments):
        heard.append(("second", arguments))

    registry.register("happened", first)
    registry.register("happened", second)
    registry.register("happened", first)  # twice is once

    assert registry.emit("happened", what=1) == 2
    assert heard == [("first", {"what": 1}), ("second", {"what": 1})]

    def broken(**arguments):
        raise RuntimeError("handler failed")

    registry.register("happened", broken)
    with pytest.raises(RuntimeError, match="handler failed"):
        registry.emit("happened", what=2)
    with pytest.raises(ValueError):
        registry.emit("unheard_of")
    registry.unregister("happened", broken)
    assert registry.handlers("happened") == (first, second)
