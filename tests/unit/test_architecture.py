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
        "1_Voices.py", "2_Avatars.py", "3_Compose.py", "4_Status.py", "5_Videos.py", "6_Settings.py",
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
