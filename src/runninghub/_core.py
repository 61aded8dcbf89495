"""The state both client faces share: settings, policies, the graph cache, retry plumbing.

Nothing here touches the network. The faces (``_client.py``, ``_async_client.py``) open the
HTTP transport and drive the flows of ``_flows.py`` over it.
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any, TypeVar

import httpx

from ._catalogue import Catalogue, load_catalogue
from ._checks import check_id
from ._config import Settings, insecure_transport_warning, resolve_settings
from ._errors import InvalidRequestError
from ._fields import closest, did_you_mean
from ._graph_cache import GraphCache
from ._operations import Operations
from ._policy import Failure, PollPolicy, RetryPolicy, RetryState
from ._presets import Preset, load_presets
from ._protocol import Answer, Family, Operation, decode_body
from ._queue_wait import QueueFullCallback
from ._recording import Recorder
from ._redaction import install_log_redaction, mask_key
from ._site_fallback import SiteFallback
from ._version import __version__
from .journal import Journal
from .workflow import OverridesLike, normalize_overrides

__all__ = ["ClientCore", "check_id"]

T = TypeVar("T")

logger = logging.getLogger("runninghub")


class ClientCore(Operations):
    """What both faces hold: settings, policies, the graph cache, and the send/parse hooks.

    The constructor is the faces' constructor; each face opens its own HTTP transport in
    ``_open_transport``.
    """

    def __init__(  # noqa: PLR0913 - the public constructor: settings as keywords
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        site: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        config_dir: str | os.PathLike[str] | None = None,
        validate: bool = True,
        catalogue: str | os.PathLike[str] | None = None,
        journal: Journal | bool | None = None,
        upload_cache: bool = True,
        on_queue_full: QueueFullCallback | None = None,
    ) -> None:
        self._catalogue_path = catalogue
        self._loaded_catalogue: Catalogue | None = None
        self._settings = resolve_settings(
            api_key, base_url=base_url, site=site, config_dir=config_dir
        )
        install_log_redaction()
        insecure = insecure_transport_warning(self._settings.base_url)
        if insecure is not None:
            logger.warning(insecure)
        self.retry_policy = retry or RetryPolicy()
        self.poll_policy = poll or PollPolicy()
        self.validate = validate
        self.timeout = timeout
        self.on_queue_full = on_queue_full
        self._rng = random.Random()
        self._graphs = GraphCache(self._settings)
        self._owns_journal = journal is True
        opened = Journal.open() if journal is True else journal or None
        self._recorder = Recorder(opened, self._settings, upload_cache=upload_cache)
        self._sites = SiteFallback(self._settings, self._use_site)
        self._open_transport(self._http_options())

    def _use_site(self, settings: Settings) -> None:
        """Talk to another site from now on (the key was found to belong there)."""
        self._settings = settings
        self._graphs = GraphCache(settings)  # graphs are the site's own
        self._recorder.use_settings(settings)

    @property
    def catalogue(self) -> Catalogue:
        """The model catalogue this client checks models against (its ``version`` too)."""
        return self._catalogue()

    def _catalogue(self) -> Catalogue:
        """The model catalogue, read on first use (``catalogue``, else the environment's,
        else the shipped one)."""
        if self._loaded_catalogue is None:
            self._loaded_catalogue = load_catalogue(self._catalogue_path)
        return self._loaded_catalogue

    @property
    def journal(self) -> Journal | None:
        """The journal this client records its submits in (None: not recording)."""
        return self._recorder.journal

    def _close_journal(self) -> None:
        if self._owns_journal and self._recorder.journal is not None:
            self._recorder.journal.close()

    def _open_transport(self, options: dict[str, Any]) -> None:
        raise NotImplementedError  # each face opens its own httpx client

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def site(self) -> str:
        return self._settings.site

    def __repr__(self) -> str:
        key = mask_key(self._settings.api_key)
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key!r})"

    def _http_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            "follow_redirects": False,
            "headers": {"User-Agent": f"runninghub-python/{__version__}"},
        }

    # ---------------------------------------------------------------- one call, retried

    def _retry_state(self, op: Operation[Any], policy: RetryPolicy | None = None) -> RetryState:
        chosen = policy or self.retry_policy
        if op.request.upload is not None and op.request.upload.start is None:
            chosen = RetryPolicy.never()  # a stream that cannot rewind cannot be sent twice
        return RetryState(
            chosen, op.endpoint.retry, what=op.what, input_hash=op.input_hash, rng=self._rng
        )

    def _interpret(self, op: Operation[T], answer: Answer) -> T:
        logger.debug("<- HTTP %d for %s (%d bytes)", answer.status, op.what, len(answer.content))
        if op.endpoint.family is Family.STORAGE:
            return op.parse(answer)  # a storage answer: its parser reads the status itself
        return op.parse(decode_body(answer, self._settings.api_key))

    def _before_send(self, op: Operation[Any], state: RetryState) -> None:
        if op.request.upload is not None:
            op.request.upload.rewind()
        logger.debug("-> %s (attempt %d)", op.request.describe(), state.attempts)

    def _next_delay(self, state: RetryState, failure: Failure) -> float:
        delay = state.next_delay(failure)  # raises when giving up
        logger.info(
            "%s failed (%s); retrying in %.2f s", state.what, failure.detail or failure.kind, delay
        )
        return delay

    def _validating(self, validate: bool | None, overrides: OverridesLike) -> bool:
        """Whether to check ``overrides`` against the graph (only when there are any)."""
        wanted = self.validate if validate is None else validate
        return bool(wanted) and bool(normalize_overrides(overrides))

    def _presets(self, presets_file: str | os.PathLike[str] | None) -> dict[str, Preset]:
        return load_presets(presets_file, self._settings.config_dir)

    def _preset(self, name: str, presets_file: str | os.PathLike[str] | None) -> Preset:
        found = self._presets(presets_file)
        if name not in found:
            names = sorted(found)
            raise InvalidRequestError(
                f"no preset named {name!r}",
                code=None,
                hint=did_you_mean(closest(name, names)) or "list them with: runninghub preset list",
            )
        return found[name]
