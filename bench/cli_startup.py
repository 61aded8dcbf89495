"""How long ``runninghub --help`` takes to start: the median wall time of several runs.

The target is under 0.3 s (issue 5): subcommands and heavy libraries load only when used.
Run with ``python -m bench.cli_startup`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 10
TARGET_SECONDS = 0.3


def _command() -> list[str]:
    script = Path(sys.executable).with_name("runninghub")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "runninghub", "--help"]


def measure(runs: int = RUNS) -> list[float]:
    """Wall times of ``runs`` fresh ``runninghub --help`` processes, in seconds."""
    command = _command()
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    times = measure()
    median = statistics.median(times)
    verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
    print(
        f"cli_startup: `runninghub --help` median {median * 1000:.0f} ms over {len(times)} runs "
        f"(min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
        f"target < {TARGET_SECONDS * 1000:.0f} ms: {verdict})"
    )


if __name__ == "__main__":
    main()
