"""Every client operation, written once as a flow that both faces drive.

A flow is a generator over a :class:`~runninghub._core.ClientCore`: it decides, and yields
the I/O it needs as steps (``_steps.py``); ``Client`` performs them blocking and
``AsyncClient`` awaiting them. Each public flow's name, signature and docstring become the
faces' methods (``_client.py``, ``_async_client.py``), so they are documented here.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, Unpack

import httpx

from ._answers import parse_app_inputs
from ._core import ClientCore, check_id
from ._directory import LoraUpload
from ._download_flow import download
from ._errors import (
    APIError,
    APIResponseError,
    TaskFailedError,
)
from ._fields import error
from ._models import Account, AppInput, NodeOverride, QueueStatus, Task, Upload
from ._options import (
    AppKeywords,
    PathLike,
    ProgressCallback,
    RunAppKeywords,
    RunKeywords,
    SaveOptions,
    SubmitOptions,
    WaitOptions,
    WorkflowKeywords,
    run_options,
    submit_options,
)
from ._overrides import (
    graph_from_json,
    local_files,
    materialize,
    overridden_graph,
    plan_overrides,
    with_uploads,
)
from ._policy import RetryPolicy, classify_api_error, classify_transport_error
from ._protocol import Operation, UploadBody
from ._queue_wait import pause_before_retry
from ._steps import STOP_LISTENING, Exchange, Flow, Notify
from ._uploads import UPLOAD_LIMIT, UploadSource, check_media_files, open_upload
from ._waiting import FETCH_OUTPUTS, POLL, Finished, Listen, Sleep, TimedOut, WaitPlan
from .journal import HistoryEntry, LocalInput
from .workflow import OverridesLike, WorkflowGraph

T = TypeVar("T")


def call(
    client: ClientCore,
    op: Operation[T],
    retry: RetryPolicy | None = None,
    until: float | None = None,
) -> Flow[T]:
    """One API call, repeated as the retry policy allows for this kind of operation (each
    attempt cut at ``until``, a ``time.monotonic()`` instant, when given)."""
    state = client._retry_state(op, retry)
    while True:
        client._before_send(op, state)
        try:
            sent = client._sites.addressed(op)
            answer = yield Exchange(sent, until)
        except httpx.TransportError as exc:
            failure = classify_transport_error(exc, op.what)
        except APIResponseError as exc:  # an answer too large to read
            failure = classify_api_error(exc)
        else:
            try:
                value = client._interpret(op, answer)
            except APIError as exc:
                if client._sites.try_other(exc, sent, op):
                    continue  # the key may be the other site's: asked there once, at once
                failure = classify_api_error(exc, answer.headers)
            else:
                client._sites.accepted()
                return value
        delay = client._next_delay(state, failure)
        yield from pause_before_retry(client, op, state, failure, delay)


# ---------------------------------------------------------------------- single calls


def upload(
    client: ClientCore, source: UploadSource, *, file_name: str | None = None
) -> Flow[Upload]:
    """Upload a file (path, bytes or binary file object), streamed; returns its name.

    With a journal and its upload cache, a file (by path) this key uploaded within the
    cache's time to live is not uploaded again: the earlier name is returned.
    """
    local = None
    if isinstance(source, str | os.PathLike) and file_name is None:
        local = client._recorder.local_input("", Path(source))
    return (yield from _upload(client, source, file_name, local))


def _upload(
    client: ClientCore, source: UploadSource, file_name: str | None, local: LocalInput | None
) -> Flow[Upload]:
    cached = client._recorder.cached(local)
    if cached is not None:
        return cached
    body, close = open_upload(source, file_name)
    try:
        uploaded = yield from call(client, client._op_upload(body))
    finally:
        close()
    client._recorder.uploaded(local, uploaded)
    return uploaded


def query(client: ClientCore, task_id: str | int) -> Flow[Task]:
    """The task's state from the v2 query (results once SUCCESS)."""
    task = yield from call(client, client._op_query(str(task_id)))
    client._recorder.seen(task)
    return task


def outputs(client: ClientCore, task_id: str | int) -> Flow[Task]:
    """The task's state from the legacy outputs endpoint (gives the progress socket URL)."""
    task = yield from call(client, client._op_outputs(str(task_id)))
    client._recorder.seen(task)
    return task


