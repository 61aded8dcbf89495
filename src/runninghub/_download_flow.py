"""The download flow: a finished task's outputs saved safely, each file resumable.

Split from ``_flows`` (which re-exports ``download``) so each flow module stays focused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import httpx

from ._core import ClientCore
from ._errors import OutputError, Wording
from ._models import Task
from ._options import PathLike
from ._outputs import (
    DEFAULT_MAX_BYTES,
    PartialDownload,
    Placed,
    SavedFile,
    plan_downloads,
    save_text,
)
from ._policy import DownloadRetry
from ._steps import Flow, Pause, Stream


def download(  # noqa: PLR0913 - the public signature: options as keywords
    client: ClientCore,
    task: Task,
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    allowed_hosts: Iterable[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Flow[list[SavedFile]]:
    """Save a finished task's outputs into ``out_dir`` (see ``runninghub._outputs``).

    Names are ``<task>-<node>-<n>.<ext>``, never taken from the server. A file already
    there with the same bytes is kept (``SavedFile.reused``), so downloading twice leaves one
    copy; a different file of that name is kept too and the new one gets a numeric suffix,
    unless ``overwrite`` (then it is replaced). Raises OutputError for an untrusted host,
    an oversized body or a failed download.
    """
    directory = Path(out_dir)
    saved = []
    try:
        for item in plan_downloads(task, client.base_url, allowed_hosts):
            if item.output.url is None:
                text = item.output.text or ""
                placed = save_text(directory, item.name, text, overwrite)
            else:
                part = PartialDownload(directory, item.name, max_bytes=max_bytes)
                placed = yield from _fetch(client, item.output.url, part, overwrite)
            saved.append(item.saved(placed))
    except (OSError, OutputError) as exc:
        raise _not_saved(task.task_id, exc) from exc
    client._recorder.seen(task, saved)
    return saved


def _not_saved(task_id: str, exc: OSError | OutputError) -> OutputError:
    """The task is paid for: whatever stopped the save, name it and say how to fetch again."""
    reason = exc.message if isinstance(exc, OutputError) else _os_reason(exc)
    hint = exc.hint if isinstance(exc, OutputError) and exc.hint else None
    return OutputError(
        f"task {task_id} finished, but its outputs were not saved: {reason}",
        hint=hint
        or Wording(
            f"fetch them later with client.download(client.task({task_id!r}).get(), DIR)",
            f"fetch them later with: runninghub outputs {task_id} --out DIR",
        ),
        task_id=task_id,
    )


def _os_reason(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _fetch(client: ClientCore, url: str, part: PartialDownload, overwrite: bool) -> Flow[Placed]:
    """One file, resumed from its part file after a dropped connection."""
    retry = DownloadRetry(client.retry_policy, part.name, client._rng)
    while True:
        dropped: httpx.TransportError | None = None
        try:
            if (yield Stream(url, part)):
                return part.commit(overwrite=overwrite)
        except httpx.TransportError as exc:
            part.pause()  # keep the part: the next attempt resumes it
            dropped = exc
        except OSError:
            part.discard()  # a full or failing disk: leave no partial file behind
            raise
        yield Pause(retry.next_delay(dropped))
