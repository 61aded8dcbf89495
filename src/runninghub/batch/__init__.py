"""Batch runs: many inputs through one workflow, recorded in a durable, resumable ledger.

Example::

    from runninghub import AsyncClient
    from runninghub.batch import BatchRunner, BatchSpec, ledger_for_plan, plan_batch, read_inputs

    async with AsyncClient() as client:
        graph = await client.workflow_graph("1987728214757978114")
        plan = plan_batch(read_inputs("photos/"), graph, workflow_id="1987728214757978114")
        spec = BatchSpec(workflow_id=plan.workflow_id, out_dir="results", columns=plan.columns)
        with ledger_for_plan("results/batch.sqlite", plan, spec) as ledger:
            report = await BatchRunner(ledger, [client]).run_async()
"""

from __future__ import annotations

from ._keys import key_id, keys_of_running_tasks
from ._model_rows import plan_model_batch
from ._preset_rows import preset_columns
from ._queue_pauses import QueuePause
from .inputs import (
    BatchInputError,
    BatchPlan,
    InputTable,
    PlannedRow,
    ledger_for_plan,
    parse_assignments,
    plan_batch,
    read_inputs,
)
from .ledger import (
    Attempt,
    BatchSpec,
    IllegalTransitionError,
    Ledger,
    LedgerBusyError,
    LedgerError,
    LedgerRow,
    NotALedgerError,
    OutputFolderTakenError,
    RowState,
    StaleStateError,
)
from .report import DEFAULT_NAME_TEMPLATE, BatchProgress, BatchReport, Manifest, state_counts
from .runner import BatchProgressCallback, BatchRunner, ProgressCallback

__all__ = [
    "DEFAULT_NAME_TEMPLATE",
    "Attempt",
    "BatchInputError",
    "BatchPlan",
    "BatchProgress",
    "BatchProgressCallback",
    "BatchReport",
    "BatchRunner",
    "BatchSpec",
    "IllegalTransitionError",
    "InputTable",
    "Ledger",
    "LedgerBusyError",
    "LedgerError",
    "LedgerRow",
    "Manifest",
    "NotALedgerError",
    "OutputFolderTakenError",
    "PlannedRow",
    "ProgressCallback",  # the old name of BatchProgressCallback
    "QueuePause",
    "RowState",
    "StaleStateError",
    "key_id",
    "keys_of_running_tasks",
    "ledger_for_plan",
    "parse_assignments",
    "plan_batch",
    "plan_model_batch",
    "preset_columns",
    "read_inputs",
    "state_counts",
]
