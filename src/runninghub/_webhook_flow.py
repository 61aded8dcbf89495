"""A task's webhook: its delivery record, and sending it again (by the record's id, or by the
task's id as the CLI and the MCP server offer it).

The service's ``retryWebhook`` takes the delivery record's own id and a URL; a user knows the
task id. ``retry_task_webhook`` reads the record first (``getWebhookDetail``), checks the id
it names, and sends the delivery again to the URL given, else to the one the task was
submitted with.
"""

from __future__ import annotations

import re

from ._checks import check_webhook_url
from ._core import ClientCore
from ._errors import APIResponseError, NotFoundError, Wording
from ._flows import call
from ._models import WebhookDetail
from ._steps import Flow

__all__ = ["retry_task_webhook", "retry_webhook", "webhook_detail"]

# The record's id goes back to the service in a body: only a plain id, never server text.
_WEBHOOK_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def webhook_detail(client: ClientCore, task_id: str | int) -> Flow[WebhookDetail]:
    """The webhook delivery record of a task (NotFoundError when it had no webhook)."""
    try:
        return (yield from call(client, client._op_webhook_detail(str(task_id))))
    except NotFoundError as exc:
        raise NotFoundError(
            f"task {task_id} has no webhook delivery ({exc.message})",
            code=exc.code,
            hint=Wording(
                "submit with webhook_url=... to get one", "submit with --webhook URL to get one"
            ),
            task_id=str(task_id),
            raw=exc.raw,
        ) from exc


def retry_webhook(client: ClientCore, webhook_id: str | int, webhook_url: str) -> Flow[None]:
    """Deliver a task's webhook again, to ``webhook_url``."""
    yield from call(client, client._op_retry_webhook(str(webhook_id), webhook_url))


def retry_task_webhook(
    client: ClientCore, task_id: str | int, webhook_url: str | None = None
) -> Flow[WebhookDetail]:
    """Deliver a task's webhook again, to ``webhook_url`` or else to the task's own; returns
    the delivery record as it was before the retry.

    Raises InvalidRequestError for a URL that is not http(s) (before any request),
    NotFoundError when the task had no webhook, APIResponseError when the record names no
    usable id or URL.
    """
    if webhook_url is not None:
        check_webhook_url(webhook_url)
    detail = yield from webhook_detail(client, task_id)
    if detail.id is None or not _WEBHOOK_ID.fullmatch(detail.id):
        raise _unusable(detail, "id")
    target = webhook_url or detail.webhook_url
    if not target:
        raise _unusable(detail, "URL")
    yield from retry_webhook(client, detail.id, target)
    return detail


def _unusable(detail: WebhookDetail, what: str) -> APIResponseError:
    task_id = detail.task_id
    return APIResponseError(
        f"the webhook record of task {task_id} names no usable {what}",
        task_id=task_id,
        raw=detail.raw,
    )
