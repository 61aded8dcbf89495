"""Who may drive the control routes, and where a webhook may be delivered.

Any web page the user opens can send a "simple" cross-origin POST (``text/plain``, no
preflight) to 127.0.0.1, and a DNS-rebinding page reaches it under its own host name. So a
control request must name this machine (or the bound host) in ``Host``, carry no foreign
``Origin``, and send JSON when it is a POST. When a token is set (always, when the server
listens beyond this machine) it must carry ``X-Emulator-Token`` instead of a local ``Host``.
The server's own helpers do all that.

Webhooks are POSTed by the emulator itself, from this machine: one aimed at
``/__emulator__/`` would pass those checks, so such targets are refused outright, and
``webhook_allow`` (host or host:port entries) restricts the rest.
"""

from __future__ import annotations

import hmac
import ipaddress
import posixpath
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from starlette.requests import Request

CONTROL_PREFIX = "/__emulator__"
TOKEN_HEADER = "X-Emulator-Token"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class Refused(Exception):
    """A request the guard refuses: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, brackets allowed) means this machine only."""
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(authority: str) -> str:
    """``host`` of ``host:port`` or ``[v6]:port``, lower case."""
    if authority.startswith("["):
        return authority[1:].partition("]")[0].lower()
    return authority.rpartition(":")[0].lower() if ":" in authority else authority.lower()


class ControlGuard:
    """Checks one control request against the bound host, port and token."""

    def __init__(self, bound_host: str, port: int, token: str | None) -> None:
        self.port = port
        self.token = token
        bound = bound_host.strip("[]").lower()
        self.own_names = {bound} if bound not in ("0.0.0.0", "::", "") else set()

    def _is_own(self, name: str) -> bool:
        return is_loopback(name) or name in self.own_names

    def check(self, request: Request) -> None:
        """Raise :class:`Refused` unless the request may use a control route."""
        headers = request.headers
        if self.token is not None and not _same_secret(headers.get(TOKEN_HEADER), self.token):
            raise Refused(403, f"the control routes need the {TOKEN_HEADER} header")
        # A page cannot know the token, so with one any host name may be used (a wide bind
        # is reached by the machine's own names); without one, only this machine's names.
        if self.token is None and not self._is_own(_host_name(headers.get("host", ""))):
            raise Refused(403, "the Host header must name this machine (DNS rebinding?)")
        origin = headers.get("origin")
        if origin is not None and not self._is_own_origin(origin):
            raise Refused(403, f"requests from origin {origin[:100]!r} are not accepted")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise Refused(415, "control POSTs must send Content-Type: application/json")

    def _is_own_origin(self, origin: str) -> bool:
        parts = urlsplit(origin)
        try:
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        return parts.scheme in ("http", "https") and port == self.port and self._is_own(host)


def _same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def check_webhook_target(url: str, allow: Iterable[str]) -> None:
    """ValueError unless ``url`` may receive webhooks (never a control route of an emulator)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("webhookUrl must be an http(s) URL")
    if _normal_path(parts.path).startswith(CONTROL_PREFIX):
        raise ValueError("webhookUrl may not target the emulator's control routes")
    entries = [entry.lower() for entry in allow]
    if entries and not _allowed(parts.hostname.lower(), parts.port, entries):
        raise ValueError(f"webhookUrl host {parts.hostname!r} is not in the webhook allow-list")


def _normal_path(path: str) -> str:
    """The path a server would route: percent-decoded (repeatedly), dots and slashes folded."""
    for _ in range(5):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return posixpath.normpath("/" + path.replace("\\", "/")).replace("//", "/")


def _allowed(host: str, port: int | None, entries: list[str]) -> bool:
    for entry in entries:
        name = _host_name(entry) if entry.count(":") == 1 or entry.startswith("[") else entry
        if name.strip("[]") != host:
            continue
        if name == entry or entry.endswith(f":{port}"):
            return True
    return False
