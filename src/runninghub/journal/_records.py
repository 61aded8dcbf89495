"""What the journal hands back beyond a history line (a whole record, spend, prune, a cached
upload), and the submit and local input it is handed.

Kept apart from ``_entries``: ``runninghub history`` lists lines and never loads these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._models import to_decimal
from .._numbers import json_number
from ._entries import HistoryEntry, json_amount

__all__ = [
    "CachedUpload",
    "Intent",
    "LocalInput",
    "OutputRecord",
    "PruneResult",
    "SpendRow",
    "StatusChange",
    "TaskRecord",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalInput:
    """A local file a submit used: where it was, its size and its SHA-256."""

    address: str
    path: str
    size: int
    sha256: str

    @classmethod
    def of(cls, address: str, path: str | os.PathLike[str]) -> LocalInput:
        """Hash ``path`` (streamed) and describe it; raises OSError when it cannot be read."""
        import hashlib  # not at import: `runninghub history` starts faster without OpenSSL

        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(address, str(Path(path).absolute()), size, digest.hexdigest())

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Intent:
    """What is about to be submitted (and paid for): ``Journal.record_intent``'s one argument.

    ``params`` are the overrides as sent (``{"NODE.FIELD": value}`` or NodeOverride items, the
    uploaded names in place of the files) or a model's parameters; ``inputs`` the local files
    behind them. ``api_key`` is only hashed, never stored, and never shown in a repr.
    """

    kind: str
    target: str
    params: Mapping[str, Any] | Sequence[Any]
    inputs: Sequence[LocalInput] = ()
    site: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    batch: str | None = None
    batch_row: int | None = None
    at: float | None = None


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: float


@dataclass(frozen=True)
class OutputRecord:
    url: str | None
    type: str | None
    node_id: str | None
    text: str | None = None
    path: str | None = None
    sha256: str | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class TaskRecord:
    """Everything the journal knows about one submit (``runninghub history show``)."""

    entry: HistoryEntry
    params: dict[str, Any]
    site: str | None
    base_url: str | None
    key_hash: str | None
    note: str | None
    inputs: tuple[LocalInput, ...] = ()
    statuses: tuple[StatusChange, ...] = ()
    outputs: tuple[OutputRecord, ...] = ()
    failure: dict[str, str | None] | None = None
    usage: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The entry's fields and the rest; coins and money once, under ``usage`` (with the
        third-party money and the seconds), as numbers."""
        entry = self.entry.to_dict()
        del entry["coins"], entry["money"]
        return {
            **entry,
            "params": self.params,
            "site": self.site,
            "base_url": self.base_url,
            "key_hash": self.key_hash,
            "note": self.note,
            "inputs": [item.to_dict() for item in self.inputs],
            "statuses": [{"status": s.status, "at": s.at} for s in self.statuses],
            "outputs": [output.to_dict() for output in self.outputs],
            "failure": self.failure,
            "usage": {name: json_amount(to_decimal(text)) for name, text in self.usage.items()},
        }


@dataclass(frozen=True)
class SpendRow:
    """Recorded usage of one group (a day, a workflow, a model or a key)."""

    group: str
    tasks: int = 0
    failures: int = 0
    unknown: int = 0
    coins: Decimal = Decimal(0)
    money: Decimal = Decimal(0)
    third_party_money: Decimal = Decimal(0)
    seconds: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name; the amounts as exact JSON numbers."""
        return {
            name: json_number(value) if isinstance(value, Decimal) else value
            for name, value in vars(self).items()
        }


@dataclass(frozen=True)
class PruneResult:
    removed: int
    kept_unknown: int  # older, but unknown: each still needs a decision
    uploads_removed: int


@dataclass(frozen=True)
class CachedUpload:
    """A file this key uploaded earlier, still within the cache's time to live."""

    file_name: str
    download_url: str | None
    uploaded_at: float
