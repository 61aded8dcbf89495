"""What the journal costs a real submit: the recorder's share of ``Client.run`` on the wired
path, against an in-process emulator, with the journal already holding 100,000 submits.

Every call the flows make into the journal during one run is timed: the file's size and
SHA-256, the intent (with the check for an earlier unknown submit of the same input), the
task id, each state read while waiting, the saved outputs, and the upload cache. The sum per
run is the figure. Target (issue 16): recording adds under 2 ms per submit. Run with
``python -m bench journal_wired``.
"""

from __future__ import annotations

import functools
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from bench.journal_history import KEY, build

RUNS = 40
TARGET = 0.002
INVERT = "1987728214757978114"  # 107 LoadImage -> 108 ImageInvert -> 109 SaveImage
_TIMED = (
    "local_input",
    "intent",
    "unknown_like",
    "record",
    "answered",
    "not_answered",
    "seen",
    "cached",
    "uploaded",
)


def _timed(recorder: Any, spent: list[float]) -> None:
    """Wrap the recorder's methods so that their time adds up in ``spent[0]`` (a call made
    inside another, such as ``answered`` calling ``seen``, is counted once)."""
    depth = [0]
    for name in _TIMED:
        method: Callable[..., Any] = getattr(recorder, name)

        @functools.wraps(method)
        def timed(*args: Any, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            depth[0] += 1
            started = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[0] += time.perf_counter() - started

        setattr(recorder, name, timed)


def _picture(path: Path, shade: int) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (shade, 80, 160)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def measure(directory: Path) -> tuple[list[float], list[float]]:
    """Per run: the recorder's seconds, and the whole run's seconds."""
    from runninghub import Client
    from runninghub.emulator import serve_in_thread
    from runninghub.journal import Journal

    build(directory / "journal.sqlite")
    _checkpoint(directory / "journal.sqlite")
    recorded, whole = [], []
    with (
        serve_in_thread(queue_seconds=0, task_seconds=0.05) as server,
        Journal(directory / "journal.sqlite") as journal,
        Client(KEY, base_url=server.base_url, journal=journal, config_dir=directory) as client,
    ):
        spent = [0.0]
        _timed(client._recorder, spent)
        for n in range(RUNS + 1):
            photo = _picture(directory / f"in{n % 4}.png", n % 4)  # four files, reused
            spent[0] = 0.0
            started = time.perf_counter()
            client.run(INVERT, {"107.image": photo}, out_dir=directory / "out", timeout=60)
            whole.append(time.perf_counter() - started)
            recorded.append(spent[0])
    return recorded[1:], whole[1:]  # the first run warms the connection and the caches


def _checkpoint(path: Path) -> None:
    """Move the setup's 100 MB out of the write-ahead log, as any earlier session would
    have: otherwise the first commit measured pays for copying it."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        recorded, whole = measure(Path(name))
    median = statistics.median(recorded)
    verdict = "ok" if median < TARGET else "OVER TARGET"
    print(
        f"journal_wired: the journal's share of one Client.run (upload, submit, wait, download;"
        f" 100,000 rows in the journal): median {median * 1000:.2f} ms"
        f" (p95 {statistics.quantiles(recorded, n=20)[-1] * 1000:.2f}, max"
        f" {max(recorded) * 1000:.2f}; target < {TARGET * 1000:g} ms: {verdict});"
        f" the whole run: median {statistics.median(whole) * 1000:.0f} ms",
        flush=True,
    )


if __name__ == "__main__":
    main()
