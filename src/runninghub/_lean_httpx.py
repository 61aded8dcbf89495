"""Import httpx without its command-line tool.

``httpx/__init__.py`` imports ``httpx._main`` (the ``httpx`` command) when rich, click and
pygments are installed, and this package depends on rich: every process paid about 0.1 s
(a quarter of a ``batch run``'s start-up) for a tool it never runs. Until httpx is imported,
``httpx._main`` is a stand-in that loads the real module the first time anything in it is
used, so ``httpx.main()`` and ``import httpx._main`` still work for anyone who wants them.
"""

from __future__ import annotations

import importlib
import sys
import types
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
    stand_in = sys.modules.get(_NAME)
    if isinstance(stand_in, _DeferredMain):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


def defer_httpx_cli() -> None:
    """Put the stand-in in place, unless httpx (or its CLI) was imported already."""
    if "httpx" in sys.modules or _NAME in sys.modules:
        return
    stand_in = _DeferredMain(_NAME, "httpx's command line, loaded on first use")
    stand_in.main = _main  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in
