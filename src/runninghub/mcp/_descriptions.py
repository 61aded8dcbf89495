"""What the MCP client (and the model behind it) reads about the server and each tool."""

from __future__ import annotations

__all__ = ["INSTRUCTIONS", "TOOL_DESCRIPTIONS"]

INSTRUCTIONS = """\
Run ComfyUI workflows and AI apps on the RunningHub cloud (www.runninghub.cn / .ai).
Usual flow: list_workflow_fields (see what can be set) -> run_workflow (overrides and files) ->
if it returns finished=false, wait_task with the same task_id (never run again: that pays twice)
-> download_outputs to save the files. Hosted standard models: find_models -> show_model ->
run_model (same waiting rules). Runs spend the account's credit; account shows the balance.
Errors come back as {"error": {"type", "code", "message", "hint"}}: follow the hint."""

_ADDRESS = (
    "An address is NODE.FIELD as listed by list_workflow_fields: NODE is a node id ('6'), "
    "a node title or a class name when it is unique ('KSampler')."
)

_INPUTS = (
    "`overrides` sets input values by address, e.g. {'6.text': 'a red fox', '3.seed': 42}; "
    "`files` gives media inputs by address as a local path on the machine running this server "
    "(uploaded first) or an http(s) URL, e.g. {'107.image': '/home/me/photo.png'}. "
    "Addresses, types and files are checked before anything is submitted: a mistake returns an "
    "error with the closest valid names and spends nothing. "
)
_WAITING = (
    "The call then waits up to `wait_seconds` (0: return right after submitting). If the task "
    "finished, the result has status SUCCESS, the output URLs, and the saved files when "
    "`download_dir` is set. If not, it has finished=false and the task_id: call wait_task "
    "later (do not run again: that would pay twice). A task that fails returns an error "
    "(TaskFailedError) naming the failing node. Spends RunningHub credit."
)
_RUN_COMMON = _INPUTS + _WAITING

TOOL_DESCRIPTIONS: dict[str, str] = {
    "list_workflow_fields": (
        "List the inputs of a saved RunningHub workflow that a run can change: for each, its "
        "address (the key to use in run_workflow's `overrides` or `files`), node title and class, "
        "type, saved value and, for list fields, the allowed options. Media fields (kind 'media') "
        "take a file through `files`. Read-only; spends no credit. " + _ADDRESS
    ),
    "run_workflow": "Run a saved RunningHub (ComfyUI) workflow. " + _RUN_COMMON + " " + _ADDRESS,
    "get_task": (
        "Get a task's current status without waiting: QUEUED, RUNNING, SUCCESS (with output "
        "URLs and usage), FAILED (with the failing node and message) or CANCEL. Read-only."
    ),
    "wait_task": (
        "Wait up to `wait_seconds` for a task started earlier (by run_workflow or run_app) to "
        "finish. Same result as run_workflow: finished=false means it is still running, so call "
        "wait_task again; a failed task returns an error (TaskFailedError). With `download_dir` "
        "the outputs are saved there once it succeeds."
    ),
    "download_outputs": (
        "Download every output file of a succeeded task into the directory `dir` on the machine "
        "running this server (created if needed; use an absolute path, a relative one is taken "
        "from the server's working directory). Returns each saved file's path, size and sha256. "
        "A file already saved with the same bytes is kept and not copied again; a different "
        "file of the same name is kept too (the new one is numbered) unless `overwrite` is "
        "true. Output URLs expire after about a day."
    ),
    "cancel_task": (
        "Cancel a queued or running task (stops further billing). Returns the task's status "
        "right after the request."
    ),
    "webhook_detail": (
        "Show how a task's webhook delivery went (a task submitted with a webhook URL): the "
        "delivery record's id, the URL, callbackStatus (SUCCESS, FAILED ...) and retry count. "
        "A task without a webhook is a NotFoundError. Read-only."
    ),
    "retry_webhook": (
        "Send a task's webhook (its TASK_END event) again, to `webhook_url` if given, else to "
        "the URL the task was submitted with. Spends no credit."
    ),
    "list_app_inputs": (
        "List the inputs of a RunningHub AI app (webapp): for each, its address NODE.FIELD (the "
        "key to use in run_app's `overrides` or `files`), name, type (IMAGE, STRING, LIST ...), "
        "default value, description and, for LIST inputs, the allowed options. Read-only."
    ),
    "run_app": (
        "Run a RunningHub AI app (webapp) with the inputs listed by list_app_inputs. " + _RUN_COMMON
    ),
    "find_models": (
        "Find RunningHub's hosted standard models (image, video, audio, 3D and text models such "
        "as Kling, Seedance, Wan, Seedream) in the catalogue, by a text, an output type and a "
        "category. Returns each model's endpoint and parameter keys. Read-only, no request."
    ),
    "show_model": (
        "Show a standard model's parameters: key, type, whether required, default, allowed "
        "options, numeric range and step, accepted file types and size, and its list price "
        "with the defaults (CNY estimate). Read-only, no request."
    ),
    "run_model": (
        "Run a standard model by its endpoint (from find_models) with `params` as show_model "
        "lists them; media as URLs in `params` or local files in `files`. The parameters are "
        "checked before anything is sent (nothing is billed for a bad one). Needs an "
        "enterprise API key. " + _WAITING
    ),
    "account": (
        "Show the account behind the configured API key: RH coin and wallet balance, tasks in "
        "flight and the concurrency limit. Read-only."
    ),
}
