"""The import rules of the design: one-way layers, and an emulator independent of the client."""

from __future__ import annotations

import ast
from pathlib import Path

import runninghub

SRC = Path(runninghub.__file__).parent


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports resolved)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] + "." + "__init__"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _modules(subdir: str = "") -> list[Path]:
    return sorted((SRC / subdir).rglob("*.py"))


def test_emulator_imports_nothing_from_the_client() -> None:
    for path in _modules("emulator"):
        for name in _imports(path):
            if name.startswith("runninghub") and not name.startswith("runninghub.emulator"):
                raise AssertionError(f"{path.relative_to(SRC)} imports {name}")


def test_library_never_imports_the_emulator_or_the_cli() -> None:
    for path in _modules():
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("emulator", "cli") or rel.name == "__main__.py":
            continue
        for name in _imports(path):
            assert not name.startswith("runninghub.emulator"), f"{rel} imports {name}"
            assert not name.startswith("runninghub.cli"), f"{rel} imports {name}"


def test_all_is_honest() -> None:
    for name in runninghub.__all__:
        assert getattr(runninghub, name) is not None, name
    public = {n for n in dir(runninghub) if not n.startswith("_")}
    helpers = {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    undeclared = public - set(runninghub.__all__) - helpers
    assert not {n for n in undeclared if n[0].isupper()}, undeclared
