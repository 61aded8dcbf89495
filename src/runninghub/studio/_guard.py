"""Who may talk to the studio: the browser that opened the printed address, and no one else.

- the server binds to loopback only (the command never offers another host);
- every request carries the access token: once as ``?token=`` in the printed address, which
  sets an HttpOnly ``SameSite=Strict`` cookie and redirects to the same page without it;
- the ``Host`` header must name this server (``127.0.0.1:PORT`` or ``localhost:PORT``), which
  stops DNS-rebinding pages that reach loopback under a name of their own;
- an ``Origin`` header, when sent, must be this server's own, and so must ``Sec-Fetch-Site``;
- a state-changing request (anything but GET and HEAD) also needs the ``X-Studio-CSRF``
  header holding the page's anti-forgery token, which a cross-site form cannot set.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["COOKIE", "CSRF_HEADER", "StudioGuard"]

COOKIE = "rh_studio"
CSRF_HEADER = "x-studio-csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_SAME_SITE_FETCH = frozenset({"same-origin", "none"})


@dataclass
class StudioGuard:
    """The tokens of one studio process; ``port`` is set once the server is bound."""

    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts())

    def address(self) -> str:
        """What the command prints: the page with the one-time token."""
        return f"http://127.0.0.1:{self.port}/?{urlencode({'token': self.token})}"

    def refusal(self, scope: Scope, headers: dict[str, str], query_token: str | None) -> str | None:
        """Why this request is refused (one line), or None when it may go on."""
        if headers.get("host", "") not in self.hosts():
            return "unknown Host: open the address that runninghub studio printed"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins():
            return "cross-origin request refused"
        if headers.get("sec-fetch-site", "none") not in _SAME_SITE_FETCH:
            return "cross-site request refused"
        if not (_same(query_token, self.token) or _same(_cookie(headers), self.token)):
            return "no studio token: open the address that runninghub studio printed"
        if scope["method"] not in _SAFE_METHODS and not _same(headers.get(CSRF_HEADER), self.csrf):
            return "missing or wrong anti-forgery token: reload the page"
        return None


class GuardMiddleware:
    """Applies ``StudioGuard`` to every HTTP request before any route sees it."""

    def __init__(self, app: ASGIApp, guard: StudioGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        url = URL(scope=scope)
        query_token = QueryParams(url.query).get("token")
        reason = self.guard.refusal(scope, headers, query_token)
        if reason is not None:
            status = 401 if "token" in reason and "forgery" not in reason else 403
            await PlainTextResponse(reason, status_code=status)(scope, receive, send)
            return
        if query_token is not None:
            await self._set_cookie(url)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _set_cookie(self, url: URL) -> Response:
        """Trade the token in the address for a cookie, and drop it from the address bar."""
        rest = [(k, v) for k, v in QueryParams(url.query).multi_items() if k != "token"]
        target = url.path + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, self.guard.token, httponly=True, samesite="strict", path="/")
        return response


def _cookie(headers: dict[str, str]) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
