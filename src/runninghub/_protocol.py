"""The wire protocol, without I/O: endpoints, request building and response parsing.

Two API families live side by side (see the contract): the legacy family wraps every answer in
``{code, msg, data}`` and takes the key in the body; the v2 family takes a Bearer header and
returns task objects flat (``{taskId, status, errorCode, ...}``) but wraps upload and queue
answers. Everything here is tolerant where the contract says the service varies: both
envelopes, status case, result aliases, failure reports as objects or strings, ``msg`` or
``message``, and string-typed numbers.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar
from urllib.parse import quote

from ._errors import (
    APIError,
    APIResponseError,
    AuthenticationError,
    CapacityError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    error_for_code,
)
from ._models import Output, Task, TaskFailure, TaskStatus, Usage
from ._redaction import redact_data, redact_secrets

__all__ = [
    "ENDPOINTS",
    "MAX_ANSWER_BYTES",
    "Answer",
    "AnswerReader",
    "Endpoint",
    "Family",
    "Operation",
    "RequestSpec",
    "RetryClass",
    "UploadBody",
    "build_request",
    "decode_body",
    "fingerprint",
    "parse_failure",
    "parse_outputs",
    "parse_results",
    "parse_submit",
    "parse_task",
    "unwrap",
]

T = TypeVar("T")


class Family(enum.Enum):
    LEGACY = "legacy"  # /task/openapi, /api/..., /uc/openapi: key in the body, {code,msg,data}
    V2 = "v2"  # /openapi/v2: Bearer only


class RetryClass(enum.Enum):
    """How a failed call may be repeated (the policy module decides the details)."""

    SAFE = "safe"  # reading, or idempotent: repeat on any transient failure
    CREATES = "creates"  # creates a task (bills): repeat only when nothing can have been created
    UNSAFE = "unsafe"  # a side effect that is not billed: repeat only when it was never received


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    family: Family
    retry: RetryClass
    key_field: str | None = None  # where the legacy family wants the key in the body


_L, _V2 = Family.LEGACY, Family.V2
_SAFE, _CREATES, _UNSAFE = RetryClass.SAFE, RetryClass.CREATES, RetryClass.UNSAFE

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("submit_workflow", "POST", "/openapi/v2/run/workflow/{id}", _V2, _CREATES),
        Endpoint("submit_app", "POST", "/openapi/v2/run/ai-app/{id}", _V2, _CREATES),
        Endpoint("query", "POST", "/openapi/v2/query", _V2, _SAFE),
        # Uploads are named by content hash on the service: repeating one is harmless.
        Endpoint("upload", "POST", "/openapi/v2/media/upload/binary", _V2, _SAFE),
        Endpoint("queue_status", "GET", "/openapi/v2/queue/status", _V2, _SAFE),
        Endpoint("outputs", "POST", "/task/openapi/outputs", _L, _SAFE, "apiKey"),
        Endpoint("cancel", "POST", "/task/openapi/cancel", _L, _SAFE, "apiKey"),
        Endpoint("account", "POST", "/uc/openapi/accountStatus", _L, _SAFE, "apikey"),
        Endpoint("workflow_graph", "POST", "/api/openapi/getJsonApiFormat", _L, _SAFE, "apiKey"),
        Endpoint("app_inputs", "GET", "/api/webapp/apiCallDemo", _L, _SAFE, "apiKey"),
        Endpoint("webhook_detail", "POST", "/task/openapi/getWebhookDetail", _L, _SAFE, "apiKey"),
        Endpoint("retry_webhook", "POST", "/task/openapi/retryWebhook", _L, _UNSAFE, "apiKey"),
    )
}


@dataclass
class UploadBody:
    """A multipart file part, streamed from ``stream``; rewound before each attempt."""

    file_name: str
    stream: IO[bytes]
    content_type: str
    start: int | None  # the position to rewind to; None when the stream cannot seek

    def rewind(self) -> bool:
        if self.start is None:
            return False
        self.stream.seek(self.start)
        return True


@dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    json: dict[str, Any] | None = field(default=None, repr=False)
    params: dict[str, str] | None = field(default=None, repr=False)
    upload: UploadBody | None = field(default=None, repr=False)

    def describe(self) -> str:
        """One log-safe line: method, path, query and body with every credential hidden."""
        text = f"{self.method} {self.path}"
        if self.params:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.params.items())
        if self.json is not None:
            text += " " + json.dumps(self.json, ensure_ascii=False, default=str)[:2000]
        if self.upload is not None:
            text += f" [file {self.upload.file_name!r}, {self.upload.content_type}]"
        return redact_secrets(text)


@dataclass(frozen=True)
class Answer:
    """What came back over HTTP, before any interpretation."""

    status: int
    headers: Mapping[str, str]
    content: bytes


_BASE_URL_HINT = "if this persists, check the base URL: it must be the RunningHub API"


# No API answer comes near this (workflow graphs are the largest, a few MB); a broken or
# hostile server that streams forever is cut off here instead of filling the memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class AnswerReader:
    """Collects an answer's body chunk by chunk, refusing one over ``limit`` bytes."""

    def __init__(
        self, status: int, headers: Mapping[str, str], limit: int = MAX_ANSWER_BYTES
    ) -> None:
        self.status = status
        self.headers = headers
        self.limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large()

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.limit:
            raise self._too_large()
        self._chunks.append(chunk)

    def answer(self) -> Answer:
        return Answer(self.status, self.headers, b"".join(self._chunks))

    def _too_large(self) -> APIResponseError:
        return APIResponseError(
            f"the service answered HTTP {self.status} with a body over {self.limit} bytes"
            " (far larger than any API answer); it was dropped",
            hint=_BASE_URL_HINT,
            http_status=self.status,
        )


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One API call: what to send, how to read the answer, and how it may be retried."""

    endpoint: Endpoint
    request: RequestSpec
    parse: Callable[[Any], T]  # takes the decoded JSON body
    what: str  # for messages: "query of task 123"
    fingerprint: str | None = None
    task_id: str | None = None


def build_request(  # noqa: PLR0913 - the keyword-only parts of one request
    endpoint: Endpoint,
    key: str,
    *,
    path_id: str | None = None,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    upload: UploadBody | None = None,
) -> RequestSpec:
    """Place the key where the endpoint's family wants it (body, query string or header)."""
    path = endpoint.path
    if "{id}" in path:
        if not path_id:
            raise InvalidRequestError(f"{endpoint.name} needs an id")
        path = path.replace("{id}", quote(path_id, safe=""))
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    json_body: dict[str, Any] | None = None
    if body is not None:
        json_body = dict(body)
    elif endpoint.method == "POST":
        json_body = {}
    query = dict(params) if params else None
    if endpoint.family is Family.LEGACY and endpoint.key_field:
        if endpoint.method == "GET":
            query = {endpoint.key_field: key, **(query or {})}
        elif json_body is not None:
            json_body = {endpoint.key_field: key, **json_body}
    if upload is not None:
        json_body = None
    return RequestSpec(endpoint.method, path, headers, json_body, query, upload)


