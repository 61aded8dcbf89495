"""TASK_END callbacks: delivery with retries, and the records getWebhookDetail shows.

A delivery succeeds on any 2xx answer. Otherwise it is retried ``webhook_retries`` times,
``webhook_retry_delay`` emulated seconds apart (so a faster clock retries sooner);
``retryCount`` counts the retries made. ``retryWebhook`` starts a fresh round.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from .clock import EmulatedClock
from .guard import check_webhook_target
from .options import EmulatorOptions

PENDING, SUCCESS, FAILED = "PENDING", "SUCCESS", "FAILED"
MAX_RESPONSE_KEPT = 1000


@dataclass
class WebhookRecord:
    webhook_id: str
    task_id: str
    key_hash: str
    key_mask: str
    url: str
    payload: dict[str, Any]
    status: str = PENDING
    response: str = ""
    retry_count: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    def detail(self) -> dict[str, Any]:
        """getWebhookDetail's ``data``."""
        return {
            **{key: getattr(self, name) for key, name in _DETAIL_FIELDS.items()},
            "eventData": self.payload["eventData"],
            "createTime": _timestamp(self.created_at),
            "updateTime": _timestamp(self.updated_at),
        }

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


# getWebhookDetail's keys that show one field of the record as it is.
_DETAIL_FIELDS = {
    "id": "webhook_id",
    "userApiKey": "key_mask",
    "taskId": "task_id",
    "webhookUrl": "url",
    "callbackStatus": "status",
    "callbackResponse": "response",
    "retryCount": "retry_count",
}


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


class WebhookDispatcher:
    """Delivers callbacks on the event loop and reports each outcome."""

    def __init__(
        self,
        options: Callable[[], EmulatorOptions],
        clock: EmulatedClock,
        on_change: Callable[[WebhookRecord, str | None], None],
    ) -> None:
        self._options = options
        self._clock = clock
        self._on_change = on_change
        self._client: httpx.AsyncClient | None = None
        self._running: set[asyncio.Task[None]] = set()

    def dispatch(self, record: WebhookRecord) -> None:
        """Start (or restart) delivering ``record`` in the background."""
        job = asyncio.get_running_loop().create_task(self._deliver(record))
        self._running.add(job)
        job.add_done_callback(self._running.discard)

    async def _deliver(self, record: WebhookRecord) -> None:
        options = self._options()
        attempts = options.webhook_retries + 1
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._clock.real_delay(options.webhook_retry_delay))
                record.retry_count += 1
            ok, response = await self._post(record, options.webhook_timeout)
            record.response = response[:MAX_RESPONSE_KEPT]
            record.updated_at = self._clock.now()
            if ok:
                record.status = SUCCESS
                self._on_change(record, "delivered")
                return
            self._on_change(record, "attempt_failed")
        record.status = FAILED
        self._on_change(record, "failed")

    async def _post(self, record: WebhookRecord, timeout: float) -> tuple[bool, str]:
        try:  # checked again here: the allow-list may have changed since the submit
            check_webhook_target(record.url, self._options().webhook_allow)
        except ValueError as error:
            return False, f"not delivered: {error}"
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        try:
            answer = await self._client.post(record.url, json=record.payload, timeout=timeout)
        except httpx.HTTPError as error:
            return False, f"{type(error).__name__}: {error}"
        return answer.is_success, f"HTTP {answer.status_code}: {answer.text}"

    async def close(self) -> None:
        for job in list(self._running):
            job.cancel()
        for job in list(self._running):
            with contextlib.suppress(BaseException):
                await job
        if self._client is not None:
            await self._client.aclose()
            self._client = None
