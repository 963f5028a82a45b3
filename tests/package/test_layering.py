"""The package's shape (docs/architecture.md, Layout): no import cycle between modules or between
folders, `train/` generic, layers imported only downwards, the torch-free runtime free of torch."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MODEL_PACKAGES = ("hifilite.vocoder", "hifilite.acoustic", "hifilite.compress")


def module_imports() -> dict[str, set[str]]:
    """Module -> the hifilite modules it imports anywhere in its body (lazy imports included)."""
    files = {".".join(f.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): f
             for f in (SRC / "hifilite").rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                found.update(t for t in [base, *(f"{base}.{a.name}" for a in node.names)] if t in files)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in files)
        edges[mod] = found - {mod}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_is_read():
    edges = module_imports()
    assert "hifilite.vocoder.checkpoint" in edges["hifilite.vocoder.api"]  # `from .checkpoint import ...`
    assert "hifilite.registry" in edges["hifilite.acoustic.checkpoint"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    assert cycles(module_imports()) == []


def test_the_training_loop_imports_no_model_package():
    edges = module_imports()
    wrong = {m: sorted(t for t in targets if t.startswith(MODEL_PACKAGES))
             for m, targets in edges.items() if m.startswith("hifilite.train")}
    assert {m: t for m, t in wrong.items() if t} == {}


# docs/architecture.md, Layout: each package imports only from lower layers or its own layer.
LAYERS = [
    ("errors", "version", "io", "checkpoint", "measure", "config", "registry", "console"),
    ("audio", "text"),
    ("runtime",),  # torch-free inference: the backend contract, ONNX Runtime, phase reconstruction
    ("data",),
    ("train",),
    ("vocoder", "acoustic"),
    ("tts",),
    ("deploy",),
    ("evaluate",),
    ("compress",),
    ("serve",),
    ("cli", "demo", "__main__"),
]


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "hifilite"
    if top == "hifilite":
        return 0  # the package's own __init__: version and a lazy entry to the vocoder API
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module}: not in any layer of LAYERS (docs/architecture.md, Layout)")


def test_no_module_imports_from_a_layer_above_it():
    edges = module_imports()
    upward = sorted(f"{m} -> {t}" for m, targets in edges.items() for t in targets
                    if m != "hifilite" and layer_of(t) > layer_of(m))
    assert upward == []


def folder_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Top-level folder (or module) -> the others it imports from."""
    def top(module: str) -> str:
        return module.split(".")[1] if "." in module else "hifilite"

    out: dict[str, set[str]] = {}
    for m, targets in edges.items():
        out.setdefault(top(m), set()).update(top(t) for t in targets if top(t) != top(m))
    out.pop("hifilite", None)  # the package's lazy entry points import from below by design
    return {k: v - {"hifilite"} for k, v in out.items()}


def test_no_folder_imports_from_a_folder_that_imports_it_back():
    assert cycles(folder_edges({"hifilite.a.x": {"hifilite.b.y"}, "hifilite.b.y": {"hifilite.a.z"}})) == [["a", "b"]]
    assert cycles(folder_edges(module_imports())) == []


def test_the_runtime_imports_no_model_or_export_code():
    edges = module_imports()
    above = ("hifilite.vocoder", "hifilite.acoustic", "hifilite.deploy", "hifilite.tts", "hifilite.train")
    wrong = {m: sorted(t for t in targets if t.startswith(above))
             for m, targets in edges.items() if m.startswith("hifilite.runtime")}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_no_source_file_is_longer_than_400_lines():
    long = {str(f.relative_to(SRC)): n for f in (SRC / "hifilite").rglob("*.py")
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
