"""What the client flows write to the local journal, and the upload cache they consult.

The flows call a :class:`Recorder` around every submit: the intent before it is sent, then the
task id (or ``unknown`` when the answer was lost, or ``refused``), then every state of the task
they read, and the files they saved. Without a journal (the SDK's default) every call is a
no-op that costs nothing, not even a file hash. A journal that cannot be written never stops a
run: the first failure is logged as a warning and the run goes on unrecorded.

Journal writes are short local SQLite transactions, made in place (the graph cache's disk
reads are made the same way): a step for the drivers would cost more than the write.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._config import Settings
from ._errors import APIError, ServerError, SubmitOutcomeUnknownError
from ._models import NodeOverride, Task, TaskStatus, Upload
from .journal import HistoryEntry, Intent, Journal, JournalError, LocalInput, current_batch

if TYPE_CHECKING:
    from ._outputs import SavedFile

__all__ = ["Recorder", "may_have_created"]

logger = logging.getLogger("runninghub")

R = TypeVar("R")

# Tasks the journal saw start within this long and never saw end may still run.
_LONGEST_TASK = 24 * 3600.0
_WRITE_ERRORS = (JournalError, sqlite3.Error, OSError, ValueError)


def may_have_created(exc: BaseException) -> bool:
    """Whether a submit that raised ``exc`` may still have created a task (never pay twice):
    a lost answer, an interrupt, a server-side failure code, or a code we do not know."""
    if not isinstance(exc, Exception):
        return True  # interrupted while the submit was on its way
    if isinstance(exc, SubmitOutcomeUnknownError | ServerError):
        return True
    return isinstance(exc, APIError) and (exc.task_id is not None or type(exc) is APIError)


class Recorder:
    """The journal calls of one client; every method does nothing without a journal."""

    def __init__(self, journal: Journal | None, settings: Settings, *, upload_cache: bool) -> None:
        self.journal = journal
        self._settings = settings
        self.upload_cache = upload_cache and journal is not None
        self._from_cache: set[str] = set()  # names this client took from the cache
        self._lost: set[str] = set()  # failed tasks that named one of them

    def use_settings(self, settings: Settings) -> None:
        """Record the site and base URL the client moved to (the key's own site)."""
        self._settings = settings
        self._warned = False

    def local_input(self, address: str, path: Path) -> LocalInput | None:
        """The file's size and SHA-256, when a journal will record them (None when the file
        cannot be read: the upload then says so in its own words)."""
        if self.journal is None or not path.is_file():
            return None
        try:
            return LocalInput.of(address, path)
        except OSError:
            return None

    def intent(
        self,
        kind: str,
        target: str,
        items: Sequence[NodeOverride] | Mapping[str, Any],
        inputs: Sequence[LocalInput],
    ) -> Intent | None:
        """What is about to be submitted, as the journal records it (None: not recording)."""
        if self.journal is None:
            return None
        batch, row = current_batch() or (None, None)
        return Intent(
            kind,
            target,
            dict(items) if isinstance(items, Mapping) else list(items),  # a model's params
            inputs=inputs,
            site=self._settings.site,
            base_url=self._settings.base_url,
            api_key=self._settings.api_key,
            batch=batch,
            batch_row=row,
        )

    def record(self, intent: Intent | None) -> int | None:
        """Write the intent before its submit is sent; its id (None when not recorded)."""
        journal = self.journal
        if journal is None or intent is None:
            return None
        return self._guarded(lambda: journal.record_intent(intent))

    def unknown_like(self, intent: Intent | None) -> list[HistoryEntry]:
        """Earlier submits of this very input whose outcome is unknown."""
        journal = self.journal
        if journal is None or intent is None:
            return []
        return self._guarded(lambda: journal.unknown_like(intent)) or []

    def warn_unknown(self, earlier: Sequence[HistoryEntry], running: int | None) -> None:
        """Say so when the account runs more tasks than the journal knows of: the earlier
        submit of this same input whose answer was lost may be one of them."""
        journal = self.journal
        if journal is None or running is None or not earlier:
            return
        key, since = self._settings.api_key, time.time() - _LONGEST_TASK
        known = self._guarded(lambda: journal.open_tasks(key, since=since))
        if known is None or running <= known:
            return
        first = earlier[0]
        logger.warning(
            "the account runs %d task(s) and the journal knows of %d: i%d, an earlier submit of"
            " this same input (%s) whose answer was lost, may be running; find its task in the"
            " web console and attach it: runninghub history resolve i%d --task TASK_ID",
            running,
            known,
            first.intent_id,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(first.created_at)),
            first.intent_id,
        )

    def answered(self, intent_id: int | None, task: Task) -> None:
        """The submit's answer: the task id, and the task as it was first seen."""
        journal = self.journal
        if journal is not None and intent_id is not None:
            self._guarded(lambda: journal.attach_task(intent_id, task.task_id))
            self.seen(task)

    def not_answered(self, intent_id: int | None, exc: BaseException) -> None:
        """The submit raised: ``unknown`` when a task may exist, else ``refused``."""
        journal = self.journal
        if journal is None or intent_id is None:
            return
        reason = str(exc) or type(exc).__name__
        if may_have_created(exc):
            self._guarded(lambda: journal.mark_unknown(intent_id, reason))
        else:
            self._guarded(lambda: journal.record_refused(intent_id, reason))

    def seen(self, task: Task, saved: Sequence[SavedFile] = ()) -> None:
        """A state of a task read from the service (ignored when it is not in the journal)."""
        journal = self.journal
        if journal is not None:
            self._guarded(lambda: journal.record_task(task, saved))
            self._evict_missing(task)

    def cached(self, local: LocalInput | None) -> Upload | None:
        """An earlier upload of this very file by this key, while it is fresh."""
        journal = self.journal
        if journal is None or local is None or not self.upload_cache:
            return None
        key = self._settings.api_key
        found = self._guarded(lambda: journal.uploads.lookup(key, local.sha256, local.size))
        if found is None:
            return None
        self._from_cache.add(found.file_name)
        return Upload(file_name=found.file_name, download_url=found.download_url, size=local.size)

    def uploaded(self, local: LocalInput | None, upload: Upload) -> None:
        journal = self.journal
        if journal is None or local is None or not self.upload_cache:
            return
        key, name, url = self._settings.api_key, upload.file_name, upload.download_url
        self._guarded(lambda: journal.uploads.store(key, local.sha256, local.size, name, url))

    def lost_upload(self, task: Task) -> bool:
        """Whether the failed task named a file the upload cache supplied (the service lost
        it; the entry is evicted): the caller may upload it again and submit once more."""
        self._evict_missing(task)
        return task.task_id in self._lost

    def _evict_missing(self, task: Task) -> None:
        """Forget the cached uploads a failed task names, so no later run reuses them."""
        journal = self.journal
        if journal is None or task.status is not TaskStatus.FAILED:
            return
        failure_text = task.failure.exception_message if task.failure else None
        said = " ".join(filter(None, [task.error_message, failure_text]))
        missing = [name for name in self._from_cache if name in said]
        key = self._settings.api_key
        for name in missing:
            self._from_cache.discard(name)
            self._guarded(functools.partial(journal.uploads.evict_name, key, name))
        if missing:
            self._lost.add(task.task_id)

    def _guarded(self, write: Callable[[], R]) -> R | None:
        try:
            return write()
        except _WRITE_ERRORS as exc:
            if not self._warned:
                self._warned = True
                where = self.journal.path if self.journal is not None else "?"
                logger.warning("journal %s not written (%s); not recording", where, exc)
            return None
