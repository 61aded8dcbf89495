"""A local RunningHub API emulator that really executes ComfyUI image workflows.

``serve_in_thread(**options)`` starts one on 127.0.0.1 (a free port by default) and returns
an :class:`EmulatorServer` with ``base_url`` (where it listens), ``public_url`` (where the
URLs in its answers point: ``public_url=`` when it sits behind a proxy, else ``base_url``),
``stats()``, ``configure()``, ``reset()`` and ``stop()``. The server modules load on first
use, so importing the engine stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .options import EmulatorOptions
    from .server import EmulatorServer, main, serve, serve_in_thread

_LAZY = {
    "EmulatorOptions": ".options",
    "EmulatorServer": ".server",
    "serve_in_thread": ".server",
    "serve": ".server",
    "main": ".server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runninghub.emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = ["EmulatorOptions", "EmulatorServer", "main", "serve", "serve_in_thread"]
