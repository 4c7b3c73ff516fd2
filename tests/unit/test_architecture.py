"""Rules of the layout that a careless edit could break."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path)


def test_pages_folder_holds_only_pages() -> None:
    odd = [p.name for p in (ROOT / "pages").iterdir()
           if not p.name.startswith(".") and p.name != "__pycache__" and p.suffix != ".py"]
    assert odd == []
    assert [p.name for p in PAGES] == [
        "1_Voices.py", "2_Avatars.py", "3_Compose.py", "4_Status.py", "5_Videos.py", "6_Settings.py", "7_Batches.py",
        "8_Share.py",
    ]


@pytest.mark.parametrize("path", [ROOT / "app.py", *PAGES], ids=lambda p: p.name)
def test_every_page_starts_with_the_frame(path: Path) -> None:
    """The first statement after imports and the docstring is ``ctx = frame(...)``."""
    body = [n for n in ast.parse(path.read_text(encoding="utf-8")).body
            if not isinstance(n, ast.Import | ast.ImportFrom)
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    first = body[0]
    call = first.value if isinstance(first, ast.Assign | ast.Expr) else None
    assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "frame", (
        f"{path.name} must call frame(...) before anything else"
    )


def test_no_legacy_heygen_endpoints_in_code() -> None:
    offenders = []
    for path in [*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("ui").rglob("*.py"), *PAGES]:
        text = path.read_text(encoding="utf-8")
        for needle in ('"/v1/', '"/v2/', "'/v1/", "'/v2/", "/v2/video/generate", "video_status.get"):
            if needle in text and path.name not in {"app.py"} and "sandbox" not in path.parts:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


# --------------------------------------------------------------------------------------------
# Import direction of core/'s domain packages: board → jobs → reels → catalog, access
# --------------------------------------------------------------------------------------------

#: What each domain package may import from core (besides itself and the foundations).
ALLOWED = {
    "access": set(),
    "catalog": {"access", "heygen"},
    "reels": {"catalog", "access", "heygen"},
    "jobs": {"reels", "catalog", "access", "heygen"},
    "board": {"jobs", "reels", "catalog", "access", "heygen"},
    "heygen": set(),
    "sandbox": {"heygen", "catalog", "reels"},
}
FOUNDATIONS = {"config", "db", "models", "logs"}
#: Only these wire packages together (the composition root and the worker's entry point).
WIRING = {"core/runtime.py", "core/jobs/__main__.py", "core/worker.py"}


def _core_imports(path: Path, *, module_level_only: bool) -> set[str]:
    """Dotted ``core.…`` modules imported by ``path`` (``TYPE_CHECKING`` blocks excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    for node in nodes:
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("core."))
        elif (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
              and (node.module == "core" or node.module.startswith("core."))):
            for a in node.names:  # ``from core.x import y``: the module core.x.y when y is one
                sub = f"{node.module}.{a.name}"
                is_module = (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() or (
                    ROOT / Path(*sub.split(".")) / "__init__.py").exists()
                found.add(sub if is_module else node.module)
    return found


def _package(dotted: str) -> str:
    return dotted.split(".")[1]


CORE_FILES = sorted(p for p in (ROOT / "core").rglob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_point_one_way(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    if rel in WIRING or path.parent == ROOT / "core":
        if rel not in WIRING:  # a foundation imports no domain package
            wrong = {m for m in _core_imports(path, module_level_only=False) if _package(m) not in FOUNDATIONS}
            assert wrong == set(), f"{rel} is a foundation and must not import {sorted(wrong)}"
        return
    own = path.relative_to(ROOT / "core").parts[0]
    allowed = ALLOWED[own] | FOUNDATIONS | {own}
    wrong = {m for m in _core_imports(path, module_level_only=False) if _package(m) not in allowed}
    assert wrong == set(), f"core/{own} may not import {sorted(wrong)} (allowed: {sorted(allowed - {own})})"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_circles_in_core() -> None:
    """Module-level imports between core modules form no cycle (function-local imports count too)."""
    graph = {_module_name(p): {m for m in _core_imports(p, module_level_only=False)} for p in CORE_FILES}
    known = set(graph)
    graph = {m: {d for d in deps if d in known and d != m} for m, deps in graph.items()}
    # a package's __init__ is imported before its modules: an edge to core.x.y also reaches core.x
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import circle: " + " → ".join(cycle))
