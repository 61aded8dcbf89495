"""What the sync and the async client share: settings, operations, caches, overrides, uploads.

Nothing here touches the network. The two clients only differ in how they send a request
and how they sleep (see ``_client.py`` and ``_async_client.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import httpx

from . import __version__
from ._answers import (
    parse_account,
    parse_app_inputs,
    parse_graph,
    parse_nothing,
    parse_queue_status,
    parse_upload,
    parse_webhook_detail,
)
from ._config import (
    Settings,
    insecure_transport_warning,
    install_log_redaction,
    mask_key,
    resolve_settings,
)
from ._errors import InvalidRequestError
from ._models import Account, NodeOverride, QueueStatus, Task, Upload, WebhookDetail
from ._policy import Failure, PollPolicy, RetryPolicy, RetryState
from ._protocol import (
    ENDPOINTS,
    Answer,
    Operation,
    UploadBody,
    build_request,
    decode_body,
    fingerprint,
    parse_outputs,
    parse_submit,
    parse_task,
)
from ._uploads import UploadSource, open_upload
from .workflow import FieldKind, OverridesLike, WorkflowGraph, normalize_overrides

__all__ = ["GRAPH_TTL", "BaseClient", "GraphCache", "UploadSource", "open_upload"]

T = TypeVar("T")
WorkflowJSON: TypeAlias = Mapping[str, Any] | str

logger = logging.getLogger("runninghub")

GRAPH_TTL = 600.0
INSTANCES = ("default", "plus")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BaseClient:
    """Configuration and the pure half of every operation."""

    def __init__(
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
    ) -> None:
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
        self._rng = random.Random()
        self._graphs = GraphCache(self._settings)

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
            chosen, op.endpoint.retry, what=op.what, fingerprint=op.fingerprint, rng=self._rng
        )

    def _interpret(self, op: Operation[T], answer: Answer) -> T:
        logger.debug("<- HTTP %d for %s (%d bytes)", answer.status, op.what, len(answer.content))
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

    @staticmethod
    def _httpx_kwargs(op: Operation[Any]) -> dict[str, Any]:
        spec = op.request
        kwargs: dict[str, Any] = {"headers": spec.headers, "params": spec.params}
        if spec.upload is not None:
            up = spec.upload
            kwargs["files"] = {"file": (up.file_name, up.stream, up.content_type)}
        elif spec.json is not None:
            kwargs["json"] = spec.json
        return kwargs

    # ---------------------------------------------------------------- operations

    def _op(
        self,
        name: str,
        parse: Callable[[Any], T],
        what: str,
        *,
        path_id: str | None = None,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        upload: UploadBody | None = None,
        print_id: str | None = None,
        task_id: str | None = None,
    ) -> Operation[T]:
        endpoint = ENDPOINTS[name]
        spec = build_request(
            endpoint,
            self._settings.api_key,
            path_id=path_id,
            body=body,
            params=params,
            upload=upload,
        )
        return Operation(endpoint, spec, parse, what, fingerprint=print_id, task_id=task_id)

    def _op_query(self, task_id: str) -> Operation[Task]:
        tid = _task_id(task_id)
        return self._op(
            "query",
            lambda body: parse_task(body, task_id=tid),
            f"query of task {tid}",
            body={"taskId": tid},
            task_id=tid,
        )

    def _op_outputs(self, task_id: str) -> Operation[Task]:
        tid = _task_id(task_id)
        return self._op(
            "outputs",
            lambda body: parse_outputs(body, task_id=tid),
            f"outputs of task {tid}",
            body={"taskId": tid},
            task_id=tid,
        )

    def _op_cancel(self, task_id: str) -> Operation[None]:
        tid = _task_id(task_id)
        return self._op(
            "cancel",
            lambda body: parse_nothing(body, task_id=tid),
            f"cancel of task {tid}",
            body={"taskId": tid},
            task_id=tid,
        )

    def _op_account(self) -> Operation[Account]:
        return self._op("account", parse_account, "account status", body={})

    def _op_queue_status(self) -> Operation[QueueStatus]:
        return self._op("queue_status", parse_queue_status, "queue status")

    def _op_graph(self, workflow_id: str) -> Operation[dict[str, Any]]:
        return self._op(
            "workflow_graph",
            parse_graph,
            f"graph of workflow {workflow_id}",
            body={"workflowId": workflow_id},
        )

    def _op_app_inputs(self, app_id: str) -> Operation[Any]:
        """The apiCallDemo body, checked (it is cached as is and parsed on each use)."""
        return self._op(
            "app_inputs", _checked_app_body, f"inputs of app {app_id}", params={"webappId": app_id}
        )

    def _op_webhook_detail(self, task_id: str) -> Operation[WebhookDetail]:
        tid = _task_id(task_id)
        return self._op(
            "webhook_detail",
            lambda body: parse_webhook_detail(body, task_id=tid),
            f"webhook detail of task {tid}",
            body={"taskId": tid},
            task_id=tid,
        )

    def _op_retry_webhook(self, webhook_id: str, webhook_url: str) -> Operation[None]:
        url = _webhook_url(webhook_url)
        return self._op(
            "retry_webhook",
            parse_nothing,
            f"webhook retry {webhook_id}",
            body={"webhookId": str(webhook_id), "webhookUrl": url},
        )

    def _op_upload(self, body: UploadBody) -> Operation[Upload]:
        return self._op("upload", parse_upload, f"upload of {body.file_name}", upload=body)

    def _op_submit_workflow(
        self,
        workflow_id: str,
        items: list[NodeOverride],
        *,
        workflow_json: WorkflowJSON | None,
        webhook_url: str | None,
        instance: str,
        add_metadata: bool,
    ) -> Operation[Task]:
        node_info = [item.to_wire() for item in items]
        body: dict[str, Any] = {
            "nodeInfoList": node_info,
            "addMetadata": bool(add_metadata),
            "instanceType": _instance(instance),
        }
        graph_text = _workflow_text(workflow_json)
        if graph_text is not None:
            body["workflow"] = graph_text
        if webhook_url is not None:
            body["webhookUrl"] = _webhook_url(webhook_url)
        return self._op(
            "submit_workflow",
            parse_submit,
            f"submit of workflow {workflow_id}",
            path_id=workflow_id,
            body=body,
            print_id=fingerprint("workflow", workflow_id, node_info, graph_text),
        )

    def _op_submit_app(
        self, app_id: str, items: list[NodeOverride], *, webhook_url: str | None, instance: str
    ) -> Operation[Task]:
        node_info = [item.to_wire() for item in items]
        body: dict[str, Any] = {"nodeInfoList": node_info, "instanceType": _instance(instance)}
        if webhook_url is not None:
            body["webhookUrl"] = _webhook_url(webhook_url)
        return self._op(
            "submit_app",
            parse_submit,
            f"submit of app {app_id}",
            path_id=app_id,
            body=body,
            print_id=fingerprint("app", app_id, node_info),
        )

    # ---------------------------------------------------------------- overrides

    def _validating(self, validate: bool | None, overrides: OverridesLike) -> bool:
        """Whether to check ``overrides`` against the graph (only when there are any)."""
        wanted = self.validate if validate is None else validate
        return bool(wanted) and bool(normalize_overrides(overrides))


def materialize(overrides: OverridesLike) -> OverridesLike:
    """Overrides as a re-readable collection (a generator would be used up by one look)."""
    if overrides is None or isinstance(overrides, Mapping):
        return overrides
    return list(overrides)


def _checked_app_body(body: Any) -> Any:
    parse_app_inputs(body)
    return body


def plan_overrides(overrides: OverridesLike, graph: WorkflowGraph | None) -> list[NodeOverride]:
    """Resolve and check the overrides against the graph, or take them as given.

    With a graph, a text value of a media field that names an existing local file (not a
    URL) becomes a ``Path``, so that it is uploaded like one.
    """
    if graph is None:
        items = normalize_overrides(overrides)
        return [NodeOverride(node, name, value) for node, name, value in items]
    return [_promote_local_path(item, graph) for item in graph.prepare(overrides)]


def _promote_local_path(item: NodeOverride, graph: WorkflowGraph) -> NodeOverride:
    value = item.value
    if not isinstance(value, str) or "://" in value or not value.strip():
        return item
    if graph.resolve(f"{item.node_id}.{item.field}").kind is not FieldKind.MEDIA:
        return item
    path = Path(value).expanduser()
    return NodeOverride(item.node_id, item.field, path) if path.is_file() else item


def local_files(items: list[NodeOverride]) -> dict[int, Path]:
    """Overrides whose value is a local file to upload first (index -> path)."""
    found = {}
    for index, item in enumerate(items):
        if isinstance(item.value, Path):
            if not item.value.is_file():
                raise InvalidRequestError(
                    f"{item.node_id}.{item.field}: no such file {str(item.value)!r}"
                )
            found[index] = item.value
    return found


def with_uploads(items: list[NodeOverride], names: Mapping[int, str]) -> list[NodeOverride]:
    return [
        NodeOverride(item.node_id, item.field, names[index]) if index in names else item
        for index, item in enumerate(items)
    ]


def graph_from_json(workflow_json: WorkflowJSON | None) -> WorkflowGraph | None:
    return None if workflow_json is None else WorkflowGraph.from_api_format(workflow_json)


def check_id(value: str | int, what: str) -> str:
    """An id that goes into a URL path: digits, letters, ``_`` and ``-`` only."""
    text = str(value).strip()
    if isinstance(value, bool) or not _ID.fullmatch(text):
        raise InvalidRequestError(f"{what} {str(value)[:80]!r} is not a valid id")
    return text


def _task_id(value: str | int) -> str:
    text = str(value).strip()
    if not text or isinstance(value, bool):
        raise InvalidRequestError("a task id is required")
    return text


def _instance(value: str) -> str:
    if value not in INSTANCES:
        raise InvalidRequestError(f"instance must be 'default' or 'plus', not {value!r}")
    return value


def _webhook_url(value: str) -> str:
    if not str(value).startswith(("http://", "https://")):
        raise InvalidRequestError(f"the webhook URL must be http(s), not {str(value)[:80]!r}")
    return str(value)


def _workflow_text(workflow_json: WorkflowJSON | None) -> str | None:
    if workflow_json is None:
        return None
    if isinstance(workflow_json, str):
        return workflow_json
    return json.dumps(workflow_json, ensure_ascii=False, separators=(",", ":"))


# -------------------------------------------------------------------- graph cache

_MEMORY: dict[str, tuple[float, Any]] = {}
_MEMORY_LOCK = threading.Lock()


class GraphCache:
    """Workflow graphs and app inputs, kept for ``ttl`` seconds in memory and on disk.

    Entries are keyed by base URL, a short hash of the key (accounts see different
    workflows), kind and id; the disk copy lives in ``<config dir>/cache/graphs``.
    """

    def __init__(self, settings: Settings, ttl: float = GRAPH_TTL) -> None:
        self._base = settings.base_url
        self._account = hashlib.sha256(settings.api_key.encode()).hexdigest()[:12]
        self._dir = settings.cache_dir / "graphs"
        self.ttl = ttl

    def _key(self, kind: str, ident: str) -> str:
        return f"{self._base}|{self._account}|{kind}|{ident}"

    def _file(self, key: str) -> Path:
        return self._dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, kind: str, ident: str) -> Any | None:
        key = self._key(kind, ident)
        now = time.time()
        with _MEMORY_LOCK:
            hit = _MEMORY.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        stored = self._read(key)
        if stored is not None and now - stored[0] < self.ttl:
            with _MEMORY_LOCK:
                _MEMORY[key] = stored
            return stored[1]
        return None

    def put(self, kind: str, ident: str, data: Any) -> None:
        key = self._key(kind, ident)
        saved_at = time.time()
        with _MEMORY_LOCK:
            _MEMORY[key] = (saved_at, data)
        self._write(key, {"key": key, "saved_at": saved_at, "data": data})

    def _read(self, key: str) -> tuple[float, Any] | None:
        try:
            document = json.loads(self._file(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # no copy, or an unreadable one: fetch again
        if not isinstance(document, dict) or document.get("key") != key:
            return None
        saved_at = document.get("saved_at")
        if not isinstance(saved_at, (int, float)):
            return None
        return float(saved_at), document.get("data")

    def _write(self, key: str, document: dict[str, Any]) -> None:
        path = self._file(key)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".graph-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.replace(tmp, path)
        except OSError as exc:  # the disk copy is an optimisation only
            logger.debug("graph cache not written: %s", exc.strerror)
