"""Names a package module loads on first use (PEP 562): the seam for the CLI and MCP, and the
journal, list many names whose modules a short command never needs (``--help``,
``history``), so each name's module is imported only when the name is first read."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    module: str,
    package: str,
    owners: Mapping[str, str],
    namespace: dict[str, Any],
    renamed: Mapping[str, str] | None = None,
) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``module``: ``owners`` maps each name to the module (relative
    to ``package``, the module's ``__package__``) that defines it, under its own name or
    ``renamed``'s; a name read once is kept in ``namespace`` (the module's globals) and
    never looked up again."""
    aliases = dict(renamed or {})

    def attribute(name: str) -> Any:
        owner = owners.get(name)
        if owner is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(owner, package), aliases.get(name, name))
        namespace[name] = value
        return value

    return attribute
