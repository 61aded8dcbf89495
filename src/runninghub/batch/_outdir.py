"""One output folder, one batch: a folder is claimed by the batch that first writes to it.

Two batches writing into one ``--out`` would give their outputs the same names and replace each
other's files and manifest without a word (a ledger would then point at another batch's
image). So the first batch to use a folder leaves ``OUT/.runninghub-batch`` naming its
identity (made with its ledger, kept if the ledger is moved), and any other batch is refused
that folder. A folder written by a runninghub from before the claim (a manifest, no claim) is
taken over only by the batch whose tasks its manifest lists.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Collection
from pathlib import Path

from .errors import OutputFolderTakenError

__all__ = ["CLAIM_NAME", "check_out_dir_free", "claim_out_dir"]

CLAIM_NAME = ".runninghub-batch"
_MANIFEST = "manifest.jsonl"
_MAX_CLAIM_BYTES = 4096


def check_out_dir_free(out_dir: Path) -> None:
    """For a batch about to be made: refuse a folder that another batch already writes to."""
    owner = _owner(out_dir)
    if owner is not None or _legacy_tasks(out_dir):
        raise _taken(out_dir, owner)


def claim_out_dir(out_dir: Path, batch_id: str, ledger: Path, tasks: Collection[str]) -> None:
    """Claim ``out_dir`` for ``batch_id`` (whose tasks are ``tasks``), or raise
    OutputFolderTakenError when it belongs to another batch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    owner = _owner(out_dir)
    if owner is None:
        legacy = _legacy_tasks(out_dir)
        if legacy and not legacy & set(tasks):
            raise _taken(out_dir, None)
        owner = _create_claim(out_dir, {"batch_id": batch_id, "ledger": str(ledger)})
    if owner != batch_id:
        raise _taken(out_dir, owner)


def _owner(out_dir: Path) -> str | None:
    try:
        with (out_dir / CLAIM_NAME).open("rb") as handle:
            text = handle.read(_MAX_CLAIM_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputFolderTakenError(f"cannot read {out_dir / CLAIM_NAME}: {exc}") from None
    try:
        owner = json.loads(text)["batch_id"]
    except (ValueError, KeyError, TypeError):
        owner = None
    return owner if isinstance(owner, str) else "(unreadable claim)"


def _create_claim(out_dir: Path, document: dict[str, str]) -> str:
    """Write the claim beside its place, then link it in: never over another batch's claim.
    Returns the batch that holds the claim afterwards (ours, or one that came first)."""
    staging = out_dir / f".{CLAIM_NAME}.{os.getpid()}.tmp"
    try:
        staging.write_text(json.dumps(document) + "\n", encoding="utf-8")
        try:
            os.link(staging, out_dir / CLAIM_NAME)
        except FileExistsError:
            return _owner(out_dir) or "(unreadable claim)"
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
    return document["batch_id"]


def _legacy_tasks(out_dir: Path) -> set[str]:
    """Task ids in a manifest left without a claim (an older runninghub wrote it)."""
    tasks: set[str] = set()
    try:
        lines = (out_dir / _MANIFEST).read_text(encoding="utf-8", errors="replace").splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return tasks
    for line in lines:
        with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
            task = json.loads(line).get("task_id")
            if isinstance(task, str):
                tasks.add(task)
    return tasks


def _taken(out_dir: Path, owner: str | None) -> OutputFolderTakenError:
    whose = f"batch {owner}" if owner else "a batch made by an older runninghub"
    return OutputFolderTakenError(
        f"{out_dir} holds the outputs of another batch ({whose}); its files would be replaced",
        hint=f"choose another --out for this batch (or remove {CLAIM_NAME} there once that"
        " batch is no longer needed)",
    )