def cancel(client: ClientCore, task_id: str | int) -> Flow[None]:
    """Cancel a queued or running task."""
    yield from call(client, client._op_cancel(str(task_id)))


def account(client: ClientCore) -> Flow[Account]:
    """The account's balance, key type and running tasks."""
    return (yield from call(client, client._op_account()))


def queue_status(client: ClientCore) -> Flow[QueueStatus]:
    """How many tasks run and wait, and the concurrency limit."""
    return (yield from call(client, client._op_queue_status()))


def workflow_graph(
    client: ClientCore, workflow_id: str | int, *, refresh: bool = False
) -> Flow[WorkflowGraph]:
    """The workflow's API-format graph (cached 10 minutes in memory and on disk)."""
    wid = check_id(workflow_id, "workflow id")
    raw = yield from _cached(client, "workflow", wid, client._op_graph, refresh)
    return WorkflowGraph.from_api_format(raw)


def app_inputs(
    client: ClientCore, app_id: str | int, *, refresh: bool = False
) -> Flow[list[AppInput]]:
    """An AI app's inputs from its apiCallDemo (cached like ``workflow_graph``)."""
    aid = check_id(app_id, "app id")
    raw = yield from _cached(client, "app", aid, client._op_app_inputs, refresh)
    return parse_app_inputs(raw)


def _cached(client: ClientCore, kind: str, ident: str, build: Any, refresh: bool) -> Flow[Any]:
    raw: Any = None if refresh else client._graphs.get(kind, ident)
    if raw is None:
        raw = yield from call(client, build(ident))
        client._graphs.put(kind, ident, raw)
    return raw


# ---------------------------------------------------------------------- submit and run


def submit(
    client: ClientCore,
    workflow_id: str | int,
    overrides: OverridesLike = None,
    **options: Unpack[WorkflowKeywords],
) -> Flow[Task]:
    """Start a saved workflow with overrides (``{"6.text": "a cat"}``, tuples, NodeOverride).

    A ``pathlib.Path`` value (or, when validating, an existing local path given as text
    for a media field) is uploaded first. Validation (``validate``, default: the
    client's) fetches the workflow's graph once (cached) or reads ``workflow_json``; if
    the graph cannot be fetched, that error is raised: pass ``validate=False`` to submit
    unchecked. ``personal_queue`` queues on an exclusive key's own machines (CapacityError
    814 when that queue is full), ``retain_seconds`` (10-180) keeps the machine warm after
    the task, ``access_password`` opens a protected workflow (never logged). Raises
    InvalidRequestError for a bad override (before anything is sent when validating),
    CapacityError when the account stays full after retries, and SubmitOutcomeUnknownError
    when the answer was lost (the submit is never repeated).
    """
    submitting = submit_options("submit", WorkflowKeywords, options)
    return (yield from submit_workflow(client, workflow_id, overrides, submitting))


def submit_app(
    client: ClientCore,
    app_id: str | int,
    overrides: OverridesLike = None,
    **options: Unpack[AppKeywords],
) -> Flow[Task]:
    """Start an AI app; its inputs (``app_inputs``) are the fields the overrides may set.

    Options as for ``submit``.
    """
    submitting = submit_options("submit_app", AppKeywords, options)
    return (yield from submit_ai_app(client, app_id, overrides, submitting))


def submit_workflow(
    client: ClientCore, workflow_id: str | int, overrides: OverridesLike, options: SubmitOptions
) -> Flow[Task]:
    wid = check_id(workflow_id, "workflow id")
    graph, overrides = None, materialize(overrides)
    if client._validating(options.validate, overrides):
        graph = graph_from_json(options.workflow_json) or (yield from workflow_graph(client, wid))
    items, inputs = yield from _upload_files(client, plan_overrides(overrides, graph))
    options = replace(options, workflow_json=overridden_graph(options.workflow_json, items))
    op = client._op_submit_workflow(wid, items, options)
    return (yield from _recorded_submit(client, ("workflow", wid), items, inputs, op))


