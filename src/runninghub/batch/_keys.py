"""Which API key a batch task belongs to, recorded by a hash so that keys may be reordered.

A task can only be followed with the key that created it. The ledger records, per attempt, a
short hash of that key (never the key), so a resume given the keys in another order still
queries each task with its own key, and one given a different set of keys is refused before
anything is touched, instead of losing the tasks as "not found" and paying for them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._errors import ConfigError
from ._rows import LedgerRow

if TYPE_CHECKING:
    from .._async_client import AsyncClient

__all__ = ["client_key_id", "key_id", "keys_of_running_tasks"]

_DOMAIN = b"runninghub batch key\0"  # a hash for this use only, unlike any other of the key


def key_id(api_key: str) -> str:
    """16 hex digits naming ``api_key`` in a ledger; the key cannot be recovered from them."""
    return hashlib.sha256(_DOMAIN + api_key.encode()).hexdigest()[:16]


def client_key_id(client: AsyncClient) -> str:
    return key_id(client._settings.api_key)


def keys_of_running_tasks(rows: Sequence[LedgerRow], key_ids: Sequence[str]) -> dict[int, int]:
    """Row number -> index (in ``key_ids``) of the key its task was submitted with.

    Raises ConfigError, naming the first such row, when a task's key is not among them.
    """
    result: dict[int, int] = {}
    for row in rows:
        if row.key_id is None:  # recorded before keys were hashed: only the position is known
            index = row.key_index or 0
            known = index < len(key_ids)
        else:
            known = row.key_id in key_ids
            index = key_ids.index(row.key_id) if known else -1
        if not known:
            raise ConfigError(
                f"row {row.row} (task {row.task_id}) was submitted with a key that is not"
                f" among the {len(key_ids)} given; nothing was changed",
                hint="resume with the keys the batch was run with (--keys FILE)",
            )
        result[row.row] = index
    return result
