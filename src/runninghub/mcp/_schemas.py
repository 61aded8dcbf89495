"""Structured results of the MCP tools: each model is the JSON schema a tool publishes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from runninghub import TaskStatus

# Coins, money, prices and seconds: JSON numbers, exact for the figures the service sends
# (see runninghub._models.json_number); null when not known.
Amount = int | float | None

__all__ = [
    "AccountInfo",
    "AppInputInfo",
    "AppInputs",
    "CancelResult",
    "DownloadResult",
    "ErrorInfo",
    "FailureInfo",
    "FieldInfo",
    "ModelDetail",
    "ModelList",
    "ModelParamInfo",
    "ModelSummary",
    "OutputInfo",
    "SavedFileInfo",
    "TaskResult",
    "UsageInfo",
    "WorkflowFields",
]


class FieldInfo(BaseModel):
    """One overridable input of a workflow node (the rows of `runninghub nodes --json`)."""

    address: str = Field(description="What to use as a key in `overrides`/`files`, e.g. '6.text'.")
    node_id: str
    title: str | None = Field(description="The node's title in the workflow, if it has one.")
    class_type: str | None = Field(description="The ComfyUI node class, e.g. 'KSampler'.")
    field: str = Field(description="The input name on the node, e.g. 'seed'.")
    type: str = Field(
        description="Value type: int, float, bool, string, media (a file: pass it in `files`), "
        "list (one of `options`) or other."
    )
    value: Any = Field(description="The value saved in the workflow (the default).")
    options: list[str] = Field(description="Allowed values for a list field, else empty.")
    description: str | None = Field(default=None, description="What the field is for, if known.")


class WorkflowFields(BaseModel):
    """The inputs of a workflow that a run can override."""

    workflow_id: str
    fields: list[FieldInfo]


class AppInputInfo(BaseModel):
    """One input of an AI app."""

    address: str = Field(description="What to use as a key in `overrides`/`files`, e.g. '39.text'.")
    node_id: str
    node_name: str | None
    field_name: str
    field_type: str | None = Field(description="RunningHub's type: IMAGE, STRING, LIST, INT ...")
    field_value: Any = Field(description="The app's default value.")
    description: str | None
    options: list[str] = Field(description="Allowed values for a LIST input, else empty.")


class AppInputs(BaseModel):
    """The inputs of an AI app."""

    app_id: str
    inputs: list[AppInputInfo]


class OutputInfo(BaseModel):
    """One output of a task: a file (`url`) or a text (`text`)."""

    url: str | None = Field(description="Download URL; RunningHub keeps it for about a day.")
    type: str | None = Field(description="File type, e.g. 'png'.")
    node_id: str | None = Field(description="The node that produced it.")
    text: str | None = Field(description="The text of a text output.")


class UsageInfo(BaseModel):
    """What a finished task cost (numbers; null when not reported)."""

    consume_coins: Amount
    consume_money: Amount
    third_party_consume_money: Amount
    task_cost_time: Amount = Field(description="Seconds the task ran.")


class FailureInfo(BaseModel):
    """Where and why a task failed."""

    node_id: str | None
    node_name: str | None
    exception_type: str | None
    exception_message: str | None
    traceback: list[str]


class SavedFileInfo(BaseModel):
    """An output saved to local disk."""

    path: str = Field(description="Absolute path of the saved file.")
    url: str | None
    node_id: str | None
    type: str | None
    size: int = Field(description="Bytes written.")
    sha256: str


class TaskResult(BaseModel):
    """A task's state as last seen."""

    task_id: str = Field(description="Keep it: get_task, wait_task, download_outputs use it.")
    status: TaskStatus = Field(description="CREATE, QUEUED, RUNNING, SUCCESS, FAILED or CANCEL.")
    finished: bool = Field(description="True once the status is SUCCESS, FAILED or CANCEL.")
    outputs: list[OutputInfo] = Field(description="Outputs, once the task succeeded.")
    usage: UsageInfo | None = None
    failure: FailureInfo | None = Field(default=None, description="Set when the task failed.")
    error_message: str | None = Field(default=None, description="RunningHub's failure message.")
    saved_files: list[SavedFileInfo] = Field(
        default_factory=list, description="Files saved locally when `download_dir` was given."
    )
    next_step: str | None = Field(
        default=None, description="What to do next when the task has not finished yet."
    )
    queue_wait: str | None = Field(
        default=None,
        description="Set when the submit first waited for a free slot of the account's full"
        " queue: how long, and why.",
    )


