"""The batch ledger: state machine, compare-and-set, migrations, identity and crash safety."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from runninghub import NodeOverride
from runninghub.batch import _schema
from runninghub.batch.ledger import (
    SCHEMA_VERSION,
    BatchSpec,
    IllegalTransitionError,
    Ledger,
    LedgerBusyError,
    LedgerError,
    NotALedgerError,
    RowState,
    StaleStateError,
    decode_overrides,
    encode_overrides,
)

SPEC = BatchSpec(
    workflow_id="1987728214757978114", out_dir="/tmp/out", columns={"file": "107.image"}
)


def _rows(n: int) -> list[tuple[int, str, str]]:
    return [(i, f"fp{i}", encode_overrides([NodeOverride("6", "text", f"p{i}")])) for i in range(n)]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.create(tmp_path / "batch.sqlite", SPEC, _rows(3))
    yield opened
    opened.close()


def test_a_new_ledger_holds_the_spec_and_pending_rows(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "batch.sqlite"
    Ledger.create(path, SPEC, _rows(4)).close()
    with Ledger.open(path) as reopened:
        assert reopened.spec == SPEC
        assert reopened.schema_version == SCHEMA_VERSION
        assert reopened.counts()[RowState.PENDING] == 4
        assert [r.row for r in reopened.rows()] == [0, 1, 2, 3]
        assert reopened.row(2).overrides == [NodeOverride("6", "text", "p2")]
    # WAL mode, as promised: a reader never blocks the runner.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_full_lifecycle_records_task_outputs_coins_and_history(ledger: Ledger) -> None:
    attempt = ledger.claim(0, key_index=1)
    assert attempt == 1
    assert ledger.row(0).state is RowState.SUBMITTING
    ledger.mark_submitted(0, "1910246754753896450")
    assert ledger.row(0).task_id == "1910246754753896450"
    ledger.finish(0, RowState.SUCCEEDED, outputs=["/o/a.png"], coins=Decimal("7"))
    row = ledger.row(0)
    assert (row.state, row.outputs, row.coins, row.key_index) == (
        RowState.SUCCEEDED,
        ("/o/a.png",),
        Decimal(7),
        1,
    )
    [history] = ledger.attempts(0)
    assert (history.task_id, history.state, history.coins) == (
        "1910246754753896450",
        RowState.SUCCEEDED,
        Decimal(7),
    )
    assert history.ended_at is not None
    assert ledger.tasks_created() == 1
    assert ledger.coins_spent() == Decimal(7)


def test_retry_keeps_the_history_of_earlier_attempts(ledger: Ledger) -> None:
    ledger.claim(1, key_index=0)
    ledger.mark_submitted(1, "111")
    ledger.finish(1, RowState.FAILED, outputs=[], error="node 108 failed")
    assert ledger.reset_for_retry([RowState.FAILED]) == [1]
    pending = ledger.row(1)
    assert (pending.state, pending.task_id, pending.error) == (RowState.PENDING, None, None)
    assert ledger.claim(1, key_index=0) == 2
    ledger.mark_submitted(1, "222")
    ledger.finish(1, RowState.SUCCEEDED, outputs=["/o/b.png"])
    history = ledger.attempts(1)
    assert [(a.attempt, a.task_id, a.state) for a in history] == [
        (1, "111", RowState.FAILED),
        (2, "222", RowState.SUCCEEDED),
    ]
    assert history[0].error == "node 108 failed"


def test_illegal_transitions_are_refused_and_change_nothing(ledger: Ledger) -> None:
    with pytest.raises(IllegalTransitionError):
        ledger.finish(0, RowState.PENDING)  # submitted -> pending is never allowed
    ledger.claim(0, key_index=0)
    ledger.mark_submitted(0, "5")
    ledger.finish(0, RowState.SUCCEEDED, outputs=[])
    with pytest.raises(IllegalTransitionError):
        ledger.reset_for_retry([RowState.SUCCEEDED])
    assert ledger.row(0).state is RowState.SUCCEEDED


def test_a_transition_from_the_wrong_state_fails_its_compare_and_set(ledger: Ledger) -> None:
    with pytest.raises(StaleStateError):
        ledger.mark_submitted(2, "9")  # row 2 is pending, not submitting
    assert ledger.row(2) == ledger.rows([RowState.PENDING])[-1]
    assert ledger.row(2).task_id is None


def test_two_connections_cannot_both_claim_a_row(ledger: Ledger) -> None:
    with Ledger.open(ledger.path) as other:
        other.claim(2, key_index=0)
        with pytest.raises(StaleStateError):
            ledger.claim(2, key_index=1)
    assert ledger.row(2).key_index == 0
    assert len(ledger.attempts(2)) == 1


def test_a_row_left_submitting_by_a_crash_becomes_unknown(ledger: Ledger) -> None:
    ledger.claim(0, key_index=0)
    assert ledger.recover_interrupted() == [0]
    row = ledger.row(0)
    assert row.state is RowState.UNKNOWN
    assert "may exist" in (row.error or "")
    # An unknown submit may have created (and billed) a task: the spend guard counts it.
    assert ledger.tasks_created() == 1
    assert ledger.reset_for_retry([RowState.UNKNOWN]) == [0]
    assert ledger.row(0).state is RowState.PENDING


def test_release_puts_a_refused_submit_back_without_counting_a_task(ledger: Ledger) -> None:
    ledger.claim(0, key_index=0)
    ledger.release(0, "[421] queue full")
    assert ledger.row(0).state is RowState.PENDING
    assert ledger.tasks_created() == 0
    assert ledger.claim(0, key_index=0) == 2


def test_the_runner_lock_is_exclusive(ledger: Ledger) -> None:
    ledger.lock()
    with Ledger.open(ledger.path) as other:
        with pytest.raises(LedgerBusyError):
            other.lock()
        ledger.unlock()
        other.lock()


def test_overrides_round_trip_with_local_files_as_paths() -> None:
    items = [NodeOverride("107", "image", Path("/data/a.png")), NodeOverride("3", "seed", 7)]
    assert decode_overrides(encode_overrides(items)) == items


def test_an_older_schema_is_migrated_with_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA application_id = {_schema.APPLICATION_ID}")
    _schema.migrate(conn, target=1)
    conn.execute("INSERT INTO batch_meta VALUES ('spec', ?)", (SPEC.to_json(),))
    conn.execute(
        "INSERT INTO rows (row, fingerprint, overrides, state, task_id, key_index, attempt,"
        " updated_at) VALUES (0, 'fp', '[]', 'submitted', '42', 0, 1, 1.0)"
    )
    conn.close()
    with Ledger.open(path) as migrated:
        assert migrated.schema_version == SCHEMA_VERSION
        assert migrated.row(0).task_id == "42"
        [history] = migrated.attempts(0)
        assert (history.task_id, history.state) == ("42", RowState.SUBMITTED)
        migrated.finish(0, RowState.SUCCEEDED, outputs=[])


def test_a_ledger_from_a_newer_version_is_refused(ledger: Ledger) -> None:
    ledger._conn.execute("PRAGMA user_version = 99")
    with pytest.raises(LedgerError, match="newer"):
        Ledger.open(ledger.path)


def test_a_file_that_is_not_a_ledger_gives_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "inputs.csv"
    text.write_text("file\na.png\n" * 100)
    with pytest.raises(NotALedgerError, match="not a batch ledger"):
        Ledger.open(text)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(NotALedgerError):
        Ledger.open(other)
    assert other.read_bytes() == before  # identified without being modified
    with pytest.raises(LedgerError, match="no batch ledger"):
        Ledger.open(tmp_path / "missing.sqlite")


def test_create_refuses_an_existing_file(ledger: Ledger) -> None:
    with pytest.raises(LedgerBusyError, match="another batch is running"):
        Ledger.create(ledger.path, SPEC, _rows(1))  # its creator still holds the runner lock
    ledger.unlock()
    with pytest.raises(LedgerError, match="already exists"):
        Ledger.create(ledger.path, SPEC, _rows(1))


def test_a_failed_create_leaves_no_file_behind(tmp_path: Path) -> None:
    def rows() -> object:
        yield (0, "fp0", "[]")
        raise RuntimeError("input broke")

    path = tmp_path / "batch.sqlite"
    with pytest.raises(RuntimeError):
        Ledger.create(path, SPEC, rows())  # type: ignore[arg-type]
    # Only the (empty) runner lock file stays: removing a lock file is never safe.
    assert [p.name for p in tmp_path.iterdir()] == ["batch.sqlite.lock"]
    assert (tmp_path / "batch.sqlite.lock").stat().st_size == 0


def test_a_process_killed_inside_a_transaction_leaves_the_previous_state(ledger: Ledger) -> None:
    ledger.claim(0, key_index=0)
    ledger.mark_submitted(0, "77")
    script = textwrap.dedent(
        f"""
        import os, signal
        from runninghub.batch.ledger import Ledger
        ledger = Ledger.open({str(ledger.path)!r})
        with ledger._transaction() as conn:
            conn.execute("UPDATE rows SET state = 'succeeded'")
            conn.execute("DELETE FROM attempts")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == -9
    with Ledger.open(ledger.path) as after:
        assert after._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r.state for r in after.rows()] == [
            RowState.SUBMITTED,
            RowState.PENDING,
            RowState.PENDING,
        ]
        assert after.row(0).task_id == "77"
        assert len(after.attempts()) == 1
