"""How long ``runninghub --help`` takes to start, side by side with the published RunningHub CLI.

The reference is ``rh --help`` from the ``runninghub-cli`` package on PyPI, installed (once)
into its own venv under ``.cache/bench/`` (``RUNNINGHUB_BENCH_CACHE`` moves it), never into
the project's venv. Both commands run as fresh processes, alternately, so that both see the
same machine load; the figure is the ratio of the medians. Target: at most 0.5 (half the
reference's time), and under 0.3 s in absolute terms.

Run with ``python -m bench.cli_startup`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 30
TARGET_SECONDS = 0.3
TARGET_RATIO = 0.5
REFERENCE_PACKAGE = "runninghub-cli"
PROJECT = Path(__file__).resolve().parents[1]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("runninghub")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "runninghub", "--help"]


def _cache_dir() -> Path:
    return Path(os.environ.get("RUNNINGHUB_BENCH_CACHE") or PROJECT / ".cache" / "bench")


def reference_command() -> tuple[list[str] | None, str]:
    """``rh --help`` from a venv of its own (installed on first use), or why there is none."""
    venv = _cache_dir() / "runninghub-cli-venv"
    script = venv / "bin" / "rh"
    if not script.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", REFERENCE_PACKAGE]
            subprocess.run(pip, check=True, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"{REFERENCE_PACKAGE} could not be installed: {exc}"
    if not script.exists():
        return None, f"{REFERENCE_PACKAGE} installed no `rh` command"
    return [str(script), "--help"], f"{REFERENCE_PACKAGE} in {venv}"


def _time_once(command: list[str], config_dir: str) -> float:
    env = {**os.environ, "RUNNINGHUB_CONFIG_DIR": config_dir}
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def measure_first_runs(runs: int) -> list[float]:
    """``runninghub --help`` with no kept copy of the help (a first run, or after an upgrade):
    click renders it."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="rh-bench-") as config_dir:
            times.append(_time_once(_command(), config_dir))
    return times


def measure_side_by_side(runs: int, reference: list[str] | None) -> tuple[list[float], list[float]]:
    """Wall times, in seconds, of ``runs`` fresh processes of ours and of the reference,
    alternately (after one warm-up run of each: file cache, and our kept help)."""
    ours = _command()
    commands = [ours] if reference is None else [ours, reference]
    times: tuple[list[float], list[float]] = ([], [])
    with tempfile.TemporaryDirectory(prefix="rh-bench-") as config_dir:
        for command in commands:
            _time_once(command, config_dir)  # warm the file cache
        for _ in range(runs):
            for index, command in enumerate(commands):
                times[index].append(_time_once(command, config_dir))
    return times


def main() -> None:
    reference, where = reference_command()
    ours, theirs = measure_side_by_side(RUNS, reference)
    median = statistics.median(ours)
    verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
    print(
        f"cli_startup: `runninghub --help` median {median * 1000:.0f} ms over {len(ours)} runs "
        f"(min {min(ours) * 1000:.0f} ms, max {max(ours) * 1000:.0f} ms; "
        f"target < {TARGET_SECONDS * 1000:.0f} ms: {verdict})"
    )
    first = statistics.median(measure_first_runs(RUNS // 3))
    print(f"cli_startup: the same with no kept help (first run) median {first * 1000:.0f} ms")
    if reference is None:
        print(f"cli_startup: no side-by-side figure: {where}")
        return
    their_median = statistics.median(theirs)
    ratio = median / their_median
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(
        f"cli_startup: `rh --help` ({where}) median {their_median * 1000:.0f} ms; "
        f"ratio {ratio:.2f} x (target <= {TARGET_RATIO}: {verdict})"
    )


if __name__ == "__main__":
    main()