def submit_ai_app(
    client: ClientCore, app_id: str | int, overrides: OverridesLike, options: SubmitOptions
) -> Flow[Task]:
    aid = check_id(app_id, "app id")
    graph, overrides = None, materialize(overrides)
    if client._validating(options.validate, overrides):
        graph = WorkflowGraph.from_app_inputs((yield from app_inputs(client, aid)))
    items, inputs = yield from _upload_files(client, plan_overrides(overrides, graph))
    op = client._op_submit_app(aid, items, options)
    return (yield from _recorded_submit(client, ("app", aid), items, inputs, op))


def _upload_files(
    client: ClientCore, items: list[NodeOverride]
) -> Flow[tuple[list[NodeOverride], list[LocalInput]]]:
    """Upload the local files among ``items`` (a ``.safetensors`` LoRA through ``upload_lora``);
    the items as sent, and the files behind them."""
    names, inputs = {}, []
    files = local_files(items)
    check_media_files(p for p in files.values() if p.suffix.lower() != ".safetensors")
    for index, path in files.items():
        if path.suffix.lower() == ".safetensors":  # a LoRA for an RHLoraLoader field
            names[index] = (yield from upload_lora(client, path)).file_name
            continue
        address = f"{items[index].node_id}.{items[index].field}"
        local = client._recorder.local_input(address, path)
        names[index] = (yield from _upload(client, path, None, local)).file_name
        inputs += [local] if local is not None else []
    return with_uploads(items, names), inputs


def _recorded_submit(
    client: ClientCore,
    what: tuple[str, str],
    items: list[NodeOverride] | Mapping[str, Any],
    inputs: list[LocalInput],
    op: Operation[Task],
) -> Flow[Task]:
    """The submit itself: its intent written to the journal first, its outcome right after
    (``unknown`` when the answer was lost or the run was interrupted on the way)."""
    recorder = client._recorder
    intent = recorder.intent(*what, items, inputs)
    earlier = recorder.unknown_like(intent)
    if earlier:
        yield from _check_unknown(client, earlier)
    intent_id = recorder.record(intent)
    try:
        task = yield from call(client, op)
    except BaseException as exc:
        recorder.not_answered(intent_id, exc)
        raise
    recorder.answered(intent_id, task)
    return task


def _check_unknown(client: ClientCore, earlier: list[HistoryEntry]) -> Flow[None]:
    """An earlier submit of this same input has no known outcome: compare the account's
    running-task count with what the journal knows is running (a warning, never a refusal)."""
    try:
        running = (yield from account(client)).current_task_counts
    except APIError:
        return  # the check is advice: the submit itself says what is wrong
    client._recorder.warn_unknown(earlier, running)


def upload_lora(client: ClientCore, path: PathLike, *, name: str | None = None) -> Flow[LoraUpload]:
    """Upload a ``.safetensors`` LoRA for an ``RHLoraLoader`` node; returns its file name.

    The md5 names the file on the service: one it already holds is not sent again. The
    bytes are streamed to the signed address the service gives, never read whole.
    """
    source = Path(path).expanduser()
    if not source.is_file() or source.suffix.lower() != ".safetensors":
        raise error(f"{str(path)[:120]!r} is not a .safetensors file")
    digest, size = _md5(source)
    label = _lora_name(name or source.name)
    file_name, url = yield from call(client, client._op_lora_target(label, digest))
    if url is None:
        return LoraUpload(file_name, digest, uploaded=False, size=size)
    with source.open("rb") as stream:
        body = UploadBody(source.name, stream, "application/octet-stream", 0, raw=True)
        yield from call(client, client._op_lora_put(url, body))
    return LoraUpload(file_name, digest, uploaded=True, size=size)


