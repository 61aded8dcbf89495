"""The wire shapes of both API families: envelopes, error codes and messages, body parsing.

Business errors are HTTP 200 with a code in the body, as on the real service. A handler
raises :class:`ApiProblem` with a family-neutral :class:`Problem`; the family's renderer
turns it into the legacy envelope, the flat v2 task object or the wrapped v2 envelope.
"""

from __future__ import annotations

import asyncio
import enum
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .jsonlimits import loads_limited
from .options import MAX_BODY, MAX_JSON_DEPTH, OFF_LOOP_CHARS

MAX_JSON_BODY = MAX_BODY
_DIGITS = re.compile(r"[0-9]{1,25}")


class Problem(enum.Enum):
    BAD_REQUEST = "bad_request"
    BAD_KEY = "bad_key"
    UNKNOWN_WORKFLOW = "unknown_workflow"
    UNKNOWN_APP = "unknown_app"
    INVALID_NODE = "invalid_node"
    BAD_WORKFLOW_JSON = "bad_workflow_json"
    QUEUE_FULL = "queue_full"
    UNKNOWN_TASK = "unknown_task"
    FILE_TOO_LARGE = "file_too_large"
    NO_WEBHOOK = "no_webhook"
    WRONG_METHOD = "wrong_method"
    UNKNOWN_PATH = "unknown_path"
    UNKNOWN_API = "unknown_api"  # a path under an API family that does not exist
    INVALID_PARAMETER = "invalid_parameter"
    NOT_ENTERPRISE_KEY = "not_enterprise_key"
    INSTANCE_BUSY = "instance_busy"
    PERSONAL_QUEUE_FULL = "personal_queue_full"
    WALLET_TOO_LOW = "wallet_too_low"


class ApiProblem(Exception):
    """A request the service refuses; ``detail`` is a human hint (never contains a key)."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(detail or problem.value)
        self.problem = problem
        self.detail = detail


# Legacy: (code, msg symbol).
V1_CODES: dict[Problem, tuple[int, str]] = {
    Problem.BAD_REQUEST: (301, "PARAMS_INVALID"),
    Problem.BAD_KEY: (802, "APIKEY_UNAUTHORIZED"),
    Problem.UNKNOWN_WORKFLOW: (380, "WORKFLOW_NOT_EXISTS"),
    Problem.UNKNOWN_APP: (901, "WEBAPP_NOT_EXISTS"),
    Problem.INVALID_NODE: (803, "APIKEY_INVALID_NODE_INFO"),
    Problem.BAD_WORKFLOW_JSON: (301, "PARAMS_INVALID"),
    Problem.QUEUE_FULL: (421, "TASK_QUEUE_MAXED"),
    Problem.UNKNOWN_TASK: (807, "APIKEY_TASK_NOT_FOUND"),
    Problem.FILE_TOO_LARGE: (809, "APIKEY_FILE_SIZE_EXCEEDED"),
    Problem.NO_WEBHOOK: (1, "webhook event not exists"),
    Problem.WRONG_METHOD: (405, "METHOD_NOT_ALLOWED"),
    Problem.UNKNOWN_PATH: (404, "NOT_FOUND"),
    # The error maps gloss 412 TOKEN_INVALID as "API path misspelled".
    Problem.UNKNOWN_API: (412, "TOKEN_INVALID"),
    Problem.INVALID_PARAMETER: (301, "PARAMS_INVALID"),
    Problem.NOT_ENTERPRISE_KEY: (811, "CORPAPIKEY_INVALID"),
    Problem.INSTANCE_BUSY: (415, "TASK_INSTANCE_MAXED"),
    Problem.PERSONAL_QUEUE_FULL: (814, "PERSONAL_QUEUE_COUNT_LIMIT"),
    Problem.WALLET_TOO_LOW: (416, "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET"),
}

# v2: (errorCode, bilingual message).
V2_CODES: dict[Problem, tuple[str, str]] = {
    Problem.BAD_REQUEST: ("1007", "failed to parse request body"),
    Problem.BAD_KEY: ("1002", "Invalid API key, please check it | API Key无效，请检查"),
    Problem.UNKNOWN_WORKFLOW: ("380", "workflow not exists | 工作流不存在"),
    Problem.UNKNOWN_APP: ("901", "webapp not exists | 应用不存在"),
    Problem.INVALID_NODE: ("803", "invalid nodeInfoList | 节点信息与工作流不匹配"),
    Problem.BAD_WORKFLOW_JSON: ("1101", "workflow node data parse error | 工作流节点数据解析错误"),
    Problem.QUEUE_FULL: (
        "421",
        "api queue limit reached, please retry later | API 并发数已达上线，请稍后重试",
    ),
    Problem.UNKNOWN_TASK: (
        "1004",
        "Task not found, please check the task ID | 任务不存在或已过期，请检查任务ID",
    ),
    Problem.FILE_TOO_LARGE: ("1008", "file too large, max 30MB | 文件过大，最大30MB"),
    Problem.NO_WEBHOOK: ("1004", "webhook event not exists | 回调事件不存在"),
    Problem.WRONG_METHOD: ("1009", "request method not supported | 请求方法错误"),
    Problem.UNKNOWN_PATH: ("1001", "invalid URL | 无效的URL"),
    Problem.UNKNOWN_API: ("1001", "invalid URL | 无效的URL"),
    Problem.INVALID_PARAMETER: ("1007", "parameter validation failed | 参数校验失败"),
    Problem.NOT_ENTERPRISE_KEY: (
        "1014",
        "the standard model API needs an enterprise-shared API key"
        " | 标准模型API仅支持企业共享API Key",
    ),
    Problem.INSTANCE_BUSY: ("415", "no free exclusive instance | 独占实例已满，请稍后重试"),
    Problem.PERSONAL_QUEUE_FULL: (
        "814",
        "personal queue count limit reached | 个人队列任务数已达上限",
    ),
    Problem.WALLET_TOO_LOW: ("416", "wallet balance too low | 钱包余额不足"),
}

V2_UPLOAD_BAD_KEY = "ApiKey verification failed: API Key不存在"


def v1_envelope(data: Any, msg: str = "success", code: int = 0) -> dict[str, Any]:
    return {"code": code, "msg": msg, "errorMessages": None, "data": data}


def v1_problem(problem: ApiProblem, status_code: int = 200) -> JSONResponse:
    code, msg = V1_CODES[problem.problem]
    body = v1_envelope(None, msg, code)
    if problem.detail:
        body["errorMessages"] = [problem.detail]
    return JSONResponse(body, status_code=status_code)


def v2_task_object(**fields: Any) -> dict[str, Any]:
    """The flat 11-key task object of v2 run and query, with the given fields set."""
    task: dict[str, Any] = {
        "taskId": "",
        "status": "",
        "errorCode": "",
        "errorMessage": "",
        "results": None,
        "clientId": "",
        "promptTips": "",
        "failedReason": {},
        "usage": None,
        "parentTaskId": None,
        "taskUsageList": None,
    }
    task.update(fields)
    return task


def v2_problem(problem: ApiProblem, status_code: int = 200) -> JSONResponse:
    code, message = V2_CODES[problem.problem]
    if problem.detail:
        message = f"{message}: {problem.detail}"
    return JSONResponse(v2_task_object(errorCode=code, errorMessage=message), status_code)


def v2_wrapped(data: Any, code: int = 0, msg: str = "success") -> dict[str, Any]:
    """The wrapped v2 envelope (upload, queue status, app list): both ``msg`` and ``message``."""
    return {"code": code, "msg": msg, "message": msg, "errorMessages": None, "data": data}


def v2_wrapped_problem(problem: ApiProblem, status_code: int = 200) -> JSONResponse:
    if problem.problem is Problem.BAD_KEY:
        return JSONResponse(v2_wrapped(None, 401, V2_UPLOAD_BAD_KEY), status_code)
    code, message = V2_CODES[problem.problem]
    if problem.detail:
        message = f"{message}: {problem.detail}"
    return JSONResponse(v2_wrapped(None, int(code), message), status_code)


async def read_limited(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """The request body, refusing (after draining) bodies larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise ApiProblem(Problem.BAD_REQUEST, f"request body over {limit} bytes")
    return b"".join(chunks)


