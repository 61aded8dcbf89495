"""Saving outputs: safe local names, trusted hosts only, atomic and resumable writes.

Decisions (documented in the client's ``download``):

- Names are built here, never taken from the server: ``<task id>-<node id>-<n>.<ext>``, where
  each part is reduced to ``[A-Za-z0-9_-]`` and capped in length, the extension to 1-8
  lower-case letters or digits (else ``bin``). So no server answer can produce ``..``, a
  separator, an absolute path, a NUL or an over-long name.
- An existing file is never replaced unless ``overwrite=True``: the new file gets the next free
  numeric suffix (``...-9-1-1.png``). The final name is claimed with a hard link, so two writers
  cannot both take it. A file already there with the very same bytes (same size, then same
  sha256) is kept and the new copy dropped, so fetching the same outputs twice leaves one copy
  (the result says ``reused``).
- Bytes go to a hidden ``.<name>.part`` file in the target directory, are flushed to disk, and
  only then renamed into place; a half-written file never carries the final name. A part file
  is created exclusively and never through a link (``O_EXCL | O_NOFOLLOW``): a ``.part`` found
  on disk (left by another process, or planted as a link to some other file) is removed, never
  appended to. Only the bytes this download itself wrote in an earlier attempt are resumed,
  with an HTTP ``Range`` request, and only while the file is still the one it created (same
  inode and size); the server's ``206`` must start where they end, else it starts afresh.
- Downloads ask for ``Accept-Encoding: identity``; whatever the server sends, the size cap
  counts the decoded bytes, so a compressed body cannot expand past it.
- Output URLs are fetched only from the API's own host (same scheme, host and port) or from the
  known RunningHub CDN hosts (``rh-images.xiaoyaoyou.com``, ``rh-*.cos.<region>.myqcloud.com``,
  ``*.runninghub.cn``, ``*.runninghub.ai``), plus any host the caller allows explicitly.
  Redirects are not followed. The API key is never sent with a download.
- A body over ``max_bytes`` (default 4 GiB) is refused, and its partial file removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlsplit

from ._errors import OutputError, Wording
from ._models import Output, Task

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PartialDownload",
    "Placed",
    "PlannedFile",
    "SavedFile",
    "check_output_url",
    "output_file_names",
    "plan_downloads",
    "save_text",
]

DEFAULT_MAX_BYTES = 4 * 1024**3
_PART_MAX = 48
_CDN_HOSTS = frozenset({"rh-images.xiaoyaoyou.com"})
_CDN_PATTERNS = (
    re.compile(r"rh-[a-z0-9-]+\.cos\.[a-z0-9-]+\.myqcloud\.com"),
    re.compile(r"([a-z0-9-]+\.)*runninghub\.(cn|ai)"),
)


@dataclass(frozen=True)
class SavedFile:
    """A saved output: where it is, where it came from, and its checksum."""

    path: Path
    url: str | None
    node_id: str | None
    type: str | None
    size: int
    sha256: str
    reused: bool = False  # the same bytes were already saved under this name: nothing written

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "url": self.url,
            "node_id": self.node_id,
            "type": self.type,
            "size": self.size,
            "sha256": self.sha256,
            "reused": self.reused,
        }


def _safe_part(text: str | None, fallback: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", text or "").strip("_-")[:_PART_MAX]
    return cleaned or fallback


def _extension(output: Output) -> str:
    if output.url is None and output.text is not None:
        return "txt"
    candidates = [output.type or ""]
    if output.url:
        candidates.append(PurePosixPath(urlsplit(output.url).path).suffix.lstrip("."))
    for candidate in candidates:
        ext = candidate.strip().lower()
        if re.fullmatch(r"[a-z0-9]{1,8}", ext):
            return ext
    return "bin"


def output_file_names(task_id: str, outputs: Iterable[Output]) -> list[str]:
    """Local names for a task's outputs, in order: ``<task>-<node>-<n>.<ext>``."""
    task_part = _safe_part(task_id, "task")
    counters: dict[str, int] = {}
    names = []
    for output in outputs:
        node_part = _safe_part(output.node_id, "out")
        counters[node_part] = counters.get(node_part, 0) + 1
        names.append(f"{task_part}-{node_part}-{counters[node_part]}.{_extension(output)}")
    return names


