"""The local checks of what goes into a request: ids, instance, webhook URL, graph text.

They raise :class:`~runninghub.InvalidRequestError` before anything is sent.
"""

from __future__ import annotations

import json
import re

from ._fields import error
from ._options import WorkflowJSON
from ._web_ids import IN_HISTORY, id_from_web_address, looks_like_address

__all__ = [
    "check_history_id",
    "check_id",
    "check_instance",
    "check_retain_seconds",
    "check_task_id",
    "check_webhook_url",
    "workflow_text",
]

INSTANCES = ("default", "plus")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_id(value: str | int, what: str) -> str:
    """An id that goes into a URL path: digits, letters, ``_`` and ``-`` only; or the page
    address of the website that names it (``what`` is "workflow id" or "app id")."""
    text = str(value).strip()
    if isinstance(value, str) and looks_like_address(text):
        return id_from_web_address(text, what.removesuffix(" id"))
    if isinstance(value, bool) or not _ID.fullmatch(text):
        raise error(f"{what} {str(value)[:80]!r} is not a valid id")
    return text


def check_history_id(value: str, kind: str) -> str:
    """A workflow, app or task id (``kind``) to find in the journal, bare or as the address of
    its page; an address of another kind names the history option that takes it."""
    text = value.strip()
    if looks_like_address(text):
        return id_from_web_address(text, kind, taken_by=IN_HISTORY)
    return check_task_id(text) if kind == "task" else check_id(text, f"{kind} id")


def check_task_id(value: str | int) -> str:
    """A task id as sent in a body: any non-empty text, or the address of the task's page."""
    text = str(value).strip()
    if not text or isinstance(value, bool):
        raise error("a task id is required")
    if isinstance(value, str) and looks_like_address(text):
        return id_from_web_address(text, "task")
    return text


def check_instance(value: str) -> str:
    """The machine size a task runs on."""
    if value not in INSTANCES:
        raise error(f"instance must be 'default' or 'plus', not {value!r}")
    return value


def check_retain_seconds(value: int) -> int:
    """How long the machine stays warm after a task: 0 (not at all) or 10 to 180 seconds."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (value == 0 or 10 <= value <= 180)
    ):
        raise error(f"retain seconds must be 0 or 10-180, not {str(value)[:20]!r}")
    return value


def check_webhook_url(value: str) -> str:
    """A webhook address: http(s) only."""
    if not str(value).startswith(("http://", "https://")):
        raise error(f"the webhook URL must be http(s), not {str(value)[:80]!r}")
    return str(value)


def workflow_text(workflow_json: WorkflowJSON | None) -> str | None:
    """The graph as the submit body carries it: JSON text."""
    if workflow_json is None:
        return None
    if isinstance(workflow_json, str):
        return workflow_json
    return json.dumps(workflow_json, ensure_ascii=False, separators=(",", ":"))
