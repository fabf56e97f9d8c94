"""The shape of the code: layers that only import downwards, no import circles, small files,
one registry of dashboard pages (each of which renders)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PKG = ROOT / "ferviz"
# Lower layers first. A module may import its own layer (without circles) and those below.
LAYERS = [
    {"ferviz", "errors", "labels", "cache", "table", "outputs", "progress"},
    {"data"},
    {"models"},
    {"predict", "prediction_cache", "train", "recipe"},
    {"analysis", "explain"},
    {"viz"},
    {"report", "video"},
    {"specs"},
    {"engine"},
    {"app"},
    {"cli", "dashboard", "__main__"},
]
RANK = {c: i for i, layer in enumerate(LAYERS) for c in layer}
ONLY = {"streamlit": "dashboard", "typer": "cli", "click": "cli",  # library -> sole importer
        "ray": "engine"}
NO_TORCH = {"analysis", "table", "specs", "outputs", "labels", "errors", "prediction_cache"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ferviz"


def runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from runtime_nodes(node)


def imports(module: str) -> set[str]:
    """Every module ``module`` imports (at any depth of its code), resolved to absolute names;
    ferviz modules are named down to the submodule."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            subs = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
            found |= subs or {base}
    return found


GRAPH = {m: {i for i in imports(m) if i in MODULES and i != m} for m in MODULES}


def test_every_module_has_a_layer():
    assert not {component(m) for m in MODULES} - RANK.keys()


def test_imports_only_go_down():
    upward = [f"{m} -> {i}" for m, deps in GRAPH.items() for i in deps
              if RANK[component(i)] > RANK[component(m)]]
    assert not upward


def test_no_import_circles():
    index, low, stack, on, circles = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                circles.append(sorted(scc))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not circles


@pytest.mark.parametrize("library, owner", ONLY.items())
def test_views_own_their_libraries(library, owner):
    users = {component(m) for m in MODULES
             if any(i == library or i.startswith(f"{library}.") for i in imports(m))}
    assert users <= {owner}


def test_analysis_and_schemas_never_import_torch():
    users = {m for m in MODULES if component(m) in NO_TORCH and
             any(i == "torch" or i.startswith("torch.") for i in imports(m))}
    assert not users


def test_files_are_small():
    big = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py")
           if (n := len(p.read_text().splitlines())) > 350}
    assert not big
    assert len((ROOT / "app.py").read_text().splitlines()) <= 8


def test_pages_are_one_file_each_and_all_render(monkeypatch, tmp_path):
    """The pages package is the only page registry; every page renders under AppTest."""
    from streamlit.testing.v1 import AppTest

    from ferviz.dashboard.pages import all_pages

    pages = all_pages()
    files = {p.stem for p in (PKG / "dashboard" / "pages").glob("*.py")} - {"__init__"}
    assert len(pages) == len(files) == len({p.key for p in pages})
    app_text = (PKG / "dashboard" / "main.py").read_text()
    assert not any(f'"{p.key}"' in app_text for p in pages)  # no second list of pages
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(ROOT / "tests")
    for page in pages:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params["page"] = page.key
        at.run()
        assert not at.exception and not at.error, (page.key, at.exception, at.error)
        assert at.title[0].value == page.title


VIEWS = {"cli", "dashboard", "report", "__main__"}
COMPUTING = {"data", "models", "predict", "prediction_cache", "train", "recipe", "analysis",
             "explain", "engine", "video"}
DRAWING = {"ferviz.video.timeline", "ferviz.video.draw"}  # figures and boxes: rendering only


def test_views_only_render():
    """Views (the CLI, the HTML pages, the dashboard) reach the computing layers only
    through the application layer: a number, a warning or a map a view shows is computed in
    ``ferviz.app`` and formatted by the view, so every door shows the same one."""
    reached = sorted(f"{m} -> {i}" for m, deps in GRAPH.items() if component(m) in VIEWS
                     for i in deps if component(i) in COMPUTING and i not in DRAWING)
    assert not reached
