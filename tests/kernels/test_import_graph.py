"""The package's import graph, read from the source with ``ast``: kernels/ has no import cycle
(top-level or deferred), and train/ never imports a backend package (kernels.cpu, kernels.cuda):
it reaches the kernels through the backend registry and the lowering."""

from __future__ import annotations

import ast
from pathlib import Path

import chainrule

ROOT = Path(chainrule.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every chainrule module ``path`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chainrule"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("chainrule"))
    return found


def _with_parents(names: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: those are imports too."""
    parts = [name.split(".") for name in names]
    return {".".join(p[:end]) for p in parts for end in range(1, len(p) + 1)}


def _graph(package: str) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    return {name: {m for m in _with_parents(_imports(path)) if m in modules and m != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert _with_parents({"x.y.z"}) == {"x", "x.y", "x.y.z"}


def test_kernels_have_no_import_cycle() -> None:
    graph = _graph("kernels")
    assert "chainrule.kernels.blocks" in graph["chainrule.kernels.fused_step"]
    assert _cycle(graph) is None


def test_train_never_imports_a_backend_package() -> None:
    # nor do the lowering and `kernels show`'s sources: both go through the registry
    paths = [*(ROOT / "train").rglob("*.py"), ROOT / "kernels" / "source.py",
             ROOT / "kernels" / "lowering.py"]
    offenders = {_module_name(path): sorted(m for m in _imports(path)
                                            if m.startswith(("chainrule.kernels.cpu",
                                                             "chainrule.kernels.cuda")))
                 for path in paths}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_train_does_no_calculus() -> None:
    # derivatives, roots and lambdify belong to derive/ and the kernel printer
    calculus = {"diff", "solve", "lambdify", "integrate", "Derivative"}
    found = {_module_name(path): sorted(node.attr for node in ast.walk(ast.parse(path.read_text()))
                                        if isinstance(node, ast.Attribute)
                                        and isinstance(node.value, ast.Name)
                                        and node.value.id in {"sp", "sympy"}
                                        and node.attr in calculus)
             for path in (ROOT / "train").rglob("*.py")}
    assert {name: calls for name, calls in found.items() if calls} == {}
