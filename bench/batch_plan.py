"""Planning a 10,000-row batch: read the CSV, map and validate every row, write the ledger.

Target (issue 6): under 3 s and under 150 MB. Runs in a fresh child process so that the peak
resident size (``ru_maxrss``) is this work's, interpreter included; tracemalloc's peak of
Python allocations is printed beside it. No network: the graph is the bundled text-to-image
workflow. Run with ``python -m bench batch_plan``.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROWS = 10_000
WORKFLOW_ID = "1904136902449209346"
TARGET_SECONDS = 3.0
TARGET_MB = 150.0


def write_inputs(path: Path, rows: int = ROWS) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt", "KSampler.seed", "3.steps", "Empty Latent Image.width"])
        for i in range(rows):
            writer.writerow([f"a lighthouse at dusk, variation {i}", i, 10 + i % 20, 512])


def plan_once(workdir: Path, *, trace: bool = False) -> dict[str, float]:
    """The measured work: everything ``batch run`` does before its first request."""
    from runninghub.batch import BatchSpec, ledger_for_plan, plan_batch, read_inputs
    from runninghub.emulator.catalog import load_workflows
    from runninghub.workflow import WorkflowGraph

    graph = WorkflowGraph.from_api_format(load_workflows()[WORKFLOW_ID])
    inputs = workdir / "inputs.csv"
    write_inputs(inputs)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    plan = plan_batch(
        read_inputs(inputs), graph, workflow_id=WORKFLOW_ID, maps={"prompt": "6.text"}
    )
    planned = time.perf_counter()
    spec = BatchSpec(workflow_id=WORKFLOW_ID, out_dir=str(workdir), columns=plan.columns)
    ledger_for_plan(workdir / f"batch-{trace}.sqlite", plan, spec).close()
    finished = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {
        "rows": len(plan.rows),
        "plan_seconds": planned - started,
        "total_seconds": finished - started,
        "tracemalloc_peak_mb": peak / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child() -> None:
    # Timed without tracemalloc (it slows allocation down several times), then traced.
    with tempfile.TemporaryDirectory() as tmp:
        timed = plan_once(Path(tmp))
        traced = plan_once(Path(tmp), trace=True)
    timed["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
    timed["maxrss_mb"] = traced["maxrss_mb"]
    print(json.dumps(timed))


def main() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "bench.batch_plan", "--child"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    ok_time = figures["total_seconds"] < TARGET_SECONDS
    ok_memory = figures["maxrss_mb"] < TARGET_MB
    print(
        f"batch_plan: {figures['rows']} rows read, mapped and validated in"
        f" {figures['plan_seconds']:.2f} s, ledger written by {figures['total_seconds']:.2f} s"
        f" (target < {TARGET_SECONDS:.0f} s: {'ok' if ok_time else 'OVER TARGET'});"
        f" peak RSS {figures['maxrss_mb']:.0f} MB, Python allocations peak"
        f" {figures['tracemalloc_peak_mb']:.1f} MB"
        f" (target < {TARGET_MB:.0f} MB: {'ok' if ok_memory else 'OVER TARGET'})"
    )


if __name__ == "__main__":
    _child() if "--child" in sys.argv else main()
