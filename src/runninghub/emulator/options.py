"""The emulator's settings: what the command line and ``serve_in_thread`` accept.

Every setting that can change while the server runs (``POST /__emulator__/config``) is
checked by :func:`apply_changes`; a bad value is a ``ValueError`` naming the setting.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Faults injected before the request reaches a handler: nothing is created.
BEFORE_FAULTS = ("http_502", "http_503", "slow")
# Faults injected after the handler ran: the state changed, the answer is lost or garbled.
AFTER_FAULTS = ("http_500", "truncated", "non_json")
FAULT_KINDS = BEFORE_FAULTS + AFTER_FAULTS

SITES = ("cn", "ai")
KEY_TYPES = ("NORMAL", "SHARED", "EXCLUSIVE")
# Which keys of a model result carry the file URL and the text (clients accept each pair).
MODEL_RESULT_STYLES = ("url", "outputUrl", "output")
UPLOAD_LIMIT = 30 * 1024 * 1024
DAY = 86400.0
# Resource limits: one client must not be able to knock the emulator over (docs/reliability.md).
MAX_BODY = 16 * 1024 * 1024
MAX_FORM_TEXT = 1024 * 1024
MAX_JSON_DEPTH = 64
# Request JSON (and a ``workflow`` in it) this long is parsed in a thread, off the event loop.
OFF_LOOP_CHARS = 32 * 1024
MAX_GRAPH_NODES = 2000
MAX_FRAMES = 1024
MAX_OUTPUTS = 1024
MAX_TASK_PIXELS = 1 << 30
HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 512


@dataclass
class EmulatorOptions:
    """How the emulator behaves. Durations are real seconds unless noted "emulated".

    ``keys``: None accepts any 32-hex key; otherwise only these keys, each optionally
    prefixed with its site (``"ai:<key>"``): with ``site`` set, a key of the other site is
    refused exactly like an unknown key. ``time_scale`` speeds up the emulated clock, on
    which upload URLs expire (24 emulated hours) and webhook retries are spaced.
    """

    host: str = "127.0.0.1"
    port: int = 0
    workflows_dir: Path | None = None
    concurrency: int = 2
    queue_seconds: float = 0.0
    task_seconds: float = 2.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    fault_seed: int | None = None
    fault_slow_seconds: float = 1.0
    keys: frozenset[str] | None = None
    site: str | None = None
    state_file: Path | None = None
    time_scale: float = 1.0
    cancel_status_v2: str = "CANCEL"
    webhook_retries: int = 3
    webhook_retry_delay: float = 10.0
    webhook_timeout: float = 5.0
    upload_limit: int = UPLOAD_LIMIT
    download_ttl: float = DAY
    initial_coins: int = 1100
    workers: int = 4
    public_url: str | None = None
    fetch_hosts: tuple[str, ...] = ()
    # Key types and spending (see keys.py): the type of every key the keys file does not
    # type; coins per workflow/app task on NORMAL keys (None: one per second of run time);
    # wallet money per workflow/app task, and per model call with no list price.
    key_type: str = "NORMAL"
    initial_money: str = "100.00"
    currency: str | None = None  # None: USD on the .ai site, else CNY
    coin_price: int | None = None
    money_price: str = "0.10"
    personal_queue_limit: int = 1000
    # Standard models: a replacement registry file (None: RUNNINGHUB_CATALOGUE, else the
    # bundled one); the share of models that answer SUCCESS on submit; which result keys
    # carry URLs and text; whether an endpoint the catalogue lacks is refused or run.
    catalogue: Path | None = None
    instant_model_share: float = 0.0
    model_result_style: str = "url"
    create_seconds: float = 0.0  # v2 shows a queued task as CREATE for this long
    unknown_models: str = "refuse"
    lora_limit: int = 2 * 1024**3
    control_token: str | None = dataclasses.field(default=None, repr=False)
    webhook_allow: tuple[str, ...] = ()
    max_body: int = MAX_BODY
    max_form_text: int = MAX_FORM_TEXT
    max_json_depth: int = MAX_JSON_DEPTH
    max_graph_nodes: int = MAX_GRAPH_NODES
    max_frames: int = MAX_FRAMES
    max_outputs: int = MAX_OUTPUTS
    max_task_pixels: int = MAX_TASK_PIXELS
    header_timeout: float = HEADER_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    # Report bad widget values in a submit's promptTips.node_errors (the task is still made).
    prompt_errors: bool = False
    # Run a submit's full ``workflow`` as sent, ignoring its nodeInfoList (the live service).
    workflow_as_sent: bool = False

    def public_view(self) -> dict[str, Any]:
        """The settings as JSON, with the key list reduced to its size (keys are secrets)."""
        view: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "keys":
                value = None if value is None else len(value)
            elif item.name == "control_token":
                value = value is not None  # a secret: only whether one is set
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            view[item.name] = value
        return view


def _number(minimum: float, maximum: float = math.inf) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        if not minimum <= value <= maximum or math.isnan(value):
            raise ValueError(f"must be between {minimum} and {maximum}")
        return float(value)

    return check


def _integer(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"must be an integer >= {minimum}")
        return value

    return check


def _positive(value: Any) -> float:
    number = _number(0.0)(value)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _fault_kinds(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"must be a non-empty list of {', '.join(FAULT_KINDS)}")
    unknown = [kind for kind in value if kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
    return tuple(dict.fromkeys(value))


def _optional_seed(value: Any) -> int | None:
    if value is None:
        return None
    return _integer(-(2**63))(value)


def _site(value: Any) -> str | None:
    if value is None or value in SITES:
        return value  # type: ignore[no-any-return]
    raise ValueError(f"must be one of {', '.join(SITES)} or null")


def _keys(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(key, str) and key.split() for key in value
    ):
        raise ValueError("must be a list of key strings or null")
    from .keys import parse_declaration

    for entry in value:
        parse_declaration(entry)  # a bad type or balance fails here, before serving
    return frozenset(value)


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return str(value)

    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a decimal amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a decimal amount >= 0")
    return str(amount)


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _host_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("must be a list of host or host:port entries")
    return tuple(entry.strip().lower() for entry in value)


def _cancel_status(value: Any) -> str:
    if value not in ("CANCEL", "FAILED"):
        raise ValueError('must be "CANCEL" or "FAILED"')
    return str(value)


def _public_url(value: Any) -> str | None:
    """``http(s)://host[:port][/prefix]`` (no query), without its trailing slash; or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be an http:// or https:// URL or null")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not carry credentials, a query or a fragment")
    try:
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise ValueError(f"{value!r} has a malformed port") from None
    return value.strip().rstrip("/")


