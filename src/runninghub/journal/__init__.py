"""The local journal: every task this tool starts, kept, findable, costed and reconciled.

One SQLite file (WAL; several processes write it at once) in the user's data directory:
``RUNNINGHUB_DATA_DIR``, else ``$XDG_DATA_HOME/runninghub`` on Linux (``~/.local/share``),
``~/Library/Application Support/runninghub`` on macOS, ``%LOCALAPPDATA%\\runninghub`` on
Windows. ``RUNNINGHUB_NO_JOURNAL=1`` turns recording off. The key is stored only as a salted
hash, and scrubbed from every text the journal writes.

Example::

    from runninghub.journal import Intent, Journal, LocalInput

    with Journal.open() as journal:
        intent = journal.record_intent(Intent(
            "workflow", "1987728214757978114", {"107.image": "openapi/ab12.png"},
            inputs=[LocalInput.of("107.image", "photo.png")], api_key=key,
        ))
        journal.attach_task(intent, task_id)       # right after the submit's answer
        journal.record_task(task)                  # after each query
        print(journal.spend(by="day"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._entries import HistoryEntry, IntentState
    from ._journal import KINDS, Journal, ResolveConflictError, UnknownIntentError
    from ._labels import batch_label, current_batch
    from ._paths import (
        DEFAULT_UPLOAD_TTL,
        ENV_DATA_DIR,
        ENV_NO_JOURNAL,
        ENV_UPLOAD_TTL,
        data_dir,
        journal_disabled,
        journal_path,
    )
    from ._query import STATUSES, HistoryFilter
    from ._records import (
        CachedUpload,
        Intent,
        LocalInput,
        OutputRecord,
        PruneResult,
        SpendRow,
        StatusChange,
        TaskRecord,
    )
    from ._reports import GROUPINGS, total
    from ._schema import SCHEMA_VERSION, JournalError
    from ._uploads import UploadCache
    from ._values import key_hash

# name -> the module that defines it, imported on first use: `runninghub history` loads only
# what listing needs (a frozen dataclass costs about a millisecond of its start to build).
_OWNERS = {
    "KINDS": "._journal",
    "Journal": "._journal",
    "ResolveConflictError": "._journal",
    "UnknownIntentError": "._journal",
    "batch_label": "._labels",
    "current_batch": "._labels",
    "DEFAULT_UPLOAD_TTL": "._paths",
    "ENV_DATA_DIR": "._paths",
    "ENV_NO_JOURNAL": "._paths",
    "ENV_UPLOAD_TTL": "._paths",
    "data_dir": "._paths",
    "journal_disabled": "._paths",
    "journal_path": "._paths",
    "STATUSES": "._query",
    "HistoryFilter": "._query",
    "GROUPINGS": "._reports",
    "total": "._reports",
    "HistoryEntry": "._entries",
    "IntentState": "._entries",
    "CachedUpload": "._records",
    "Intent": "._records",
    "LocalInput": "._records",
    "OutputRecord": "._records",
    "PruneResult": "._records",
    "SpendRow": "._records",
    "StatusChange": "._records",
    "TaskRecord": "._records",
    "SCHEMA_VERSION": "._schema",
    "JournalError": "._schema",
    "UploadCache": "._uploads",
    "key_hash": "._values",
}

__all__ = [
    "DEFAULT_UPLOAD_TTL",
    "ENV_DATA_DIR",
    "ENV_NO_JOURNAL",
    "ENV_UPLOAD_TTL",
    "GROUPINGS",
    "KINDS",
    "SCHEMA_VERSION",
    "STATUSES",
    "CachedUpload",
    "HistoryEntry",
    "HistoryFilter",
    "Intent",
    "IntentState",
    "Journal",
    "JournalError",
    "LocalInput",
    "OutputRecord",
    "PruneResult",
    "ResolveConflictError",
    "SpendRow",
    "StatusChange",
    "TaskRecord",
    "UnknownIntentError",
    "UploadCache",
    "batch_label",
    "current_batch",
    "data_dir",
    "journal_disabled",
    "journal_path",
    "key_hash",
    "total",
]


__getattr__ = lazy_attributes(__name__, __package__, _OWNERS, globals())
