"""Finding a key's site: the two RunningHub sites do not share keys, so a key refused as
unknown on one is asked about once on the other (see ``runninghub._config``).

Pure bookkeeping, no I/O of its own: the call flow asks ``addressed`` where to send an
operation, tells ``try_other`` of each refusal and ``accepted`` of each answer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ._config import Settings, remember_site
from ._errors import APIError, AuthenticationError
from ._protocol import Operation

__all__ = ["SiteFallback"]

T = TypeVar("T")
logger = logging.getLogger("runninghub")

# The refusals of a key the site does not know, which is how a key of the other site fails
# (runninghub-api.md: "the two sites are separate worlds"); nothing was created by them.
_UNKNOWN_KEY_CODES = frozenset({"-1", "401", "802", "806", "1002"})


def _unknown_key(exc: APIError) -> bool:
    return isinstance(exc, AuthenticationError) and exc.code in _UNKNOWN_KEY_CODES


class SiteFallback:
    """Which site the client talks to now, and the one question to the other site."""

    def __init__(self, settings: Settings, on_switch: Callable[[Settings], None]) -> None:
        self._home = self._settings = settings  # the transport was opened for ``_home``
        self._on_switch = on_switch
        self._asked = False
        self._refused: APIError | None = None  # the home site's refusal, while asking away

    def addressed(self, op: Operation[T]) -> Operation[T]:
        """``op`` as sent now: to the other site's address once the client moved there."""
        path = op.request.path
        if self._settings is self._home or path.startswith(("http://", "https://")):
            return op
        request = dataclasses.replace(op.request, path=self._settings.base_url + path)
        return dataclasses.replace(op, request=request)

    def try_other(self, exc: APIError, sent: Operation[Any], op: Operation[Any]) -> bool:
        """Whether to send ``op`` again (to the other site); raises the home site's refusal
        when the other site refused the key too."""
        if not _unknown_key(exc):
            return False
        if sent is not op:  # refused away as well: the key is wrong, not misplaced
            refused, self._refused = self._refused, None
            if refused is None:
                return False
            self._move(self._home)
            raise refused
        if self._asked:  # another call already moved the client: send this one there too
            return self._settings is not self._home
        other = self._settings.other_site()
        if other is None:
            return False
        self._asked, self._refused = True, exc
        logger.info("the key was refused on %s; asking %s once", self._settings.site, other)
        url = self._home.site_urls[other]
        self._move(dataclasses.replace(self._settings, site=other, base_url=url))
        return True

    def accepted(self) -> None:
        """An answer came: if it came from the other site, remember it for this key."""
        if self._refused is None:
            return
        self._refused = None
        settings = self._settings
        try:
            remember_site(settings.config_dir, settings.api_key, settings.site)
        except OSError as exc:  # remembering saves a request next time; it is not needed
            logger.debug("the key's site was not remembered: %s", exc.strerror)

    def _move(self, settings: Settings) -> None:
        self._settings = settings
        self._on_switch(settings)