class DownloadResult(BaseModel):
    """Outputs of a finished task, saved to local disk."""

    task_id: str
    directory: str = Field(description="Absolute path of the directory the files are in.")
    files: list[SavedFileInfo]


class CancelResult(BaseModel):
    """The outcome of a cancel request."""

    task_id: str
    status: TaskStatus = Field(description="The task's status right after the cancel request.")


class WebhookInfo(BaseModel):
    """How a task's webhook delivery went (its event data is left out)."""

    id: str | None = Field(description="The delivery record's id.")
    task_id: str | None
    webhook_url: str | None = Field(description="Where the TASK_END event is delivered.")
    callback_status: str | None = Field(description="SUCCESS, FAILED, or another state.")
    retry_count: int | None = Field(description="How many times delivery was retried.")


class WebhookRetryResult(BaseModel):
    """A webhook delivery sent again."""

    task_id: str
    webhook_url: str = Field(description="Where the event was sent again.")
    retried: bool = True


class AccountInfo(BaseModel):
    """Balance and load of the account behind the configured API key."""

    remain_coins: Amount = Field(description="RH coin balance.")
    remain_money: Amount = Field(description="Wallet balance.")
    currency: str | None
    api_type: str | None
    current_task_counts: int | None = Field(description="Tasks of this account in flight now.")
    concurrent_limit: int | None = Field(description="How many tasks may run at once.")
    running_count: int | None
    queued_count: int | None


class ErrorInfo(BaseModel):
    """The error of a failed tool call, as `runninghub --json` prints it (with isError set)."""

    type: str = Field(description="Error class, e.g. InvalidRequestError, TaskFailedError.")
    code: str | None = Field(description="RunningHub's error code, when the API gave one.")
    message: str
    hint: str | None = Field(description="What to do about it, when known.")
    task_id: str | None = Field(default=None, description="The task concerned, if any.")
    task: dict[str, Any] | None = Field(
        default=None, description="The final state of a task that failed, with `failure`."
    )


class ModelSummary(BaseModel):
    """A hosted standard model of the catalogue."""

    endpoint: str = Field(description="What run_model takes, e.g. 'rhart-image-n-pro/edit'.")
    output_type: str = Field(description="image, video, audio, 3d or string.")
    category: str
    params: list[str] = Field(description="Its parameter keys (show_model gives the details).")


class ModelList(BaseModel):
    """The models of the catalogue that matched (at most ``limit``)."""

    catalogue: str = Field(description="The catalogue's version.")
    total: int = Field(description="How many matched, before the limit.")
    models: list[ModelSummary]


class ModelParamInfo(BaseModel):
    """One parameter of a standard model, with what it accepts."""

    key: str
    type: str = Field(
        description="STRING, LIST (one of `options`), BOOLEAN (true/false), INT, FLOAT, or a "
        "medium (IMAGE, VIDEO, AUDIO: a URL, or a local path given in `files`)."
    )
    required: bool
    default: Any = None
    options: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    step: float | None = None
    accept: list[str] = Field(default_factory=list, description="File extensions of a medium.")
    max_mb: float | None = None
    is_list: bool = Field(default=False, description="Takes a list of URLs or paths.")


class ModelDetail(BaseModel):
    """A standard model's parameters and its list price (CNY estimate, not billing truth)."""

    endpoint: str
    output_type: str
    category: str
    params: list[ModelParamInfo]
    list_price: Amount = Field(description="The price of a call with the defaults, if known.")
    price_unit: str | None = None
