"""Operation builders: each API call as a request, a parser and a description.

Pure: building an operation sends nothing. The flows (``_flows.py``) send them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._answers import (
    parse_account,
    parse_app_inputs,
    parse_graph,
    parse_nothing,
    parse_queue_status,
    parse_upload,
    parse_webhook_detail,
)
from ._checks import (
    check_instance,
    check_retain_seconds,
    check_task_id,
    check_webhook_url,
    workflow_text,
)
from ._config import Settings
from ._directory import AiAppInfo, ApiKeyInfo, Page, PricePreview, ResourceInfo
from ._errors import APIError
from ._list_answers import (
    parse_ai_apps,
    parse_api_keys,
    parse_lora_target,
    parse_price_preview,
    parse_resources,
)
from ._models import Account, NodeOverride, QueueStatus, Task, Upload, WebhookDetail
from ._options import SubmitOptions
from ._protocol import ENDPOINTS, Answer, Operation, UploadBody, build_request, submit_input_hash
from ._task_answers import parse_outputs, parse_submit, parse_task

__all__ = ["Operations"]

T = TypeVar("T")


class Operations:
    """The operations of the API, built with this client's key."""

    _settings: Settings

    def _op(  # noqa: PLR0913 - the keyword-only parts of one request
        self,
        name: str,
        parse: Callable[[Any], T],
        what: str,
        *,
        path_id: str | None = None,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        upload: UploadBody | None = None,
        input_hash: str | None = None,
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
        return Operation(endpoint, spec, parse, what, input_hash=input_hash, task_id=task_id)

    def _task_op(self, name: str, parse: Callable[..., T], what: str, task_id: str) -> Operation[T]:
        """An operation on one task: its id in the body, and given to the parser."""
        tid = check_task_id(task_id)
        return self._op(
            name,
            lambda body: parse(body, task_id=tid),
            f"{what} {tid}",
            body={"taskId": tid},
            task_id=tid,
        )

    def _op_query(self, task_id: str) -> Operation[Task]:
        return self._task_op("query", parse_task, "query of task", task_id)

    def _op_outputs(self, task_id: str) -> Operation[Task]:
        return self._task_op("outputs", parse_outputs, "outputs of task", task_id)

    def _op_cancel(self, task_id: str) -> Operation[None]:
        return self._task_op("cancel", parse_nothing, "cancel of task", task_id)

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
        return self._task_op(
            "webhook_detail", parse_webhook_detail, "webhook detail of task", task_id
        )

    def _op_retry_webhook(self, webhook_id: str, webhook_url: str) -> Operation[None]:
        url = check_webhook_url(webhook_url)
        return self._op(
            "retry_webhook",
            parse_nothing,
            f"webhook retry {webhook_id}",
            body={"webhookId": str(webhook_id), "webhookUrl": url},
        )

    def _op_upload(self, body: UploadBody) -> Operation[Upload]:
        return self._op("upload", parse_upload, f"upload of {body.file_name}", upload=body)

    def _op_submit_workflow(
        self, workflow_id: str, items: list[NodeOverride], options: SubmitOptions
    ) -> Operation[Task]:
        node_info = [item.to_wire() for item in items]
        graph_text = workflow_text(options.workflow_json)
        body = _submit_body(
            options,
            nodeInfoList=node_info,
            addMetadata=bool(options.add_metadata),
            workflow=graph_text,
        )
        input_hash = submit_input_hash("workflow", workflow_id, node_info, graph_text)
        return self._op_submit("workflow", workflow_id, body, input_hash)

    def _op_submit_app(
        self, app_id: str, items: list[NodeOverride], options: SubmitOptions
    ) -> Operation[Task]:
        node_info = [item.to_wire() for item in items]
        body = _submit_body(options, nodeInfoList=node_info)
        return self._op_submit("app", app_id, body, submit_input_hash("app", app_id, node_info))

    def _op_submit(
        self, kind: str, ident: str, body: dict[str, Any], input_hash: str
    ) -> Operation[Task]:
        return self._op(
            f"submit_{kind}",
            parse_submit,
            f"submit of {kind} {ident}",
            path_id=ident,
            body=body,
            input_hash=input_hash,
        )

    def _op_submit_model(
        self, endpoint: str, params: dict[str, Any], options: SubmitOptions
    ) -> Operation[Task]:
        body = _submit_body(options, **params)
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
        return self._op_submit(
            "model", endpoint, body, submit_input_hash("model", endpoint, [], canonical)
        )

    def _op_price_preview(self, endpoint: str, params: dict[str, Any]) -> Operation[PricePreview]:
        return self._op(
            "price_preview",
            lambda body: parse_price_preview(body, endpoint=endpoint),
            f"price preview of {endpoint}",
            path_id=endpoint,
            body=params,
        )

    def _op_api_keys(self) -> Operation[list[ApiKeyInfo]]:
        return self._op("api_keys", parse_api_keys, "key list")

    def _op_resources(
        self, kind: str | None, name: str | None, page: int, size: int
    ) -> Operation[Page[ResourceInfo]]:
        body: dict[str, Any] = {"current": page, "size": size}
        if kind:
            body["resourceType"] = kind.upper()
        if name:
            body["resourceName"] = name
        return self._op("resources", parse_resources, "resource list", body=body)

    def _op_ai_apps(self, page: int, size: int, sort: str) -> Operation[Page[AiAppInfo]]:
        body = {"current": page, "size": size, "sort": sort}
        return self._op("ai_apps", parse_ai_apps, "app list", body=body)

    def _op_lora_target(self, name: str, md5: str) -> Operation[tuple[str, str | None]]:
        body = {"loraName": name, "md5Hex": md5}
        return self._op("lora_target", parse_lora_target, f"LoRA upload of {name}", body=body)

    def _op_lora_put(self, url: str, body: UploadBody) -> Operation[None]:
        return self._op(
            "lora_put", _stored, f"LoRA transfer of {body.file_name}", path_id=url, upload=body
        )


def _submit_body(options: SubmitOptions, **fields: Any) -> dict[str, Any]:
    """A submit's body: ``fields`` (those that are None left out), the instance, the webhook,
    and the options that were given (left out otherwise, as the service's defaults)."""
    body = {name: value for name, value in fields.items() if value is not None}
    body["instanceType"] = check_instance(options.instance)
    if options.webhook_url is not None:
        body["webhookUrl"] = check_webhook_url(options.webhook_url)
    if options.personal_queue is not None:
        body["usePersonalQueue"] = bool(options.personal_queue)
    if options.retain_seconds is not None:
        body["retainSeconds"] = check_retain_seconds(options.retain_seconds)
    if options.access_password is not None:
        body["accessPassword"] = str(options.access_password)
    return body


def _stored(answer: Answer) -> None:
    """A storage PUT's answer: any 2xx stored the bytes; the rest is a refusal."""
    if not 200 <= answer.status < 300:
        raise APIError(
            f"the storage refused the LoRA upload (HTTP {answer.status})",
            hint="upload it again (the signed address may have expired)",
            http_status=answer.status,
        )


def _checked_app_body(body: Any) -> Any:
    parse_app_inputs(body)
    return body