def _md5(path: Path) -> tuple[str, int]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as stream:
        while chunk := stream.read(UPLOAD_LIMIT // 30):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _lora_name(name: str) -> str:
    """The name the service lists the LoRA under: printable, bounded."""
    clean = "".join(c for c in Path(name).name if c.isprintable() and c not in "/\\").strip()
    if not clean:
        raise error("a LoRA needs a printable name")
    return clean[:100]


def run(
    client: ClientCore,
    workflow_id: str | int,
    overrides: OverridesLike = None,
    **options: Unpack[RunKeywords],
) -> Flow[Task]:
    """Submit, wait, and (with ``out_dir``) download the outputs; returns the final task.

    Arguments as for ``submit`` and ``TaskHandle.wait``. For the saved files' paths and
    checksums, call ``download(task, out_dir)`` yourself instead of passing ``out_dir``.
    Outputs already saved with the same bytes are not copied again; ``overwrite`` replaces a
    different file of the same name (see ``download``).
    When the task fails naming a file the journal's upload cache supplied (the service lost
    it), the file is uploaded again and the workflow submitted once more.
    """
    submitting, waiting, saving = run_options("run", RunKeywords, options)
    # A generator of overrides is read once here: a second submit (see finish) reads it again.
    again = functools.partial(
        submit_workflow, client, workflow_id, materialize(overrides), submitting
    )
    return (yield from finish(client, again, waiting, saving))


def run_app(
    client: ClientCore,
    app_id: str | int,
    overrides: OverridesLike = None,
    **options: Unpack[RunAppKeywords],
) -> Flow[Task]:
    """``run`` for an AI app."""
    submitting, waiting, saving = run_options("run_app", RunAppKeywords, options)
    again = functools.partial(submit_ai_app, client, app_id, materialize(overrides), submitting)
    return (yield from finish(client, again, waiting, saving))


def finish(
    client: ClientCore,
    submit: Callable[[], Flow[Task]],
    options: WaitOptions,
    saving: SaveOptions | None,
) -> Flow[Task]:
    """A run once its options are packed: ``submit``, wait and (with ``saving``) download."""
    task = yield from submit()
    try:
        final = yield from wait_for(client, task.task_id, task, options)
    except TaskFailedError as exc:
        if not client._recorder.lost_upload(exc.task):
            raise
        # The service lost a file the upload cache still named: upload it again, submit once more.
        task = yield from submit()
        final = yield from wait_for(client, task.task_id, task, options)
    if saving is not None:
        yield from download(client, final, saving.out_dir, overwrite=saving.overwrite)
    return final


# ---------------------------------------------------------------------- waiting


def wait_for(
    client: ClientCore, task_id: str, known: Task | None, options: WaitOptions
) -> Flow[Task]:
    """Wait for a task as the ``WaitPlan`` directs; returns it on SUCCESS."""
    policy = options.policy or client.poll_policy
    limit = policy.timeout if options.timeout is None else options.timeout
    plan = WaitPlan(task_id, policy, timeout=limit, known=known, rng=client._rng)
    while True:
        action = plan.next_action()
        if isinstance(action, Finished):
            client._recorder.seen(action.task)
            yield from _report(plan, options.on_progress)
            yield STOP_LISTENING
            return plan.result(action.task)
        if isinstance(action, TimedOut):
            yield from _time_out(client, plan, action, options.cancel_on_timeout)
        elif isinstance(action, Sleep):
            for event in (yield action):
                plan.on_event(event)
        elif isinstance(action, Listen):
            yield action
        elif action is POLL:
            yield from _poll(client, plan)
        elif action is FETCH_OUTPUTS:
            plan.on_outputs((yield from _try_outputs(client, plan)))
        yield from _report(plan, options.on_progress)


def _poll(client: ClientCore, plan: WaitPlan) -> Flow[None]:
    try:
        task = yield from call(
            client, client._op_query(plan.task_id), RetryPolicy.never(), plan.request_until()
        )
    except APIError as exc:
        plan.on_poll_error(exc)
    else:
        client._recorder.seen(task)
        plan.on_task(task)


def _try_outputs(client: ClientCore, plan: WaitPlan) -> Flow[Task | None]:
    op = client._op_outputs(plan.task_id)
    try:
        return (yield from call(client, op, RetryPolicy.never(), plan.request_until()))
    except APIError:
        return None  # only the progress socket is lost


def _time_out(client: ClientCore, plan: WaitPlan, action: TimedOut, cancel_it: bool) -> Flow[None]:
    cancelled = False
    if cancel_it:
        try:
            yield from cancel(client, plan.task_id)
            cancelled = True
        except APIError:
            cancelled = False
    raise action.error(plan.task_id, cancelled=cancelled)


def _report(plan: WaitPlan, on_progress: ProgressCallback | None) -> Flow[None]:
    for progress in plan.drain():
        if on_progress is not None:
            yield Notify(on_progress, progress)
