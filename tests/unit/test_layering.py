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


# The core's layers, lowest first. A module imports from its own layer or the ones below.
LAYERS: dict[str, tuple[str, ...]] = {
    "leaves": (
        "_version",
        "_lean_httpx",
        "_numbers",
        "_lazy",
        "_closing",
        "_errors",
        "_models",
        "_directory",
        "_redaction",
        "_wire_values",
        "_paths",
        "_extras",
        "_media",
        "_out_dir",
        "_sqlite",
    ),
    "wire": (
        "_config",
        "_protocol",
        "_answers",
        "_task_answers",
        "_list_answers",
        "_catalogue",
        "_fields",
        "_web_ids",
        "workflow",
        "_uploads",
        "_outputs",
        "_socket_listener",
        "_deadline",
        "_sendable",
        "_preset_file",
    ),
    "policy": (
        "_policy",
        "_waiting",
        "_options",
        "_checks",
        "_model_checks",
        "_overrides",
        "_graph_cache",
        "_site_fallback",
        "_operations",
        "_steps",
        "_presets",
        "_model_presets",
        "journal",  # the local record of tasks: the flows write to it
    ),
    "flows": (
        "_recording",
        "_queue_wait",
        "_core",
        "_download_flow",
        "_flows",
        "_model_flows",
        "_preset_flow",
        "_webhook_flow",
        "_handle",
    ),
    "faces": (
        "_surface",
        "_client",
        "_async_client",
        "_seed_client",
        "compat",
        "_support",
        "__init__",
    ),
    "apps": ("batch", "mcp", "cli", "skill", "studio", "__main__"),
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}


def _top(name: str) -> str | None:
    """The layer module a ``runninghub.*`` import names (None outside the package).

    A bare ``runninghub`` is the base of a ``from . import x`` (the ``x`` is checked on its
    own); any other name that is not a module is one of the package face's names.
    """
    parts = name.split(".")
    if parts[0] != "runninghub" or len(parts) == 1 or parts[1] == "emulator":
        return None
    return parts[1] if parts[1] in RANK else "__init__"


def test_every_module_of_the_core_has_a_layer() -> None:
    for path in _modules():
        rel = path.relative_to(SRC)
        if rel.parts[0] == "emulator":
            continue
        assert rel.parts[0].removesuffix(".py") in RANK, rel


def test_the_core_imports_only_down_its_layers() -> None:
    for path in _modules():
        rel = path.relative_to(SRC)
        own = _top(f"runninghub.{rel.parts[0].removesuffix('.py')}")
        if own is None:
            continue
        for name in _imports(path):
            target = _top(name)
            if target is None or target == own:
                continue
            assert RANK[target] <= RANK[own], f"{rel} ({own}) imports {name} from above"


def test_the_two_faces_do_not_import_each_other() -> None:
    for face, other in (("_client", "_async_client"), ("_async_client", "_client")):
        names = _imports(SRC / f"{face}.py")
        assert not {n for n in names if n.startswith(f"runninghub.{other}")}, face


def test_cli_and_mcp_reach_private_modules_only_through_the_seam() -> None:
    for path in _modules("cli") + _modules("mcp"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "runninghub" or len(parts) < 2 or parts[1].startswith("__"):
                continue
            private = parts[1].startswith("_")
            assert not private or parts[1] == "_support", f"{path.relative_to(SRC)}: {name}"
