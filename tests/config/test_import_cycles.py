"""No import circles between the project's modules, not even lazy ones.

The graph is read from the source (``ast``), so an import inside a function counts as much as
one at the top of a module: a function-level import that hides a circle is still a circle.
``from package import name`` counts as an import of ``package.name`` when that is a module,
else of ``package`` itself. A module's parent packages are not counted as imported: a package
whose ``__init__`` re-exports its modules would otherwise be a circle with each of them.

CHECKED_APPS lists the apps whose modules must not be on a circle (a circle through any of
their modules fails, whichever app the other modules belong to); add an app once its circles
are gone.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top-level folders that are not the project's importable code.
NOT_CODE = {"tests", "bench", "node_modules", "site", "var", "requirements", "deploy", "docs"}
CHECKED_APPS = ["billing"]


def _project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    modules = {}
    for package in sorted(ROOT.iterdir()):
        if (
            not package.is_dir()
            or package.name.startswith(".")
            or package.name in NOT_CODE
            or not (package / "__init__.py").is_file()
        ):
            continue
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative: from the module's package (or the package itself, for __init__).
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                if candidate in modules:
                    found.add(candidate)
                elif source in modules:
                    found.add(source)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {
        module: _imported(module, path, ast.parse(path.read_text(), str(path)), modules)
        for module, path in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        # Iterative, so a long chain of imports cannot exhaust the recursion limit.
        work = [(node, iter(sorted(graph.get(node, ()))))]
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        while work:
            current, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[current] = min(low[current], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _in_app(module: str, app: str) -> bool:
    return module == app or module.startswith(app + ".")


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [
        f"    {module} -> {imported}"
        for module in component
        for imported in sorted(graph[module] & members)
    ]
    return "\n".join([" <-> ".join(component), *edges])


def test_the_cycle_finder_finds_lazy_and_indirect_circles():
    graph = {
        "a.services": {"a.tasks"},  # e.g. a function-level import
        "a.tasks": {"a.models", "a.services"},
        "a.models": set(),
        "b.one": {"b.two"},
        "b.two": {"b.three"},
        "b.three": {"b.one"},
    }
    assert circles(graph) == [["a.services", "a.tasks"], ["b.one", "b.three", "b.two"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_imports_inside_functions_and_relative_imports_are_read(tmp_path):
    source = ast.parse(
        "from . import models\n"
        "from .services import payments\n"
        "def later():\n"
        "    from billing.tasks import capture\n"
        "    import billing.selectors\n"
    )
    modules = {
        name: tmp_path
        for name in (
            "billing",
            "billing.api",
            "billing.models",
            "billing.services",
            "billing.services.payments",
            "billing.tasks",
            "billing.selectors",
        )
    }
    assert _imported("billing.api", tmp_path / "api.py", source, modules) == {
        "billing.models",
        "billing.services.payments",
        "billing.tasks",
        "billing.selectors",
    }


@pytest.mark.parametrize("app", CHECKED_APPS)
def test_no_import_circles(app):
    graph = import_graph()
    assert any(_in_app(module, app) for module in graph), f"no modules found for {app}"
    found = [c for c in circles(graph) if any(_in_app(module, app) for module in c)]
    assert not found, f"import circles through {app}:\n" + "\n\n".join(
        _describe(component, graph) for component in found
    )
