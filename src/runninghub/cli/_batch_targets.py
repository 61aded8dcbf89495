"""What ``batch run`` sends its rows to: a workflow (``WORKFLOW_ID``), a standard model
(``--model ENDPOINT``) or a saved preset (``--preset NAME``), and the plan of its rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._context import CliState
from .preset_run import load_one

if TYPE_CHECKING:
    from runninghub import AsyncClient, Preset
    from runninghub.batch import BatchPlan, InputTable

__all__ = ["BatchTarget", "choose_target", "plan_rows", "target_options"]

F = TypeVar("F", bound=Callable[..., Any])


def target_options(func: F) -> F:
    """``--model`` and ``--preset``: the other things a batch can run than a workflow."""
    func = click.option(
        "--preset",
        "preset_name",
        metavar="NAME",
        help="Run a saved preset; columns named after its parameters fill them.",
    )(func)
    return click.option(
        "--model",
        "endpoint",
        metavar="ENDPOINT",
        help="Run a standard model; columns named after its parameters fill them.",
    )(func)


@dataclass(frozen=True)
class BatchTarget:
    kind: str  # "workflow", "app" or "model"
    target: str  # the workflow id, app id or model endpoint
    preset: Preset | None = None


def choose_target(
    state: CliState, workflow_id: str | None, options: Mapping[str, Any]
) -> BatchTarget:
    """The one thing the rows go to; a preset is read (and refused if unknown) here."""
    endpoint, preset_name = options["endpoint"], options["preset_name"]
    if sum(1 for given in (workflow_id, endpoint, preset_name) if given) != 1:
        raise click.UsageError("give exactly one of WORKFLOW_ID, --model ENDPOINT or --preset NAME")
    if preset_name:
        found = load_one(state, preset_name)
        return BatchTarget(found.kind, found.target, found)
    if endpoint:
        return BatchTarget("model", endpoint.strip().strip("/"))
    return BatchTarget("workflow", str(workflow_id))


async def plan_rows(  # noqa: PLR0913 - the batch command's reading of its inputs
    client: AsyncClient,
    target: BatchTarget,
    table: InputTable,
    *,
    maps: dict[str, str],
    sets: dict[str, str],
    options: Mapping[str, Any],
) -> BatchPlan:
    """Every row mapped and checked against the graph (or the model's catalogue entry)."""
    allow_duplicates = bool(options["allow_duplicates"])
    ignore = options["ignored"]
    from runninghub import WorkflowGraph
    from runninghub.batch import plan_batch, plan_model_batch, preset_columns

    fixed: dict[str, Any] = {}
    if target.preset is not None:
        table, by_name, fixed = preset_columns(target.preset, table)
        maps = {**by_name, **maps}
    if target.kind == "model":
        model = await client.model(target.target)  # an endpoint it does not know: refused
        return plan_model_batch(
            table,
            model,
            maps=maps,
            sets=sets,
            fixed=fixed,
            allow_duplicates=allow_duplicates,
            ignore=ignore,
        )
    if target.kind == "app":
        graph = WorkflowGraph.from_app_inputs(await client.app_inputs(target.target))
    else:
        graph = await client.workflow_graph(target.target)
    return plan_batch(
        table,
        graph,
        workflow_id=target.target,
        maps=maps,
        sets={**fixed, **sets},
        allow_duplicates=allow_duplicates,
        ignore=ignore,
    )
