"""Uploads: a streaming multipart reader, content-addressed storage and signed URLs.

The file part is hashed and written to disk while it arrives; past the size limit the rest
is drained and discarded, so a 100 MB body never sits in memory. Text fields and part
headers share one budget (``max_form_text``), and a key is checked as soon as it has arrived:
a bad one ends the reading there and then. Names follow the
service: ``api/<sha256>.<ext>`` (legacy), ``openapi/<sha256>.<ext>`` (v2), the bare hash for
a ZIP. The v2 ``download_url`` is signed like a COS URL and expires after 24 emulated hours.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .clock import EmulatedClock
from .options import MAX_FORM_TEXT
from .storage import FileStore, StateDB
from .wire import ApiProblem, Problem

_KINDS = {
    "image": {"png", "jpg", "jpeg", "webp", "gif", "bmp"},
    "video": {"mp4", "avi", "mov", "mkv", "webm"},
    "audio": {"mp3", "wav", "flac", "ogg", "m4a"},
    "zip": {"zip"},
}
_MAGIC = (
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"PK\x03\x04", "zip"),
    (b"ID3", "mp3"),
    (b"fLaC", "flac"),
)
MAX_TEXT_FIELD = 64 * 1024
# Room for the boundaries and part headers around the file and the text budget.
_FRAMING_ALLOWANCE = 64 * 1024
KeyCheck = Callable[[str], bool]


def kind_of(ext: str) -> str:
    return next((kind for kind, exts in _KINDS.items() if ext in exts), "file")


def _extension(filename: str, head: bytes) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix.isalnum() and 0 < len(suffix) <= 5:
        return "jpg" if suffix == "jpeg" else suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _MAGIC if head.startswith(magic)), "bin")


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)


@dataclass
class ReceivedFile:
    path: Path
    sha256: str
    size: int
    ext: str


@dataclass
class ReceivedForm:
    """The text fields of a multipart body and its ``file`` part (None when absent)."""

    fields: dict[str, str] = field(default_factory=dict)
    file: ReceivedFile | None = None
    too_large: bool = False

    def discard(self) -> None:
        if self.file is not None:
            self.file.path.unlink(missing_ok=True)
            self.file = None


class _FormSink:
    """python-multipart callbacks writing the ``file`` part to disk as it arrives."""

    def __init__(
        self, files: FileStore, limit: int, text_limit: int, authorize: KeyCheck | None
    ) -> None:
        self.files, self.limit = files, limit
        self.text_budget = text_limit
        self.authorize = authorize
        self.form = ReceivedForm()
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.hasher = hashlib.sha256()
        self.head = b""
        self.descriptor: int | None = None
        self.path: Path | None = None
        self.size = 0
        self.writing = False
        self.file_seen = False

    def callbacks(self) -> dict[str, Any]:
        """python-multipart's callbacks: each ``on_*`` method, under its own name."""
        return {name: getattr(self, name) for name in dir(type(self)) if name.startswith("on_")}

    def on_part_begin(self) -> None:
        self.part, self.disposition = _Part(), b""

    def _spend(self, size: int) -> None:
        """Count text (part headers, text fields) against the form's budget."""
        self.text_budget -= size
        if self.text_budget < 0:
            raise ApiProblem(Problem.BAD_REQUEST, "the form text is over the emulator's limit")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._spend(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._spend(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            self.part.filename = options[b"filename"].decode("utf-8", "replace")
        # Only the first "file" part is kept; any other file part is drained unread.
        self.writing = self.part.name == "file" and not self.file_seen
        if self.writing:
            self.file_seen = True
            self.descriptor, self.path = self.files.new_temp_file()

    def _is_text(self) -> bool:
        return self.part.name != "file" and self.part.filename is None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.writing:
            self._write(chunk)
        elif self._is_text():
            if len(self.part.text) + len(chunk) > MAX_TEXT_FIELD:
                raise ApiProblem(Problem.BAD_REQUEST, f"form field {self.part.name} too long")
            self._spend(len(chunk))
            self.part.text.extend(chunk)

    def _write(self, chunk: bytes) -> None:
        if self.descriptor is None:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            self.close()
            self.form.too_large = True
            return
        if len(self.head) < 16:
            self.head += chunk[:16]
        self.hasher.update(chunk)
        os.write(self.descriptor, chunk)

    def on_part_end(self) -> None:
        if self.writing:
            self.writing = False
            if self.descriptor is not None and self.path is not None:
                os.close(self.descriptor)
                self.descriptor = None
                ext = _extension(self.part.filename or "", self.head)
                self.form.file = ReceivedFile(self.path, self.hasher.hexdigest(), self.size, ext)
                self.path = None
        elif self._is_text():
            value = self.part.text.decode("utf-8", "replace")
            self.form.fields.setdefault(self.part.name, value)
            if self.part.name == "apiKey" and self.authorize is not None:
                if not self.authorize(value.strip()):  # stop reading a stranger's form now
                    raise ApiProblem(Problem.BAD_KEY)
                self.authorize = None

    def close(self) -> None:
        """Forget a file part still being written (too large, or a broken body)."""
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


async def receive_form(
    request: Request,
    files: FileStore,
    limit: int,
    *,
    text_limit: int = MAX_FORM_TEXT,
    authorize: KeyCheck | None = None,
) -> ReceivedForm:
    """Read a multipart body, streaming its ``file`` part to a temporary file.

    ``authorize`` checks an ``apiKey`` text field as soon as it ends (ApiProblem BAD_KEY).
    The rest of a refused body is not read: the server discards it after the answer.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiProblem(Problem.BAD_REQUEST, "expected multipart/form-data with a file part")
    sink = _FormSink(files, limit, text_limit, authorize)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())  # type: ignore[arg-type]
    body_limit = limit + text_limit + _FRAMING_ALLOWANCE
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise ApiProblem(Problem.FILE_TOO_LARGE, f"limit {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except ApiProblem:
        sink.close()
        sink.form.discard()
        raise
    except Exception:
        sink.close()
        sink.form.discard()
        raise ApiProblem(Problem.BAD_REQUEST, "malformed multipart body") from None
    sink.close()
    return sink.form


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    ext: str
    size: int
    created_at: float

    @property
    def kind(self) -> str:
        return kind_of(self.ext)

    @property
    def stored_name(self) -> str:
        """The bare name: ``<sha>.<ext>``, or just the hash for a ZIP image pack."""
        return self.sha256 if self.ext == "zip" else f"{self.sha256}.{self.ext}"

    def public_name(self, prefix: str) -> str:
        return self.sha256 if self.ext == "zip" else f"{prefix}/{self.stored_name}"


class UploadStore:
    """Content-addressed uploads; resolves the names and URLs a loader node may be given."""

    def __init__(self, files: FileStore, db: StateDB, clock: EmulatedClock, secret: bytes) -> None:
        self.files, self.db, self.clock, self.secret = files, db, clock, secret
        self.by_name: dict[str, StoredUpload] = {}
        for document in db.all("uploads"):
            upload = StoredUpload(**document)
            self.by_name[upload.stored_name] = upload

    def register(self, received: ReceivedFile) -> StoredUpload:
        upload = StoredUpload(received.sha256, received.ext, received.size, self.clock.now())
        target = self.files.uploads / upload.stored_name
        if target.exists():
            received.path.unlink(missing_ok=True)
        else:
            os.replace(received.path, target)
        self.by_name[upload.stored_name] = upload
        self.db.put("uploads", upload.stored_name, asdict(upload))
        return upload

    def path_of(self, upload: StoredUpload) -> Path:
        return self.files.uploads / upload.stored_name

    def signed_path(self, upload: StoredUpload, ttl: float) -> str:
        """``/files/openapi/<name>?...q-sign-time=<t0>;<t1>&q-signature=...`` (``ttl`` s)."""
        start = int(self.clock.now())
        window = f"{start};{start + int(ttl)}"
        path = f"/files/openapi/{upload.stored_name}"
        query = {
            "q-sign-algorithm": "sha1",
            "q-sign-time": window,
            "q-signature": self._sign(path, window),
        }
        return f"{path}?{urlencode(query)}"

    def _sign(self, path: str, window: str) -> str:
        return hmac.new(self.secret, f"{path}|{window}".encode(), hashlib.sha1).hexdigest()

    def verify(self, path: str, query: str) -> StoredUpload:
        """The upload a signed path names; ValueError("expired"/"signature") otherwise."""
        params = parse_qs(query)
        window = params.get("q-sign-time", [""])[0]
        signature = params.get("q-signature", [""])[0]
        # Bytes, not str: compare_digest refuses non-ASCII text with a TypeError.
        expected = self._sign(path, window).encode()
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), expected):
            raise ValueError("SignatureDoesNotMatch")
        _, _, end = window.partition(";")
        if not (end.isascii() and end.isdigit()) or self.clock.now() > int(end):
            raise ValueError("Request has expired")
        upload = self.lookup(path.rsplit("/", 1)[-1])
        if upload is None:
            raise FileNotFoundError(path)
        return upload

    def lookup(self, name: str) -> StoredUpload | None:
        """An upload by any of its names: ``api/x.png``, ``openapi/x.png``, ``x.png``, hash."""
        bare = name.strip()
        for prefix in ("api/", "openapi/"):
            if bare.startswith(prefix):
                bare = bare[len(prefix) :]
        return self.by_name.get(bare)
