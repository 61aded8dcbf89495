"""The optional parts of an installation, and the one line that names a missing one.

``pip install runninghub`` is the SDK and the command line. The extras add the rest:
``[emulator]`` the local server and its imaging stack, ``[mcp]`` the MCP server,
``[studio]`` the local web page, ``[all]`` all three.
"""

from __future__ import annotations

import importlib.util

from ._errors import ConfigError

__all__ = ["EXTRAS", "install_hint", "missing_extra", "missing_modules", "require_extra"]

# extra -> the top-level modules it installs (as imported, not as named on PyPI)
EXTRAS: dict[str, tuple[str, ...]] = {
    "emulator": ("starlette", "uvicorn", "python_multipart", "PIL", "av"),
    "mcp": ("mcp",),
    "studio": ("starlette", "uvicorn", "python_multipart", "jinja2"),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that this installation lacks (found without importing them)."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def install_hint(extra: str) -> str:
    return f"pip install 'runninghub[{extra}]'"


def require_extra(extra: str, what: str) -> None:
    """Raise ``ConfigError`` (exit 3 on the command line) when ``extra`` is not installed."""
    missing = missing_modules(extra)
    if missing:
        raise missing_extra(extra, what, missing)


def missing_extra(extra: str, what: str, missing: list[str]) -> ConfigError:
    """The one error for an extra that is absent (or too old to import ``missing``)."""
    return ConfigError(
        f"{what} needs the [{extra}] extra, which is not installed "
        f"(missing: {', '.join(missing)}): {install_hint(extra)}"
    )
