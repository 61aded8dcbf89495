"""The 60-task batch as a user times it: a whole ``runninghub batch run`` process.

60 tasks of 0.5 s on an emulator that runs 4 at a time: the ideal is 60 / 4 * 0.5 = 7.5 s.
Target (issue 14): efficiency (ideal / measured) of at least 0.95, i.e. 7.89 s or less. The
clock runs from the start of the ``runninghub`` console script to its exit: Python start-up,
planning (reading the CSV, fetching the graph), every submit, wait and download, the manifest.
The emulator runs in its own process, as a real service would. The machine's load average is
printed with each figure, since the machine may be shared. The processes may write bytecode
(as an installed package has it), and one run before the measured ones fills it. Run with
``python -m bench batch_process`` (``BENCH_ROUNDS`` sets the number of runs, default 5).
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = 60
TASK_SECONDS = 0.5
CONCURRENCY = 4
WORKFLOW_ID = "1904136902449209346"
KEY = "0123456789abcdef0123456789abcdef"
TARGET_EFFICIENCY = 0.95
IDEAL = TASKS / CONCURRENCY * TASK_SECONDS


def _script(name: str) -> str:
    """The console script next to this interpreter, as a shell would find it."""
    return str(Path(sys.executable).with_name(name))


def _environment() -> dict[str, str]:
    """This environment, minus what would make the measured processes unlike an install."""
    drop = {"PYTHONDONTWRITEBYTECODE", "RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL"}
    return {name: value for name, value in os.environ.items() if name not in drop}


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    command = [_script("runninghub"), "emulator", "--port", "0",
               "--task-seconds", str(TASK_SECONDS), "--concurrency", str(CONCURRENCY)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=_environment())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = next((word for word in line.split() if word.startswith("http://")), None)
    if url is None:
        proc.kill()
        raise RuntimeError(f"the emulator did not print its URL: {line!r}")
    return proc, url.rstrip("/")


def write_inputs(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["6.text"])
        writer.writerows([f"a lighthouse, variation {i}"] for i in range(TASKS))


def one_run(base_url: str, workdir: Path) -> tuple[float, dict[str, object]]:
    inputs = workdir / "prompts.csv"
    write_inputs(inputs)
    env = {**_environment(), "RUNNINGHUB_API_KEY": KEY,
           "RUNNINGHUB_CONFIG_DIR": str(workdir / "cfg"),
           "RUNNINGHUB_DATA_DIR": str(workdir / "data")}  # fmt: skip
    command = [_script("runninghub"), "--base-url", base_url, "--json", "batch", "run",
               WORKFLOW_ID, "--inputs", str(inputs), "--out", str(workdir / "out"),
               "--concurrency", str(CONCURRENCY), "--set", "5.width=64", "--set", "5.height=64",
               "--set", "3.steps=1"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"batch run exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    proc, base_url = start_emulator()
    times: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            one_run(base_url, Path(tmp))  # fills the bytecode caches; not measured
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as tmp:
                elapsed, report = one_run(base_url, Path(tmp))
            counts = report["counts"]
            assert isinstance(counts, dict) and counts["succeeded"] == TASKS, report
            times.append(elapsed)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    median = statistics.median(times)
    efficiency = IDEAL / median
    verdict = "ok" if efficiency >= TARGET_EFFICIENCY else "UNDER TARGET"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"batch_process: `runninghub batch run` of {TASKS} tasks of {TASK_SECONDS} s at"
        f" concurrency {CONCURRENCY}, whole process: median {median:.2f} s (min {min(times):.2f},"
        f" max {max(times):.2f}, {rounds} runs); ideal {IDEAL:.2f} s, efficiency"
        f" {efficiency:.3f} (target >= {TARGET_EFFICIENCY}: {verdict}); load average {load}"
    )


if __name__ == "__main__":
    main()
