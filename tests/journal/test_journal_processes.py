"""Real processes on one journal: eight writers at once, a kill -9 mid-submit, the key sweep."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

from runninghub import Output, Task, TaskFailure, TaskStatus, Usage
from runninghub.journal import Intent, IntentState, Journal, LocalInput

WRITERS = 8
SUBMITS_PER_WRITER = 40
TIMEOUT = 60

# One writer: opens the journal (all eight create it at once), says "ready", waits for "go"
# on stdin so that every writer starts together, then records whole submits.
_WRITER = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from runninghub import Output, Task, TaskStatus, Usage
    from runninghub.journal import Intent, Journal

    writer, count = int(sys.argv[1]), int(sys.argv[2])
    journal = Journal.open()
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        task_id = f"{writer}{n:06d}"
        intent = journal.record_intent(Intent(
            "workflow", "1904136902449209346", {"6.text": f"writer {writer} prompt {n}"},
            api_key="0123456789abcdef0123456789abcdef",
        ))
        journal.attach_task(intent, task_id)
        journal.record_status(task_id, "QUEUED")
        journal.record_status(task_id, "RUNNING")
        journal.record_task(Task(task_id, TaskStatus.SUCCESS,
            outputs=(Output(f"http://127.0.0.1/{task_id}.png", "png", "9"),),
            usage=Usage(consume_coins=Decimal(n % 5 + 1), task_cost_time=Decimal(2))))
    journal.close()
    print("done", flush=True)
    """
)


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_processes_writing_at_once_lose_no_row(data_dir: Path) -> None:
    writers = [_python(_WRITER, str(w + 1), str(SUBMITS_PER_WRITER)) for w in range(WRITERS)]
    try:
        for process in writers:
            assert process.stdout is not None and process.stderr is not None
            said = process.stdout.readline().strip()
            assert said == "ready", process.stderr.read()
        for process in writers:  # every writer is open and waiting: start them together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in writers:
            out, err = process.communicate(timeout=TIMEOUT)
            assert process.returncode == 0, err
            assert out.strip() == "done"
    finally:
        for process in writers:
            if process.poll() is None:
                process.kill()
                process.wait()

    expected = WRITERS * SUBMITS_PER_WRITER
    conn = sqlite3.connect(data_dir / "journal.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT task_id), SUM(status = 'SUCCESS') FROM intents"
    ).fetchone()
    assert counts == (expected, expected, expected)
    assert conn.execute("SELECT COUNT(*) FROM statuses").fetchone()[0] == 3 * expected
    assert conn.execute("SELECT COUNT(*) FROM outputs").fetchone()[0] == expected
    assert conn.execute("SELECT COUNT(*) FROM search").fetchone()[0] == expected
    conn.close()
    with Journal.open() as journal:
        [day] = journal.spend(by="day")
        coins_per_writer = sum(n % 5 + 1 for n in range(SUBMITS_PER_WRITER))
        assert (day.tasks, day.coins) == (expected, Decimal(WRITERS * coins_per_writer))
        for writer in range(1, WRITERS + 1):
            record = journal.show(f"{writer}{SUBMITS_PER_WRITER - 1:06d}")
            assert record.params == {"6.text": f"writer {writer} prompt {SUBMITS_PER_WRITER - 1}"}


# Records an intent, says which, then waits for the submit's answer that never comes.
_KILLED_MID_SUBMIT = textwrap.dedent(
    """
    import sys
    from runninghub.journal import Intent, Journal, LocalInput

    journal = Journal.open()
    photo = LocalInput.of("107.image", sys.argv[1])
    intent = journal.record_intent(Intent(
        "workflow", "1987728214757978114", {"107.image": "openapi/photo.png"}, inputs=[photo],
    ))
    print(intent, flush=True)
    sys.stdin.readline()
    journal.attach_task(intent, "1910246754753896450")
    """
)


def _runninghub(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("runninghub")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "runninghub"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNINGHUB_")}
    env["RUNNINGHUB_DATA_DIR"] = os.environ["RUNNINGHUB_DATA_DIR"]
    command = [*head, *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=60)


def test_a_kill_between_intent_and_task_id_leaves_an_unknown_that_resolve_completes(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not really a png, but bytes to hash")
    process = _python(_KILLED_MID_SUBMIT, str(photo))
    assert process.stdout is not None
    intent = int(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL

    listed = _runninghub("history", "--json")
    assert listed.returncode == 0, listed.stderr
    [unknown] = json.loads(listed.stdout)["unknown"]
    assert (unknown["intent"], unknown["state"], unknown["task_id"]) == (intent, "unknown", None)
    human = _runninghub("history")
    assert f"resolve i{intent} --task TASK_ID" in human.stderr
    shown = json.loads(_runninghub("history", "show", f"i{intent}", "--json").stdout)
    assert shown["inputs"] == [LocalInput.of("107.image", photo).to_dict()]
    assert "the process that sent this submit ended" in shown["note"]

    resolved = _runninghub("history", "resolve", f"i{intent}", "--task", "1910246754753896450")
    assert resolved.returncode == 0, resolved.stderr
    assert "runninghub wait 1910246754753896450" in resolved.stderr
    after = json.loads(_runninghub("history", "show", "1910246754753896450", "--json").stdout)
    assert (after["intent"], after["state"]) == (intent, "submitted")
    assert json.loads(_runninghub("history", "--json").stdout)["unknown"] == []
    again = _runninghub("history", "resolve", f"i{intent}", "--task", "1910246754753896451")
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and "Traceback" not in again.stderr


def test_the_key_never_appears_in_the_journal_files(data_dir: Path, tmp_path: Path) -> None:
    key = os.urandom(16).hex()
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"bytes")
    with Journal.open() as journal:
        intent = journal.record_intent(
            Intent(
                "workflow",
                "1904136902449209346",
                {"6.text": f"prompt {key}", "hook": f"https://example.test/?apiKey={key.upper()}"},
                inputs=[LocalInput.of("107.image", photo)],
                api_key=key,
                base_url="http://127.0.0.1:8188",
            )
        )
        journal.attach_task(intent, "42")
        journal.record_task(
            Task(
                "42",
                TaskStatus.FAILED,
                outputs=(Output(f"http://127.0.0.1/o.png?key={key}", "png", "9", text=key),),
                failure=TaskFailure("9", None, "ValueError", f"bad key {key}"),
                usage=Usage(consume_coins=Decimal(1)),
            )
        )
        journal.mark_unknown(journal.record_intent(Intent("model", "m/x", {}, api_key=key)), key)
        journal.uploads.store(key, "ab" * 32, 5, "openapi/ab.png", "http://h/ab.png")
        assert journal.uploads.lookup(key, "ab" * 32, 5) is not None
        assert key not in repr(journal)
        record = journal.show("42")
        assert record.entry.state is IntentState.SUBMITTED
        assert "[redacted]" in record.params["6.text"]
        assert {p.name for p in _sweep(data_dir, key)} >= {"journal.sqlite", "journal.sqlite-wal"}
    assert "journal.sqlite" in {p.name for p in _sweep(data_dir, key)}  # after the checkpoint


def _sweep(directory: Path, key: str) -> list[Path]:
    """Every file of ``directory``, checked for the key and its first 12 characters."""
    files = sorted(directory.iterdir())
    for path in files:
        content = path.read_bytes().lower()
        for needle in (key, key[:12]):
            assert needle.encode() not in content, f"{path.name} holds the key"
    return files
