"""Running one task's graph in a worker thread and keeping what it produced.

The engine's :func:`~runninghub.emulator.nodes.execute` is pure CPU work; it runs off the
event loop. Its files are written atomically under ``outputs/<task id>/`` before the task
is marked done, so an output URL never serves a partial file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._comfy_frames import comfy_frames
from ._node_types import EngineLimits
from .nodes import NodeExecutionError, ProducedOutput, execute
from .storage import write_atomically
from .tasks import OutputFile

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ExecutionResult:
    outputs: list[OutputFile] = field(default_factory=list)
    failure: dict[str, str] | None = None


def run_graph(  # noqa: PLR0913 - keyword-only execution context
    graph: dict[str, Any],
    *,
    task_id: str,
    add_metadata: bool,
    load_media: Callable[[str], bytes],
    on_event: Callable[[str, dict[str, Any]], None],
    out_dir: Path,
    limits: EngineLimits | None = None,
) -> ExecutionResult:
    """Execute ``graph`` and store its files; any failure becomes a failedReason."""
    try:
        produced = execute(
            graph,
            load_media=load_media,
            add_metadata=add_metadata,
            on_event=on_event,
            prompt_id=task_id,
            limits=limits,
        )
        return ExecutionResult(outputs=_store(produced, out_dir))
    except NodeExecutionError as error:
        return ExecutionResult(failure=error.failed_reason())
    except Exception as error:  # an engine defect must fail the task, not the server
        return ExecutionResult(failure=unexpected_failure(error))


def unexpected_failure(error: BaseException) -> dict[str, str]:
    frames = comfy_frames(None)
    return {
        "current_outputs": "{}",
        "exception_type": type(error).__name__,
        "node_name": "",
        "current_inputs": "{}",
        "traceback": json.dumps(frames),
        "node_id": "",
        "exception_message": str(error),
    }


def _store(produced: list[ProducedOutput], out_dir: Path) -> list[OutputFile]:
    stored: list[OutputFile] = []
    taken: set[str] = set()
    for index, item in enumerate(produced, start=1):
        name = _file_name(item, index, taken)
        taken.add(name)
        write_atomically(out_dir / name, item.data)
        stored.append(OutputFile(item.node_id, item.ext, name, len(item.data), item.text))
    return stored


def _file_name(item: ProducedOutput, index: int, taken: set[str]) -> str:
    """The engine's ComfyUI-style name, made safe for a URL path and unique in the task."""
    wanted = Path(getattr(item, "filename", "") or "").name
    name = _SAFE_NAME.sub("_", wanted).lstrip(".") or f"ComfyUI_{index:05d}_.{item.ext}"
    if name in taken:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem or name}_{index}{dot}{ext}" if dot else f"{name}_{index}"
    return name
