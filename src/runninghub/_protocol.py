"""The wire protocol, without I/O: endpoints, request building, the HTTP and envelope checks.

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
    error_for_code,
    error_for_status,
)
from ._fields import error
from ._redaction import redact_data, redact_secrets
from ._sendable import check_sendable
from ._wire_values import TooDeep, load_json, text_field

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
    "contract_error",
    "decode_body",
    "message_of",
    "submit_input_hash",
    "unwrap",
]

T = TypeVar("T")


class Family(enum.Enum):
    LEGACY = "legacy"  # /task/openapi, /api/..., /uc/openapi: key in the body, {code,msg,data}
    V2 = "v2"  # /openapi/v2: Bearer only
    STORAGE = "storage"  # a presigned storage URL the API handed out: no key, no JSON answer


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
    path_slashes: bool = False  # the id is a path of segments (a model endpoint)


_L, _V2, _STORE = Family.LEGACY, Family.V2, Family.STORAGE
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
        Endpoint("submit_model", "POST", "/openapi/v2/{id}", _V2, _CREATES, path_slashes=True),
        Endpoint(
            "price_preview", "POST", "/openapi/v2/price-preview/{id}", _V2, _SAFE, path_slashes=True
        ),
        Endpoint("api_keys", "GET", "/openapi/v2/api-key/list", _V2, _SAFE),
        Endpoint("resources", "POST", "/openapi/v2/resource/list", _V2, _SAFE),
        Endpoint("ai_apps", "POST", "/openapi/v2/aiapp/list", _V2, _SAFE),
        # A LoRA is named by its md5: asking again, or putting the same bytes again, is harmless.
        Endpoint("lora_target", "POST", "/api/openapi/getLoraUploadUrl", _L, _SAFE, "apiKey"),
        Endpoint("lora_put", "PUT", "{id}", _STORE, _SAFE),
    )
}


@dataclass
class UploadBody:
    """A multipart file part, streamed from ``stream``; rewound before each attempt."""

    file_name: str
    stream: IO[bytes]
    content_type: str
    start: int | None  # the position to rewind to; None when the stream cannot seek
    raw: bool = False  # sent as the whole body (a presigned PUT), not as a multipart part

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
        return contract_error(
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
    input_hash: str | None = None  # submit_input_hash of a submit's inputs
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
    check_sendable(body, params)
    path = endpoint.path
    if endpoint.family is Family.STORAGE:  # the URL carries its own signature, never our key
        if not path_id:
            raise error(f"{endpoint.name} needs the storage URL")
        kind = upload.content_type if upload else "application/octet-stream"
        return RequestSpec(endpoint.method, path_id, {"Content-Type": kind}, upload=upload)
    if "{id}" in path:
        if not path_id:
            raise error(f"{endpoint.name} needs an id")
        path = path.replace("{id}", quote(path_id, safe="/" if endpoint.path_slashes else ""))
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


def submit_input_hash(
    source: str,
    target_id: str,
    node_info_list: Sequence[Mapping[str, Any]],
    workflow_json: str | None = None,
) -> str:
    """A stable hash of a submit's input, to reconcile a submit whose answer was lost.

    ``source`` is ``"workflow"`` or ``"app"``. Canonical form: the JSON array
    ``[source, id, items, workflow_json]`` where items are ``[nodeId, fieldName, fieldValue]``
    sorted by node and field, with sorted keys and no spaces; the first 16 hex digits of its
    SHA-256. The emulator counts tasks per input hash in the same form (its
    ``tasks_by_fingerprint``), and ``SubmitOutcomeUnknownError.fingerprint`` carries it.
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
    # surrogatepass: text that cannot be sent is refused by build_request, with its place.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# --------------------------------------------------------------------------- decoding


def decode_body(answer: Answer, key: str | None) -> Any:
    """Check the HTTP layer and decode JSON; the key is scrubbed from every string in it."""
    if 300 <= answer.status < 400:
        raise _redirect_error(answer)
    body: Any = None
    try:
        body = redact_data(load_json(answer.content), key) if answer.content else None
    except TooDeep as exc:
        raise contract_error(
            f"the service answered with {exc}", http_status=answer.status
        ) from None
    except ValueError:
        body = None
        if answer.status < 400:
            kind = answer.headers.get("content-type", "").split(";")[0].strip()
            raise contract_error(
                f"the service answered HTTP {answer.status} with a body that is not JSON"
                + (f" ({kind[:60]})" if kind else ""),
                hint=_BASE_URL_HINT,
                http_status=answer.status,
            ) from None
    if answer.status >= 400:
        raise _http_error(answer.status, body)
    if body is None:
        raise contract_error("the service answered with an empty body", http_status=answer.status)
    return body


def contract_error(
    message: str,
    *,
    raw: Any = None,
    task_id: str | None = None,
    http_status: int | None = None,
    hint: str | None = None,
) -> APIResponseError:
    """The one maker of APIResponseError: an answer the contract does not allow."""
    return APIResponseError(message, raw=raw, task_id=task_id, http_status=http_status, hint=hint)


def _redirect_error(answer: Answer) -> APIResponseError:
    """API calls never follow redirects: a key must not travel to wherever one points."""
    target = redact_secrets(answer.headers.get("location", ""))[:120]
    return contract_error(
        f"the service answered HTTP {answer.status}, a redirect"
        + (f" to {target!r}" if target else "")
        + "; redirects are not followed",
        hint="check the base URL (use the address the service redirects to, if it is trusted)",
        http_status=answer.status,
    )


def _http_error(status: int, body: Any) -> APIError:
    code = text_field(body, "code", "errorCode") if isinstance(body, dict) else None
    message = message_of(body) if isinstance(body, dict) else ""
    if status == 404 and code == "404":
        code = None  # a wrong path (the HTTP status repeated), not a RunningHub code
    if code not in (None, "", "0") and status < 500 and status != 429:
        return error_for_code(code, message or f"HTTP {status}", http_status=status, raw=body)
    return error_for_status(status, message, raw=body)


def message_of(body: Mapping[str, Any]) -> str:
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
        raise contract_error("expected a {code, msg, data} envelope", raw=body, task_id=task_id)
    code = str(body["code"]).strip()
    if code == "0":
        return body.get("data")
    raise error_for_code(code, message_of(body), task_id=task_id, raw=body)
