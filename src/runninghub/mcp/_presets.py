"""Each saved preset as an MCP tool of its own, and a watch on the presets file.

A preset's tool takes its open parameters by name, typed as the fields they fill; the tool
list is read from the file at each ``tools/list``, and a change to the file is announced with
``notifications/tools/list_changed`` so the host lists the tools again without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations

from runninghub import ConfigError
from runninghub._support import load_presets, presets_path

from ._schemas import TaskResult

if TYPE_CHECKING:
    from runninghub import Preset, PresetParam

__all__ = ["PresetCatalogue", "preset_tool"]

logger = logging.getLogger(__name__)

_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean"}
_SPENDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
# How often the file is looked at; a stat is cheap, and a host sees a new preset within it.
WATCH_SECONDS = 1.0


def _param_schema(param: PresetParam) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES.get(param.kind, "string")}
    if param.choices:
        schema["enum"] = list(param.choices)
    if param.default is not None:
        schema["default"] = param.default
    described = param.description or param.address
    if param.kind == "media":
        described += " (a local file path on this machine, an http(s) URL or an uploaded name)"
    schema["description"] = described
    return schema


def preset_tool(preset: Preset, *, wait_seconds: float, max_wait: float) -> MCPTool:
    """The tool of one preset: its parameters, a bounded wait, an optional download folder."""
    properties = {p.name: _param_schema(p) for p in preset.params}
    properties["wait_seconds"] = {
        "type": "number", "minimum": 0, "maximum": max_wait, "default": wait_seconds,
        "description": "How long to wait before returning the task id (0: do not wait).",
    }  # fmt: skip
    properties["download_dir"] = {
        "type": "string",
        "description": "If set, save the outputs into this local directory.",
    }
    what = preset.description or f"Runs the saved {preset.kind} {preset.target}."
    return MCPTool(
        name=preset.name,
        description=f"{what} (preset {preset.name}: {preset.kind} {preset.target}; "
        "returns the task id, status and outputs like run_workflow)",
        input_schema={
            "type": "object",
            "properties": properties,
            "required": [p.name for p in preset.params if p.required],
            "additionalProperties": False,
        },
        output_schema=TaskResult.model_json_schema(),
        annotations=_SPENDS,
    )


class PresetCatalogue:
    """The presets file as tools; ``changed`` tells whether it differs from the last look."""

    def __init__(self, reserved: set[str], path: Path | None = None) -> None:
        self._path = presets_path(path)
        self._reserved = reserved  # the generic tools' names win over a preset's
        self._seen = self._signature()

    def presets(self) -> dict[str, Preset]:
        try:
            found = load_presets(self._path)
        except ConfigError as exc:
            logger.warning("presets not served: %s", exc)  # the generic tools still are
            return {}
        return {name: p for name, p in found.items() if name not in self._reserved}

    def changed(self) -> bool:
        now = self._signature()
        if now == self._seen:
            return False
        self._seen = now
        return True

    async def watch(self, announce: Callable[[], Awaitable[None]]) -> None:
        """Announce each change of the file, until cancelled."""
        while True:
            await anyio.sleep(WATCH_SECONDS)
            if self.changed():
                await announce()

    def _signature(self) -> tuple[int, int] | None:
        try:
            status = self._path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size)
