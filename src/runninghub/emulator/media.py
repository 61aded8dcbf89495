"""Media URLs given to a loader node: this emulator's own files, or an allowed outside host.

The service hands out URLs on its own file hosts whatever ``Host`` a client sent, and takes
them back as inputs (the seed sends an upload's ``download_url`` as ``LoadImage.image``).
So an own URL is recognised by its path (and, for an upload, its signature), never by the
host and port it names: behind a proxy, a TLS front or a port map those are someone else's.
Any other URL is fetched only from the hosts the user allowed (``fetch_hosts``); the
emulator stays offline by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import httpx

from .uploads import UploadStore

# The end of an own file's path, after any prefix a public URL adds.
_OWN_PATH = re.compile(r"/(?:files/openapi/[^/]+|outputs/(?P<task>[0-9]{1,25})/(?P<name>[^/]+))$")
FETCH_TIMEOUT = 10.0

OutputPath = Callable[[str, str], Path | None]


def own_file(url: str, uploads: UploadStore, output_path: OutputPath) -> Path | None:
    """The local file an emulator URL names, None when the URL is not one of ours.

    Raises ValueError when it is an upload URL whose signature is wrong or expired.
    """
    parts = urlsplit(url)
    match = _OWN_PATH.search(parts.path)
    if match is None:
        return None
    if match.group("task") is None:
        return uploads.path_of(uploads.verify(match.group(0), parts.query))
    return output_path(match.group("task"), match.group("name"))


def host_allowed(parts: SplitResult, allowed: tuple[str, ...]) -> bool:
    """Is the URL's host (or host:port) among the allowed ones?"""
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        return False
    shown = f"[{host}]" if ":" in host else host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return shown in allowed or f"{shown}:{port}" in allowed


def fetch_outside(url: str, limit: int) -> bytes:
    """GET an allowed URL: no redirects, no proxies from the environment, at most ``limit``."""
    try:
        return _get(url, limit)
    except httpx.HTTPError as error:
        raise FileNotFoundError(f"cannot fetch {url}: {type(error).__name__}") from None


def _get(url: str, limit: int) -> bytes:
    with (
        httpx.Client(trust_env=False, follow_redirects=False, timeout=FETCH_TIMEOUT) as client,
        client.stream("GET", url) as answer,
    ):
        if answer.status_code != 200:
            raise FileNotFoundError(f"cannot fetch {url}: HTTP {answer.status_code}")
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise ValueError(f"{url} is larger than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
