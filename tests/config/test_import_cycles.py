"""No import circles between the project's modules, not even lazy ones.

The graph is read from the source (``ast``), so an import inside a function counts as much as
one at the top of a module: a function-level import that hides a circle is still a circle.
``from package import name`` counts as an import of ``package.name`` when that is a module,
else of ``package`` itself. A module's parent packages are not counted as imported: a package
whose ``__init__`` re-exports its modules would otherwise be a circle with each of them.

The same graph checks the layers of docs/architecture.md: an app imports the apps below it,
never one above.
"""

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Top-level folders that are not the project's importable code.
NOT_CODE = {"tests", "bench", "node_modules", "site", "var", "requirements", "deploy", "docs"}
# The layers of docs/architecture.md, top first. Apps on one line may import each other only
# where one owns the other's input; the import circle test still holds between them.
LAYERS = [
    {"config"},
    {"studio"},
    {"cms"},
    {"orders", "rooms"},
    {"catalog"},
    {"billing"},
    {"audio", "notifications"},
    {"accounts"},
    {"core"},
]


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


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in `graph` (its modules in order, the first repeated last), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(reversed(error.args[1]))
    return None


def layer_of(module: str) -> int | None:
    app = module.split(".", 1)[0]
    for depth, apps in enumerate(LAYERS):
        if app in apps:
            return depth
    return None


def test_the_circle_finder_finds_lazy_and_indirect_circles():
    lazy = {"a.services": {"a.tasks"}, "a.tasks": {"a.models", "a.services"}, "a.models": set()}
    assert set(circle(lazy)) == {"a.services", "a.tasks"}
    indirect = {"b.one": {"b.two"}, "b.two": {"b.three"}, "b.three": {"b.one"}}
    assert set(circle(indirect)) == {"b.one", "b.two", "b.three"}
    assert circle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


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


def test_no_import_circles():
    graph = import_graph()
    assert {module.split(".", 1)[0] for module in graph} >= {"accounts", "orders", "config"}
    found = circle(graph)
    assert found is None, "import circle:\n    " + "\n -> ".join(found)


def test_every_app_has_its_layer():
    apps = {module.split(".", 1)[0] for module in import_graph()}
    assert apps <= set().union(*LAYERS), f"apps without a layer: {apps - set().union(*LAYERS)}"


def test_a_lower_app_never_imports_a_higher_one():
    graph = import_graph()
    upward = [
        f"{module} -> {imported}"
        for module, imports in sorted(graph.items())
        for imported in sorted(imports)
        if layer_of(imported) < layer_of(module)
    ]
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)