def not_finished(task_id: str, status: str) -> OutputError:
    """The refusal to save the outputs of a task that has not succeeded."""
    return OutputError(
        f"task {task_id} is {status}, not SUCCESS: no outputs to save",
        hint=Wording("wait for it first", f"wait for it first: runninghub wait {task_id}"),
    )


def check_output_url(url: str, base_url: str, extra_hosts: Iterable[str] = ()) -> str:
    """Return ``url`` if it may be fetched, else raise OutputError saying why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutputError(f"refusing to download {url[:120]!r}: not an http(s) URL")
    host = parts.hostname.lower()
    base = urlsplit(base_url)
    same_origin = (parts.scheme, host, parts.port) == (base.scheme, base.hostname, base.port)
    allowed = {h.lower() for h in extra_hosts}
    trusted = host in _CDN_HOSTS or host in allowed
    trusted = trusted or any(p.fullmatch(host) for p in _CDN_PATTERNS)
    if not same_origin and not trusted:
        raise OutputError(
            f"refusing to download from {host}: not the API host nor a known RunningHub CDN",
            hint=Wording(
                "pass allowed_hosts=[...] to download() if this host is expected",
                "if this host is expected, fetch the URL yourself (`runninghub status TASK_ID"
                " --json` lists them)",
            ),
        )
    return url


@dataclass(frozen=True)
class PlannedFile:
    """An output to save, and the local name chosen for it."""

    output: Output
    name: str

    def saved(self, placed: Placed) -> SavedFile:
        out = self.output
        return SavedFile(
            placed.path, out.url, out.node_id, out.type, placed.size, placed.sha256, placed.reused
        )


def plan_downloads(
    task: Task, base_url: str, allowed_hosts: Iterable[str] = ()
) -> list[PlannedFile]:
    """Name every output and check every URL before anything is written."""
    hosts = tuple(allowed_hosts)
    names = output_file_names(task.task_id, task.outputs)
    planned = []
    for output, name in zip(task.outputs, names, strict=True):
        if output.url:
            check_output_url(output.url, base_url, hosts)
        elif output.text is None:
            continue  # nothing to save
        planned.append(PlannedFile(output, name))
    return planned


@dataclass(frozen=True)
class Placed:
    """Where a committed file ended up, its size and checksum, and whether it was already there."""

    path: Path
    size: int
    sha256: str
    reused: bool = False


def save_text(directory: Path, name: str, text: str, overwrite: bool) -> Placed:
    """A text output (no URL) written like a download: atomically, checksummed."""
    partial = PartialDownload(directory, name)
    partial.begin(200, {})
    partial.write(text.encode("utf-8"))
    return partial.commit(overwrite=overwrite)


class PartialDownload:
    """One file being written: ``.part`` file, running checksum, size cap, atomic commit."""

    def __init__(self, directory: Path, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise OutputError(f"unsafe output name {name!r}")
        self.directory = directory
        self.name = name
        self.max_bytes = max_bytes
        self.part = directory / f".{name}.part"
        self.size = 0
        self._written = 0  # bytes this download put in its own part file, resumable
        self._identity: tuple[int, int] | None = None
        self._hash = hashlib.sha256()
        self._file: IO[bytes] | None = None
        self._synced = False  # everything written is on the disk (see sync)

    def request_headers(self) -> dict[str, str]:
        """No transfer encoding; the rest of the file when this download wrote a first part."""
        headers = {"Accept-Encoding": "identity"}
        if self._written:
            headers["Range"] = f"bytes={self._written}-"
        return headers

    def begin(self, status: int, headers: Mapping[str, str]) -> bool:
        """Open the part file for this answer: append on a matching 206, else start afresh.

        Returns False when the part file had to be dropped (HTTP 416, or the file is no longer
        the one this download wrote) and the request should be sent again without a range.
        """
        resumable = self._written
        if status == 206 and resumable and _range_start(headers) == resumable:
            if not self._reopen():  # the part was changed under us: ask for the whole file
                self.discard()
                return False
        elif status == 200:
            self._open()
        elif status == 416 and resumable:
            self.discard()
            return False
        else:
            self.discard()
            raise OutputError(f"download failed: HTTP {status}")
        length = headers.get("content-length")
        if length and length.isdigit() and self.size + int(length) > self.max_bytes:
            self.discard()
            raise OutputError(f"output is larger than the {self.max_bytes} byte limit")
        return True

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()  # removes a planted link itself, never the file it points to
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        self._file = os.fdopen(os.open(self.part, flags, 0o644), "wb")
        self._identity = _identity(self._file)
        self._hash = hashlib.sha256()
        self.size = self._written = 0
        self._synced = False

    def _reopen(self) -> bool:
        """Append to the part this download wrote, if it is still that very file."""
        try:
            fd = os.open(self.part, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)
        except OSError:
            return False
        file = os.fdopen(fd, "ab")
        if _identity(file) != self._identity or os.fstat(fd).st_size != self._written:
            file.close()
            return False
        self._file, self.size = file, self._written
        return True

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise RuntimeError("begin() must be called before write()")
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.discard()
            raise OutputError(f"output is larger than the {self.max_bytes} byte limit")
        self._hash.update(chunk)
        self._file.write(chunk)
        self._written = self.size
        self._synced = False

    def sync(self) -> None:
        """Flush what was written to the disk. The async client calls it in a worker thread,
        so that an fsync (milliseconds on a busy disk) never stalls its event loop."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._synced = True

    def pause(self) -> None:
        """Close the part file but keep it, so the next attempt can resume."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        self.pause()
        self._written = 0
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()

    def commit(self, *, overwrite: bool) -> Placed:
        """Flush to disk and move into place (or onto an identical copy already there)."""
        if self._file is None:
            self._open()  # an empty body
        assert self._file is not None
        if not self._synced:
            self._file.flush()
            os.fsync(self._file.fileno())
        self.pause()
        digest = self._hash.hexdigest()
        final = self.directory / self.name
        if overwrite:
            os.replace(self.part, final)
            return Placed(final, self.size, digest)
        twin = _identical_copy(final, self.size, digest)
        if twin is not None:
            self.part.unlink()
            return Placed(twin, self.size, digest, reused=True)
        return Placed(_place(self.part, final), self.size, digest)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, where links need privileges


def _identity(file: IO[bytes]) -> tuple[int, int]:
    status = os.fstat(file.fileno())
    return status.st_dev, status.st_ino


def _range_start(headers: Mapping[str, str]) -> int | None:
    match = re.match(r"bytes\s+(\d+)-", headers.get("content-range", ""))
    return int(match.group(1)) if match else None


def _numbered(final: Path, n: int) -> Path:
    return final if n == 0 else final.with_name(f"{final.stem}-{n}{final.suffix}")


def _identical_copy(final: Path, size: int, digest: str) -> Path | None:
    """The name (``final`` or one of its numbered copies) holding exactly these bytes, if any.

    Sizes are compared first, so only a file of the very same length is read and hashed.
    """
    for n in range(10_000):
        candidate = _numbered(final, n)
        try:
            status = candidate.lstat()
        except FileNotFoundError:
            return None  # numbered copies are claimed in order: none past the first gap
        same_size = stat.S_ISREG(status.st_mode) and status.st_size == size
        if same_size and _sha256_of(candidate) == digest:
            return candidate
    return None


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _place(tmp: Path, final: Path) -> Path:
    for n in range(10_000):
        candidate = _numbered(final, n)
        try:
            os.link(tmp, candidate)  # fails if the name is taken: no check-then-write race
        except FileExistsError:
            continue
        except OSError:
            if candidate.exists():
                continue
            os.replace(tmp, candidate)  # file systems without hard links
            return candidate
        tmp.unlink()
        return candidate
    raise OutputError(f"no free file name for {final.name} in {final.parent}")