def fingerprint(
    source: str,
    target_id: str,
    node_info_list: Sequence[Mapping[str, Any]],
    workflow_json: str | None = None,
) -> str:
    """A stable hash of a submit's input, to reconcile a submit whose answer was lost.

    ``source`` is ``"workflow"`` or ``"app"``. Canonical form: the JSON array
    ``[source, id, items, workflow_json]`` where items are ``[nodeId, fieldName, fieldValue]``
    sorted by node and field, with sorted keys and no spaces; the first 16 hex digits of its
    SHA-256. The emulator counts tasks per fingerprint in the same form.
    """
    items = sorted(
        (
            [str(i.get("nodeId")), str(i.get("fieldName")), i.get("fieldValue")]
            for i in node_info_list
        ),
        key=lambda item: (item[0], item[1]),
    )
    canonical = json.dumps(
        [source, str(target_id), items, workflow_json],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- decoding


def decode_body(answer: Answer, key: str | None) -> Any:
    """Check the HTTP layer and decode JSON; the key is scrubbed from every string in it."""
    if 300 <= answer.status < 400:
        raise _redirect_error(answer)
    body: Any = None
    try:
        body = redact_data(json.loads(answer.content), key) if answer.content else None
    except ValueError:
        body = None
        if answer.status < 400:
            kind = answer.headers.get("content-type", "").split(";")[0].strip()
            raise APIResponseError(
                f"the service answered HTTP {answer.status} with a body that is not JSON"
                + (f" ({kind[:60]})" if kind else ""),
                hint=_BASE_URL_HINT,
                http_status=answer.status,
            ) from None
    if answer.status >= 400:
        raise _http_error(answer.status, body)
    if body is None:
        raise APIResponseError("the service answered with an empty body", http_status=answer.status)
    return body


def _redirect_error(answer: Answer) -> APIResponseError:
    """API calls never follow redirects: a key must not travel to wherever one points."""
    target = redact_secrets(answer.headers.get("location", ""))[:120]
    return APIResponseError(
        f"the service answered HTTP {answer.status}, a redirect"
        + (f" to {target!r}" if target else "")
        + "; redirects are not followed",
        hint="check the base URL (use the address the service redirects to, if it is trusted)",
        http_status=answer.status,
    )


def _http_error(status: int, body: Any) -> APIError:
    code = _field(body, "code", "errorCode") if isinstance(body, dict) else None
    message = _message(body) if isinstance(body, dict) else ""
    if status == 404 and code == "404":
        code = None  # a wrong path (the HTTP status repeated), not a RunningHub code
    if code not in (None, "", "0") and status < 500 and status != 429:
        return error_for_code(code, message or f"HTTP {status}", http_status=status, raw=body)
    text = message or f"the service answered HTTP {status}"
    if status == 429:
        return CapacityError(
            text, hint="too many requests; slow down", http_status=status, raw=body
        )
    if status >= 500:
        return ServerError(text, http_status=status, raw=body)
    if status in (401, 403):
        return AuthenticationError(text, http_status=status, raw=body)
    if status == 404:
        text = f"the service answered HTTP 404 ({message or 'not found'}): no API at this address"
        return NotFoundError(text, hint="check the base URL", http_status=status, raw=body)
    return APIError(text, http_status=status, raw=body)


def _field(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if value is not None:
            return str(value).strip()
    return None


def _message(body: Mapping[str, Any]) -> str:
    """The error text: ``errorMessage``, ``msg`` or ``message``, plus ``errorMessages`` details."""
    text = ""
    for name in ("errorMessage", "msg", "message"):
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            break
    details = body.get("errorMessages")
    if isinstance(details, list):
        extra = "; ".join(str(d) for d in details if isinstance(d, (str, int, float)))
        text = f"{text}: {extra}" if text and extra else text or extra
    elif isinstance(details, str) and details.strip():
        text = f"{text}: {details.strip()}" if text else details.strip()
    return text


def unwrap(body: Any, *, task_id: str | None = None) -> Any:
    """The ``data`` of a ``{code, msg, data}`` envelope, or the exception its code stands for."""
    if not isinstance(body, dict) or "code" not in body:
        raise APIResponseError("expected a {code, msg, data} envelope", raw=body, task_id=task_id)
    code = str(body["code"]).strip()
    if code == "0":
        return body.get("data")
    raise error_for_code(code, _message(body), task_id=task_id, raw=body)


# --------------------------------------------------------------------------- tasks


def parse_task(body: Any, *, task_id: str | None = None) -> Task:
    """A v2 task object (submit and query), tolerating a wrapped one."""
    if isinstance(body, dict) and "code" in body and "taskId" not in body:
        body = unwrap(body, task_id=task_id)  # some errors (1520) come wrapped
    if not isinstance(body, dict):
        raise APIResponseError("expected a task object", raw=body, task_id=task_id)
    tid = _field(body, "taskId") or ""
    status_text = _field(body, "status", "taskStatus") or ""
    error_code = _field(body, "errorCode") or ""
    if error_code not in ("", "0") and not (tid and status_text):
        raise error_for_code(error_code, _message(body), task_id=tid or task_id, raw=body)
    if not tid:
        raise APIResponseError("the task object carries no taskId", raw=body, task_id=task_id)
    return Task(
        task_id=tid,
        status=TaskStatus.parse(status_text),
        outputs=parse_results(body.get("results")),
        usage=Usage.from_wire(_dict(body.get("usage"))),
        failure=parse_failure(body.get("failedReason")),
        error_code=error_code if error_code not in ("", "0") else None,
        error_message=_message(body) or None,
        client_id=_field(body, "clientId") or None,
        prompt_tips=_json_object(body.get("promptTips")),
        net_wss_url=_field(body, "netWssUrl") or None,
        raw=body,
    )


def parse_submit(body: Any) -> Task:
    """A submit's answer: a task refused at creation (FAILED with a code) is an API error."""
    task = parse_task(body)
    if task.status is TaskStatus.FAILED and task.error_code:
        raise error_for_code(
            task.error_code, task.error_message or "", task_id=task.task_id, raw=task.raw
        )
    return task


def parse_outputs(body: Any, *, task_id: str) -> Task:
    """The legacy outputs answer, where 813/804/805 are task states, not errors."""
    if not isinstance(body, dict) or "code" not in body:
        raise APIResponseError("expected a {code, msg, data} envelope", raw=body, task_id=task_id)
    code = str(body["code"]).strip()
    data = body.get("data")
    if code == "0" and isinstance(data, list) and data:
        first = data[0] if isinstance(data[0], dict) else {}
        return Task(
            task_id, TaskStatus.SUCCESS, parse_results(data), Usage.from_wire(first), raw=body
        )
    if code == "0" and not data:
        return Task(task_id, TaskStatus.RUNNING, raw=body)  # tolerated: "still running"
    if code == "804":
        wss = _field(data, "netWssUrl") if isinstance(data, dict) else None
        return Task(task_id, TaskStatus.RUNNING, net_wss_url=wss or None, raw=body)
    if code == "813":
        return Task(task_id, TaskStatus.QUEUED, raw=body)
    if code == "805":
        reason = data.get("failedReason") if isinstance(data, dict) else None
        failure = parse_failure(reason)
        message = _message(body) or None
        return Task(task_id, TaskStatus.FAILED, failure=failure, error_message=message, raw=body)
    if code == "0":
        raise APIResponseError("unexpected outputs data", raw=body, task_id=task_id)
    raise error_for_code(code, _message(body), task_id=task_id, raw=body)


def parse_results(items: Any) -> tuple[Output, ...]:
    """Result items of either family: ``url``/``outputUrl``/``fileUrl``, text aliases too."""
    if not isinstance(items, list):
        return ()
    outputs = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = next(
            (item[k] for k in ("text", "content", "output") if isinstance(item.get(k), str)), None
        )
        kind = _field(item, "outputType", "fileType", "type")
        outputs.append(
            Output(
                url=_field(item, "url", "outputUrl", "fileUrl") or None,
                type=kind.lower() if kind else None,
                node_id=_field(item, "nodeId") or None,
                text=text,
                raw=item,
            )
        )
    return tuple(outputs)


def parse_failure(value: Any) -> TaskFailure | None:
    """ComfyUI's failure report: ``{}``, an object, or the same object encoded as a string."""
    if isinstance(value, str):
        decoded = _json_value(value)
        if not isinstance(decoded, dict):
            return TaskFailure(exception_message=value.strip()) if value.strip() else None
        value = decoded
    if not isinstance(value, dict) or not value:
        return None
    return TaskFailure(
        node_id=_field(value, "node_id", "nodeId") or None,
        node_name=_field(value, "node_name", "nodeName", "node_type") or None,
        exception_type=_field(value, "exception_type", "exceptionType") or None,
        exception_message=_field(value, "exception_message", "exceptionMessage") or None,
        traceback=_traceback(value.get("traceback")),
        raw=value,
    )


def _traceback(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        decoded = _json_value(value)
        value = decoded if isinstance(decoded, list) else value.splitlines()
    if isinstance(value, list):
        return tuple(str(frame) for frame in value)
    return ()


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        decoded = _json_value(value)
        return decoded if isinstance(decoded, dict) else None
    return None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