def _fetch_hosts(value: Any) -> tuple[str, ...]:
    """Hosts (``name`` or ``name:port``) whose media URLs may be fetched; lower-cased."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of host names (optionally host:port)")
    hosts = [entry.strip().lower() for entry in value if entry.strip()]
    bad = [host for host in hosts if not _HOST.fullmatch(host)]
    if bad:
        raise ValueError(f"not a host or host:port: {', '.join(bad)}")
    return tuple(dict.fromkeys(hosts))


_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?")

_CHECKS: dict[str, Callable[[Any], Any]] = {
    "concurrency": _integer(1),
    "queue_seconds": _number(0.0, 3600.0),
    "task_seconds": _number(0.0, 3600.0),
    "fault_rate": _number(0.0, 1.0),
    "fault_kinds": _fault_kinds,
    "fault_seed": _optional_seed,
    "fault_slow_seconds": _number(0.0, 60.0),
    "keys": _keys,
    "site": _site,
    "time_scale": _positive,
    "cancel_status_v2": _cancel_status,
    "webhook_retries": _integer(0),
    "webhook_retry_delay": _number(0.0),
    "webhook_timeout": _positive,
    "upload_limit": _integer(1),
    "download_ttl": _positive,
    "initial_coins": _integer(0),
    "public_url": _public_url,
    "fetch_hosts": _fetch_hosts,
    "key_type": _choice(*KEY_TYPES),
    "initial_money": _money,
    "currency": _optional(_choice("CNY", "USD")),
    "coin_price": _optional(_integer(0)),
    "money_price": _money,
    "personal_queue_limit": _integer(0),
    "instant_model_share": _number(0.0, 1.0),
    "model_result_style": _choice(*MODEL_RESULT_STYLES),
    "create_seconds": _number(0.0, 3600.0),
    "unknown_models": _choice("refuse", "accept"),
    "lora_limit": _integer(1),
    "webhook_allow": _host_list,
    "max_body": _integer(1024),
    "max_form_text": _integer(1024),
    "max_json_depth": _integer(2),
    "max_graph_nodes": _integer(1),
    "max_frames": _integer(1),
    "max_outputs": _integer(1),
    "max_task_pixels": _integer(1),
    "prompt_errors": _flag,
    "workflow_as_sent": _flag,
}
RUNTIME_SETTINGS = frozenset(_CHECKS)


def _token(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not value.strip():
        raise ValueError("must be a non-empty ASCII string")
    return value.strip()


# Settings of the listening server itself: fixed once it has started.
_STATIC_CHECKS: dict[str, Callable[[Any], Any]] = {
    "control_token": _token,
    "header_timeout": _positive,
    "max_connections": _integer(1),
}


def apply_changes(options: EmulatorOptions, changes: Mapping[str, Any]) -> EmulatorOptions:
    """A copy of ``options`` with ``changes`` applied; ValueError names a bad setting."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        check = _CHECKS.get(name)
        if check is None:
            known = ", ".join(sorted(RUNTIME_SETTINGS))
            raise ValueError(f"unknown setting {name!r}; settable: {known}")
        try:
            checked[name] = check(value)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return dataclasses.replace(options, **checked)


