"""Import httpx without its command-line tool.

``httpx/__init__.py`` imports ``httpx._main`` (the ``httpx`` command) when rich, click and
pygments are installed, and this package depends on rich: every process paid about 0.1 s
(a quarter of a ``batch run``'s start-up) for a tool it never runs. A finder answers that one
import with a stand-in that loads the real module the first time anything in it is used, so
``httpx.main()`` and ``import httpx._main`` still work for anyone who wants them. Nothing is
imported or loaded here until httpx itself is (``runninghub --help`` stays as lean as it was).
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.machinery import ModuleSpec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["defer_httpx_cli"]

_NAME = "httpx._main"


class _DeferredMain(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import machinery's probes (__path__...): not a use
            raise AttributeError(name)
        return getattr(_real(), name)


def _main(*args: Any, **kwargs: Any) -> Any:
    return _real().main(*args, **kwargs)


def _real() -> types.ModuleType:
    if isinstance(sys.modules.get(_NAME), _DeferredMain):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


class _Finder:
    """Answers the first import of ``httpx._main`` (httpx's own), then steps aside."""

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name != _NAME:
            return None
        sys.meta_path.remove(cls)
        return ModuleSpec(name, cls)  # type: ignore[arg-type]

    @staticmethod
    def create_module(spec: ModuleSpec) -> types.ModuleType:
        return _DeferredMain(_NAME, "httpx's command line, loaded on first use")

    @staticmethod
    def exec_module(module: types.ModuleType) -> None:
        module.main = _main  # type: ignore[attr-defined]


def defer_httpx_cli() -> None:
    """Put the finder in place, unless httpx (or its CLI) was imported already."""
    if "httpx" in sys.modules or _NAME in sys.modules or _Finder in sys.meta_path:
        return
    sys.meta_path.insert(0, _Finder)