def _body_limits(request: Request) -> tuple[int, int]:
    """(max body bytes, max nesting) of the emulator serving ``request``."""
    options = getattr(getattr(request.app.state, "emulator", None), "options", None)
    return (
        getattr(options, "max_body", MAX_JSON_BODY),
        getattr(options, "max_json_depth", MAX_JSON_DEPTH),
    )


async def json_body(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The JSON object of the body. Python's json keeps big integers exact (no float)."""
    max_body, max_depth = _body_limits(request)
    raw = await read_limited(request, max_body)
    if allow_empty and not raw.strip():
        return {}
    try:
        body = await _parse(raw.decode("utf-8"), max_depth) if raw.strip() else None
    except UnicodeDecodeError:
        raise ApiProblem(Problem.BAD_REQUEST, "the body is not valid JSON") from None
    except ValueError as error:
        detail = str(error) if "nested" in str(error) else "the body is not valid JSON"
        raise ApiProblem(Problem.BAD_REQUEST, detail) from None
    if not isinstance(body, dict):
        raise ApiProblem(Problem.BAD_REQUEST, "the body must be a JSON object")
    return body


async def _parse(text: str, max_depth: int) -> Any:
    """A long body is parsed in a thread: the loop gets its turn between the parser's steps
    (a 1 MB body held it for 20-40 ms, its nesting check included)."""
    if len(text) < OFF_LOOP_CHARS:
        return loads_limited(text, max_depth, constants=True)
    return await asyncio.to_thread(loads_limited, text, max_depth, constants=True)


def id_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A numeric id sent as a string or an exact integer, as a digit string.

    A float (an id that went through a JavaScript number) is refused rather than rounded
    into someone else's id.
    """
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ApiProblem(Problem.BAD_REQUEST, f"{name} is required")
        return None
    return parse_id(value, name)


def parse_id(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return value.strip()
    raise ApiProblem(Problem.BAD_REQUEST, f"{name} must be a numeric id (string or integer)")


def bool_field(body: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean sent as a JSON boolean or as the strings "true"/"false" (any case)."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ApiProblem(Problem.BAD_REQUEST, f"{name} must be a boolean or 'true'/'false'")


def str_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ApiProblem(Problem.BAD_REQUEST, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ApiProblem(Problem.BAD_REQUEST, f"{name} must be a string")
    return value
