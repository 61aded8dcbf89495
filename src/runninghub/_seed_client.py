"""The compatibility layer: the seed script's ``RunningHubClient``, built on :class:`Client`.

Code written for the seed (``runninghub_client.py``) keeps working unchanged::

    client = RunningHubClient(api_key)
    image = client.upload_image("cat.png")            # the image URL, or None
    result = client.submit_workflow_with_image("1987728214757978114", "107", "image", image)
    final = client.wait_for_completion(result["taskId"], poll_interval=5, max_attempts=60)
    urls = [item["url"] for item in final["results"]]

Return values are the v2 wire dicts the seed returned (the raw task object of
``/openapi/v2/run/workflow`` and ``/openapi/v2/query``), including the error objects the
service answers with (``{"taskId": "", "status": "", "errorCode": "421", ...}``), and
``upload_image`` returns ``None`` on failure, as the seed did. What the seed could not do
well comes from :class:`Client`: retries that never double-submit (a capacity refusal is
waited out; a submit whose answer was lost raises
:class:`~runninghub.SubmitOutcomeUnknownError` rather than returning something that looks
like "no task"), and connection failures raise instead of printing.

``upload_image`` returns the uploaded file's URL (the v2 upload's signed ``download_url``,
valid 24 hours), as the seed did ("the image URL"): the service accepts it as a LoadImage
``fieldValue``, which is how the seed's documented flow uses it. New code should use
:class:`runninghub.Client` (whose ``upload`` also gives the ``fileName``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ._client import Client
from ._closing import ClosedOnExit
from ._config import ENV_API_KEY
from ._config import load_config as _load_config_file
from ._errors import (
    APIError,
    RunningHubError,
    SubmitOutcomeUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._flows import wait_for
from ._options import WaitOptions
from ._policy import PollPolicy

__all__ = ["RunningHubClient", "get_api_key", "load_config"]

logger = logging.getLogger("runninghub")


def load_config() -> dict[str, Any]:
    """The stored configuration (``{"api_key": ..., "site": ...}``), or ``{}``."""
    return _load_config_file()


def get_api_key() -> str | None:
    """The key from ``RUNNINGHUB_API_KEY``, else from the config file, else ``None``."""
    key = os.environ.get(ENV_API_KEY) or load_config().get("api_key")
    return str(key) if key else None


class RunningHubClient(ClosedOnExit):
    """The seed-compatible client (see the module docstring)."""

    def __init__(
        self, api_key: str | None = None, base_url: str | None = None, **options: Any
    ) -> None:
        options.setdefault("validate", False)  # the seed sent nodeInfoList exactly as given
        self._client = Client(api_key, base_url=base_url, **options)
        self.base_url = self._client.base_url

    def __repr__(self) -> str:
        return f"RunningHubClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def upload_image(self, image_path: str | os.PathLike[str]) -> str | None:
        """Upload an image; returns its URL (a valid field value), or ``None`` on failure."""
        try:
            upload = self._client.upload(Path(image_path))
            return upload.download_url or upload.file_name
        except (RunningHubError, OSError) as exc:
            logger.warning("upload of %s failed: %s", Path(image_path).name, exc)
            return None

    def submit_workflow(
        self, workflow_id: str, node_info_list: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Submit a workflow; returns the v2 task object (or the service's error object)."""
        try:
            handle = self._client.submit(workflow_id, node_info_list or None)
        except APIError as exc:
            return _wire_error(exc)
        return _raw(handle.last)

    def submit_workflow_with_image(
        self, workflow_id: str, node_id: str, field_name: str, image_url: str
    ) -> dict[str, Any]:
        """Submit a workflow with one image field set to ``image_url`` (an uploaded URL or
        file name)."""
        item = {"nodeId": str(node_id), "fieldName": field_name, "fieldValue": image_url}
        return self.submit_workflow(workflow_id, [item])

    def query_task(self, task_id: str) -> dict[str, Any]:
        """The v2 query answer for ``task_id``."""
        try:
            return _raw(self._client.query(task_id))
        except APIError as exc:
            return _wire_error(exc)

    def wait_for_completion(
        self, task_id: str, poll_interval: float = 5, max_attempts: int = 60
    ) -> dict[str, Any]:
        """Wait up to ``poll_interval * max_attempts`` seconds; returns the last query answer.

        The answer is final (``status`` SUCCESS, FAILED or CANCEL) unless the time ran out.
        """
        interval = max(float(poll_interval), 0.01)
        policy = PollPolicy(initial=interval, factor=1.0, max_interval=interval, jitter=0.0)
        try:
            timeout = interval * max(int(max_attempts), 1)
            waiting = WaitOptions(timeout=timeout, policy=policy)
            task = self._client._drive(wait_for(self._client, str(task_id), None, waiting))
        except TaskFailedError as exc:
            return _raw(exc.task)
        except WaitTimeoutError:
            return self.query_task(task_id)
        except APIError as exc:
            return _wire_error(exc)
        return _raw(task)


def _raw(task: Any) -> dict[str, Any]:
    raw = getattr(task, "raw", None)
    return dict(raw) if isinstance(raw, dict) else {}


def _wire_error(exc: APIError) -> dict[str, Any]:
    """What the seed returned for a refusal: the service's own answer. Anything else raises."""
    if isinstance(exc.raw, dict) and not isinstance(exc, SubmitOutcomeUnknownError):
        return dict(exc.raw)
    raise exc