def build_options(**values: Any) -> EmulatorOptions:
    """Options from keyword arguments, validated like runtime changes where that applies."""
    static = {name: values.pop(name) for name in list(values) if name not in RUNTIME_SETTINGS}
    unknown = set(static) - {item.name for item in dataclasses.fields(EmulatorOptions)}
    if unknown:
        raise TypeError(f"unknown emulator options: {', '.join(sorted(unknown))}")
    for name in ("workflows_dir", "state_file", "catalogue"):
        if static.get(name) is not None:
            static[name] = Path(static[name])
    for name, check in _STATIC_CHECKS.items():
        if name in static:
            try:
                static[name] = check(static[name])
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
    return apply_changes(EmulatorOptions(**static), values)


# The flags of the guards and limits (docs/reliability.md): flag -> (option, type, meaning).
GUARD_FLAGS: dict[str, tuple[str, type, str]] = {
    "--control-token": ("control_token", str, "secret the control routes require"),
    "--webhook-allow": ("webhook_allow", str, "comma-separated webhook hosts (host[:port])"),
    "--upload-limit": ("upload_limit", int, "bytes of one uploaded file"),
    "--max-body": ("max_body", int, "bytes of a JSON request body"),
    "--max-form-text": ("max_form_text", int, "bytes of a form's text fields and part headers"),
    "--max-json-depth": ("max_json_depth", int, "nesting levels of JSON a client sends"),
    "--max-graph-nodes": ("max_graph_nodes", int, "nodes of a submitted workflow"),
    "--max-frames": ("max_frames", int, "frames decoded from one image file"),
    "--max-outputs": ("max_outputs", int, "output files of one task"),
    "--max-task-pixels": ("max_task_pixels", int, "pixels all nodes of one task may make"),
    "--header-timeout": ("header_timeout", float, "seconds a request's headers may take"),
    "--max-connections": ("max_connections", int, "open client connections"),
}

# Key types, prices and the model catalogue: checked by build_options like every setting.
SERVICE_FLAGS: dict[str, tuple[str, type, str]] = {
    "--key-type": ("key_type", str, "NORMAL, SHARED or EXCLUSIVE: keys --keys does not type"),
    "--catalogue": (
        "catalogue",
        Path,
        "model registry (else $RUNNINGHUB_CATALOGUE, bundled)",
    ),
    "--coin-price": ("coin_price", int, "coins per task (none: one per second of run time)"),
    "--money-price": ("money_price", str, "wallet money per workflow/app task"),
    "--initial-money": ("initial_money", str, "starting wallet of SHARED/EXCLUSIVE keys"),
    "--personal-queue-limit": ("personal_queue_limit", int, "usePersonalQueue limit (814)"),
    "--instant-model-share": ("instant_model_share", float, "share of models done on submit"),
    "--unknown-models": ("unknown_models", str, "refuse or accept endpoints it does not know"),
}

# Every option that both command lines (runninghub emulator, python -m) take from a table.
TABLE_FLAGS = {**GUARD_FLAGS, **SERVICE_FLAGS}

# Behaviours that are off unless asked for: flag -> (option, meaning). Both command lines.
SWITCH_FLAGS: dict[str, tuple[str, str]] = {
    "--prompt-errors": (
        "prompt_errors",
        "report bad widget values in a submit's promptTips.node_errors; the task is still made",
    ),
    "--workflow-as-sent": (
        "workflow_as_sent",
        "run a submit's full workflow JSON as sent, ignoring its nodeInfoList, as the live"
        " service does",
    ),
}


def default_of(name: str) -> str:
    """How the help text shows an option's default."""
    value = next(item.default for item in dataclasses.fields(EmulatorOptions) if item.name == name)
    if value is None or value == ():
        return "default: none"
    return f"default: {value}"


def read_keys_file(path: Path) -> frozenset[str]:
    """Keys from a file: one per line, optionally ``cn:``/``ai:`` prefixed; ``#`` comments."""
    return frozenset(_key_lines(path.read_text(encoding="utf-8").splitlines()))


def _key_lines(lines: Iterable[str]) -> Iterable[str]:
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            yield entry
