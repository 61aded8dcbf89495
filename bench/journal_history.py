"""The journal at 100,000 submits: ``history`` and a search as whole processes, and the cost
of recording one submit.

Targets (issue 16): ``runninghub history --limit 50`` under 0.2 s as a whole process, a
``--search`` under 0.5 s, and the recorder calls of one submit (intent, task id, two status
changes, the final task with outputs and usage) under 2 ms. The journal is filled through
SQL in one transaction (setup only), shaped like what the recorder writes. Run with
``python -m bench journal_history``.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROWS = 100_000
RUNS = 10
SUBMITS = 200
WORKFLOW_ID = "1904136902449209346"
KEY = "0123456789abcdef0123456789abcdef"
WORDS = (
    "red",
    "fox",
    "castle",
    "river",
    "neon",
    "city",
    "portrait",
    "forest",
    "storm",
    "sea",
    "glass",
    "dragon",
    "garden",
    "desert",
    "winter",
    "robot",
    "moon",
    "market",
    "bridge",
)
RARE = "lighthouse"  # in one prompt out of a thousand
TARGETS = {"history": 0.2, "search": 0.5, "record": 0.002}


def build(path: Path) -> None:
    """ROWS finished submits over the last 60 days, each with 3 status changes and an output."""
    from runninghub.journal import Journal, key_hash
    from runninghub.journal._values import canonical_json, fingerprint

    Journal(path).close()  # the schema
    import sqlite3

    rng = random.Random(16)
    now = time.time()
    conn = sqlite3.connect(path)
    intents, search, statuses, outputs = [], [], [], []
    for n in range(1, ROWS + 1):
        prompt = " ".join(rng.choice(WORDS) for _ in range(8))
        if n % 1000 == 0:
            prompt += f" {RARE}"
        params = canonical_json({"6.text": prompt, "3.seed": n})
        at = now - rng.uniform(0, 60 * 86400)
        task_id = str(1910000000000000000 + n)
        intents.append(
            (
                n,
                at,
                "workflow",
                WORKFLOW_ID,
                params,
                fingerprint("workflow", WORKFLOW_ID, params, ()),
                "cn",
                None,
                key_hash(KEY),
                "submitted",
                task_id,
                "SUCCESS",
                at + 30,
                str(rng.randint(1, 9)),
                "30",
                f"{WORKFLOW_ID}\n{prompt}",
                at + 30,
            )
        )
        search.append((n, f"{WORKFLOW_ID}\n{prompt}"))
        statuses += [(n, s, at + i) for i, s in enumerate(("QUEUED", "RUNNING", "SUCCESS"))]
        outputs.append((n, 0, f"https://www.runninghub.cn/o/{task_id}.png", "png", "9"))
    conn.executemany(
        "INSERT INTO intents (id, created_at, kind, target, params, fingerprint, site, base_url,"
        " key_hash, state, task_id, status, status_at, coins, seconds, search_text, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        intents,
    )
    conn.executemany("INSERT INTO search (rowid, text) VALUES (?, ?)", search)
    conn.executemany("INSERT INTO statuses VALUES (?, ?, ?)", statuses)
    conn.executemany(
        "INSERT INTO outputs (intent_id, position, url, type, node_id) VALUES (?, ?, ?, ?, ?)",
        outputs,
    )
    conn.commit()
    conn.close()


def _process_env(directory: str) -> dict[str, str]:
    """The environment of the measured processes: the bench's journal, and bytecode caches
    (in the temporary directory) as an installed package has them, even where the shell
    sets PYTHONDONTWRITEBYTECODE, which would recompile every module on every start."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["RUNNINGHUB_DATA_DIR"] = directory
    env["PYTHONPYCACHEPREFIX"] = str(Path(directory) / "pycache")
    return env


def _command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("runninghub")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "runninghub"]
    return [*head, *args]


def whole_process(env: dict[str, str], *args: str) -> tuple[list[float], str]:
    """Wall times of RUNS fresh processes, and the last one's output.

    Also prints their median CPU time (user + system): on a shared machine the wall time
    includes waiting for a core, the CPU time does not."""
    command = _command(*args)
    subprocess.run(command, env=env, check=True, capture_output=True)  # warm the caches
    times, cpu = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(
        f"journal_history: `runninghub {' '.join(args)}` CPU time median "
        f"{statistics.median(cpu) * 1000:.0f} ms (machine load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return times, done.stdout


def record_submits(path: Path) -> list[float]:
    """Seconds spent in the recorder calls of each of SUBMITS submits."""
    from runninghub import Output, Task, TaskStatus, Usage
    from runninghub.journal import Intent, Journal

    times = []
    with Journal(path) as journal:
        for n in range(SUBMITS):
            task_id = str(1920000000000000000 + n)
            task = Task(
                task_id,
                TaskStatus.SUCCESS,
                outputs=(Output(f"https://www.runninghub.cn/o/{task_id}.png", "png", "9"),),
                usage=Usage(consume_coins=Decimal(7), task_cost_time=Decimal(30)),
            )
            started = time.perf_counter()
            intent = journal.record_intent(
                Intent(
                    "workflow",
                    WORKFLOW_ID,
                    {"6.text": f"a {RARE} at dawn {n}", "3.seed": n},
                    site="cn",
                    api_key=KEY,
                )
            )
            journal.attach_task(intent, task_id)
            journal.record_status(task_id, TaskStatus.QUEUED)
            journal.record_status(task_id, TaskStatus.RUNNING)
            journal.record_task(task)
            times.append(time.perf_counter() - started)
    return times


def _report(name: str, times: list[float], extra: str = "") -> None:
    median = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1]
    verdict = "ok" if median < TARGETS[name] else "OVER TARGET"
    print(
        f"journal_history: {name}{extra}: median {median * 1000:.1f} ms "
        f"(min {min(times) * 1000:.1f}, p95 {p95 * 1000:.1f}, max {max(times) * 1000:.1f}; "
        f"target < {TARGETS[name] * 1000:g} ms: {verdict})",
        flush=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        env = _process_env(directory)
        path = Path(directory) / "journal.sqlite"
        started = time.perf_counter()
        build(path)
        print(
            f"journal_history: {ROWS:,} submits written in {time.perf_counter() - started:.1f} s "
            f"({path.stat().st_size / 1e6:.0f} MB)",
            flush=True,
        )
        help_times, _ = whole_process(env, "--help")
        print(
            f"journal_history: `runninghub --help` for comparison: median "
            f"{statistics.median(help_times) * 1000:.0f} ms",
            flush=True,
        )
        times, out = whole_process(env, "history", "--limit", "50")
        _report("history", times, f" --limit 50 ({len(out.splitlines()) - 1} rows)")
        times, out = whole_process(env, "history", "--search", RARE, "--limit", "50")
        _report("search", times, f" --search {RARE} ({len(out.splitlines()) - 1} rows)")
        times, _ = whole_process(env, "history", "--search", "castle dragon", "--limit", "50")
        _report("search", times, " --search 'castle dragon' (common words)")
        _report("record", record_submits(path), " one submit's recorder calls")
        times, _ = whole_process(env, "spend", "--since", "30d")
        print(
            f"journal_history: spend --since 30d: median {statistics.median(times):.2f} s "
            "(no target)",
            flush=True,
        )


if __name__ == "__main__":
    main()
