"""What a batch runs and how (:class:`BatchSpec`), and overrides as stored in the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._models import NodeOverride

__all__ = ["BatchSpec", "NewRow", "decode_overrides", "encode_overrides"]

# A row of a new ledger: (row, identity, overrides JSON[, input JSON]).
NewRow = tuple[int, str, str] | tuple[int, str, str, str | None]


@dataclass(frozen=True)
class BatchSpec:
    """What a batch runs and how: everything ``resume`` needs besides the ledger itself."""

    workflow_id: str
    out_dir: str
    name_template: str = "{row:05d}_{node}_{index}.{ext}"
    inputs: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # input column -> NODE.FIELD
    sets: dict[str, str] = field(default_factory=dict)  # NODE.FIELD -> value for every row
    concurrency: int | None = None  # None: the account's limit
    max_tasks: int | None = None
    max_coins: str | None = None
    keys_file: str | None = None  # the path only; keys are never stored
    key_count: int = 1
    # What workflow_id names: "workflow", "app" (an AI app's id) or "model" (an endpoint).
    kind: str = "workflow"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BatchSpec:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def encode_overrides(overrides: Iterable[NodeOverride]) -> str:
    """Overrides as canonical JSON; local files are tagged so they come back as ``Path``."""
    items = []
    for item in overrides:
        value = item.value
        if isinstance(value, Path):
            value = {"__path__": str(value)}
        items.append([str(item.node_id), item.field, value])
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode_overrides(text: str) -> list[NodeOverride]:
    result = []
    for node_id, field_name, stored in json.loads(text):
        value = stored
        if isinstance(stored, dict) and set(stored) == {"__path__"}:
            value = Path(stored["__path__"])
        result.append(NodeOverride(node_id, field_name, value))
    return result
