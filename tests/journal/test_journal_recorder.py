"""The journal's recorder and queries, on a real file: lifecycle, search, spend, prune, safety."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from runninghub import NodeOverride, Output, SavedFile, Task, TaskFailure, TaskStatus, Usage
from runninghub.journal import (
    SCHEMA_VERSION,
    HistoryFilter,
    Intent,
    IntentState,
    Journal,
    JournalError,
    LocalInput,
    ResolveConflictError,
    UnknownIntentError,
    _query,  # the LIKE fallback, for a SQLite without FTS5
    key_hash,
    total,
)

KEY = "0123456789abcdef0123456789abcdef"
WORKFLOW = "1904136902449209346"
TASK = "1910246754753896450"


def _submit(journal: Journal, prompt: str = "a lighthouse at dawn", **extra: object) -> int:
    return journal.record_intent(
        Intent("workflow", WORKFLOW, {"6.text": prompt, "3.seed": 42}, api_key=KEY, **extra)
    )


def test_a_submit_is_recorded_from_intent_to_outputs_and_usage(
    journal: Journal, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG fake bytes")
    local = LocalInput.of("107.image", photo)
    intent = journal.record_intent(
        Intent(
            "workflow",
            "1987728214757978114",
            [NodeOverride("107", "image", "openapi/abc.png")],
            inputs=[local],
            site="cn",
            api_key=KEY,
            batch="photos",
            batch_row=3,
        )
    )
    assert journal.show(f"i{intent}").entry.state is IntentState.SUBMITTING
    journal.attach_task(intent, TASK)
    journal.record_status(TASK, TaskStatus.QUEUED, at=100.0)
    journal.record_status(TASK, "QUEUED", at=101.0)  # no change: not a new entry
    journal.record_status(TASK, "running", at=102.0)
    output = Output("http://127.0.0.1/out/a.png", "png", "109")
    saved = SavedFile(tmp_path / "a.png", output.url, "109", "png", 5, "ab" * 32)
    finished = Task(
        TASK,
        TaskStatus.SUCCESS,
        outputs=(output,),
        usage=Usage(consume_coins=Decimal("7"), task_cost_time=Decimal("32")),
    )
    assert journal.record_task(finished, saved=[saved])

    record = journal.show(TASK)
    assert record.entry.state is IntentState.SUBMITTED
    assert record.entry.shown_status == "SUCCESS"
    assert [s.status for s in record.statuses] == ["QUEUED", "RUNNING", "SUCCESS"]
    assert record.statuses[0].at == 100.0
    assert record.params == {"107.image": "openapi/abc.png"}
    assert record.inputs == (local,)
    assert local.size == photo.stat().st_size
    assert local.path == str(photo)
    [out] = record.outputs
    assert (out.url, out.node_id, out.path, out.sha256, out.size) == (
        output.url,
        "109",
        str(saved.path),
        "ab" * 32,
        5,
    )
    assert record.usage == {"coins": "7", "money": None, "third_party_money": None, "seconds": "32"}
    assert (record.entry.batch, record.entry.batch_row, record.site) == ("photos", 3, "cn")
    assert record.key_hash == key_hash(KEY) and KEY not in record.key_hash


def test_a_failure_names_its_node_and_exception(journal: Journal) -> None:
    journal.attach_task(_submit(journal), TASK)
    failure = TaskFailure("276", "Broken", "RuntimeError", "the node exploded")
    journal.record_task(Task(TASK, TaskStatus.FAILED, failure=failure))
    record = journal.show(TASK)
    assert record.failure == {
        "node_id": "276",
        "exception_type": "RuntimeError",
        "message": "the node exploded",
    }
    assert record.entry.shown_status == "FAILED"


def test_calls_for_a_task_the_journal_never_saw_change_nothing(journal: Journal) -> None:
    assert not journal.record_status("999", "RUNNING")
    assert not journal.record_usage("999", Usage(consume_coins=Decimal(3)))
    assert not journal.record_task(Task("999", TaskStatus.SUCCESS))
    assert journal.history() == []


def test_refused_and_unknown_leave_submitting_once(journal: Journal) -> None:
    refused, lost = _submit(journal), _submit(journal)
    assert journal.record_refused(refused, "421 queue full")
    assert journal.mark_unknown(lost, "HTTP 500 after the submit")
    assert not journal.mark_unknown(refused)  # a refusal is settled: it stays refused
    states = {e.intent_id: e.state for e in journal.history()}
    assert states == {refused: IntentState.REFUSED, lost: IntentState.UNKNOWN}
    assert journal.show(f"i{lost}").note == "HTTP 500 after the submit"


def test_resolve_attaches_a_task_to_an_unknown_submit_only(journal: Journal) -> None:
    lost, other = _submit(journal), _submit(journal)
    journal.mark_unknown(lost)
    journal.attach_task(other, "111")
    with pytest.raises(ResolveConflictError, match="belongs to intent"):
        journal.resolve(lost, "111")
    with pytest.raises(ResolveConflictError, match="is submitted with task 111"):
        journal.resolve(other, "222")
    with pytest.raises(UnknownIntentError):
        journal.resolve(12345, "333")
    with pytest.raises(ValueError, match="not a task id"):
        journal.resolve(lost, "../etc")
    journal.resolve(lost, "444")
    journal.resolve(lost, "444")  # said twice: fine
    journal.record_status("444", "SUCCESS")
    record = journal.show("444")
    assert (record.entry.intent_id, record.entry.shown_status) == (lost, "SUCCESS")
    assert record.note == "task id attached by hand"


def test_an_intent_of_a_dead_process_becomes_unknown_and_a_live_ones_does_not(
    journal: Journal,
) -> None:
    mine = _submit(journal)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(child.stdout)
    orphan = _submit(journal)
    conn = sqlite3.connect(journal.path)
    conn.execute("UPDATE intents SET writer_pid = ? WHERE id = ?", (dead_pid, orphan))
    conn.commit()
    conn.close()
    assert journal.reconcile() == 1
    states = {e.intent_id: e.state for e in journal.history()}
    assert states == {mine: IntentState.SUBMITTING, orphan: IntentState.UNKNOWN}
    # An hour later nothing can still be waiting for its answer, whoever wrote it.
    assert journal.reconcile(now=journal.show(f"i{mine}").entry.created_at + 3601) == 1
    assert journal.show(f"i{mine}").entry.state is IntentState.UNKNOWN


def test_history_filters_by_target_kind_status_and_time(journal: Journal) -> None:
    old = _submit(journal, at=1000.0)
    app = journal.record_intent(Intent("app", "1877265245566922753", {"52.text": "calm sea"}))
    model = journal.record_intent(Intent("model", "rhart-image/text-to-image", {"prompt": "a cat"}))
    journal.attach_task(model, "555")
    journal.record_status("555", "FAILED")

    def ids(**wanted: object) -> list[int]:
        return [e.intent_id for e in journal.history(HistoryFilter(**wanted))]  # type: ignore[arg-type]

    assert ids() == [model, app, old]  # newest first
    assert ids(kind="workflow", target=WORKFLOW) == [old]
    assert ids(kind="app", target="1877265245566922753") == [app]
    assert ids(status="failed") == [model]
    assert ids(status="submitting") == [app, old]
    assert ids(since=2000.0) == [model, app]
    assert ids(until=2000.0) == [old]
    assert ids(since=999.0, until=1000.0) == []  # the end of a range is not in it
    assert ids(limit=1) == [model]


@pytest.mark.parametrize("searchable", [True, False], ids=["fts5", "like"])
def test_search_finds_a_run_by_a_word_of_its_prompt(journal: Journal, searchable: bool) -> None:
    wanted = _submit(journal, "A lighthouse at dawn, oil on canvas")
    _submit(journal, "a red fox in the snow")
    _submit(journal, "灯塔 在 黎明")

    def found(text: str) -> list[int]:
        wanted_filter = HistoryFilter(search=text)
        with journal._lock:
            entries = _query.history(journal._conn, wanted_filter, searchable=searchable)
        return [e.intent_id for e in entries]

    assert found("lighthouse") == [wanted]
    assert found("LIGHTHOUSE canvas") == [wanted]
    assert found("house") == [wanted]  # any part of a word
    assert found("oil") == [wanted]
    assert found("lighthouse fox") == []
    assert len(found("黎明")) == 1
    assert found('"quoted" 100%') == []
    assert journal.searchable  # this Python's SQLite has FTS5 with the trigram tokenizer


def test_spend_sums_the_recorded_usage_by_day_workflow_model_and_key(journal: Journal) -> None:
    other_key = "fedcba9876543210fedcba9876543210"
    runs = [
        ("workflow", "W1", KEY, "7", None, "SUCCESS"),
        ("workflow", "W1", KEY, "5", None, "FAILED"),
        ("app", "A1", other_key, "3", None, "SUCCESS"),
        ("model", "m/x", other_key, None, "0.25", "SUCCESS"),
        ("model", "m/x", other_key, None, "0.50", "SUCCESS"),
    ]
    for n, (kind, target, key, coins, money, status) in enumerate(runs):
        intent = journal.record_intent(Intent(kind, target, {}, api_key=key))
        journal.attach_task(intent, f"9{n}")
        usage = Usage(consume_coins=_dec(coins), consume_money=_dec(money))
        journal.record_task(Task(f"9{n}", TaskStatus(status), usage=usage))
    journal.mark_unknown(journal.record_intent(Intent("model", "m/x", {}, api_key=KEY)))
    journal.record_refused(journal.record_intent(Intent("model", "m/x", {}, api_key=KEY)))

    [day] = journal.spend(by="day")
    assert (day.tasks, day.failures, day.unknown) == (5, 1, 1)
    assert (day.coins, day.money) == (Decimal(15), Decimal("0.75"))
    by_workflow = {r.group: (r.tasks, r.coins) for r in journal.spend(by="workflow")}
    assert by_workflow == {"workflow W1": (2, Decimal(12)), "app A1": (1, Decimal(3))}
    by_model = {r.group: (r.tasks, r.money, r.unknown) for r in journal.spend(by="model")}
    assert by_model == {"model m/x": (2, Decimal("0.75"), 1)}
    by_key = {r.group: r.coins for r in journal.spend(by="key")}
    assert by_key == {key_hash(KEY): Decimal(12), key_hash(other_key): Decimal(3)}
    assert total(journal.spend(by="key")).money == Decimal("0.75")
    assert journal.spend(since=journal.history()[0].created_at + 1) == []


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def test_prune_forgets_old_records_but_keeps_unknown_ones(journal: Journal) -> None:
    done = _submit(journal, at=1000.0)
    journal.attach_task(done, "1")
    lost = _submit(journal, "lost one", at=1000.0)
    journal.mark_unknown(lost)
    fresh = _submit(journal)
    journal.uploads.store(KEY, "ab" * 32, 10, "openapi/old.png", now=1000.0)
    result = journal.prune(older_than=90 * 86400)
    assert (result.removed, result.kept_unknown, result.uploads_removed) == (1, 1, 1)
    assert {e.intent_id for e in journal.history()} == {lost, fresh}
    assert [e.intent_id for e in journal.history(HistoryFilter(search="lost"))] == [lost]
    assert journal.prune(older_than=90 * 86400, include_unknown=True).removed == 1
    with pytest.raises(UnknownIntentError):
        journal.show("1")


def test_the_upload_cache_finds_a_fresh_upload_of_the_same_file_by_the_same_key(
    journal: Journal,
) -> None:
    cache = journal.uploads
    digest = "cd" * 32
    cache.store(KEY, digest, 100, "openapi/cd.png", "http://h/cd.png", now=1000.0)
    hit = cache.lookup(KEY, digest, 100, now=1000.0 + cache.ttl - 1)
    assert hit is not None and hit.file_name == "openapi/cd.png"
    assert hit.download_url == "http://h/cd.png"
    assert cache.lookup(KEY, digest, 100, now=1000.0 + cache.ttl + 1) is None  # expired
    assert cache.lookup(KEY, digest, 101, now=1000.0) is None  # another size
    assert cache.lookup("f" * 32, digest, 100, now=1000.0) is None  # another key
    assert cache.evict(KEY, digest, 100)
    assert cache.lookup(KEY, digest, 100, now=1000.0) is None
    cache.store(KEY, digest, 100, "openapi/cd.png")
    assert cache.evict_name(KEY, "openapi/cd.png") == 1
    assert cache.ttl == 6 * 3600  # the conservative default


def test_the_upload_ttl_comes_from_the_environment_and_zero_turns_the_cache_off(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNINGHUB_UPLOAD_CACHE_TTL", "0")
    with Journal.open() as journal:
        journal.uploads.store(KEY, "ef" * 32, 1, "openapi/ef.png")
        assert journal.uploads.lookup(KEY, "ef" * 32, 1) is None
    monkeypatch.setenv("RUNNINGHUB_UPLOAD_CACHE_TTL", "an hour")
    with pytest.raises(Exception, match="RUNNINGHUB_UPLOAD_CACHE_TTL must be a number"):
        Journal.open()
    with Journal.open(upload_ttl=60) as journal:
        assert journal.uploads.ttl == 60


def test_the_file_is_private_in_wal_mode_and_refuses_what_is_no_journal(
    journal: Journal, tmp_path: Path
) -> None:
    _submit(journal)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(journal.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer runninghub"):
        Journal(journal.path)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    with pytest.raises(JournalError, match="not a runninghub journal"):
        Journal(other)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(JournalError, match="cannot create the journal"):
        Journal(blocked / "journal.sqlite")


def test_the_data_directory_follows_each_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    from runninghub.journal import data_dir

    home = Path.home()
    assert data_dir({"RUNNINGHUB_DATA_DIR": "/srv/rh"}) == Path("/srv/rh")
    monkeypatch.setattr(sys, "platform", "linux")
    assert data_dir({"XDG_DATA_HOME": "/x/data"}) == Path("/x/data/runninghub")
    assert data_dir({}) == home / ".local" / "share" / "runninghub"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir({}) == home / "Library" / "Application Support" / "runninghub"
    monkeypatch.setattr(sys, "platform", "win32")
    assert data_dir({"LOCALAPPDATA": "C:/Users/u/AppData/Local"}) == Path(
        "C:/Users/u/AppData/Local/runninghub"
    )


def test_the_no_journal_switch_is_read_from_the_environment() -> None:
    from runninghub.journal import journal_disabled

    assert journal_disabled({"RUNNINGHUB_NO_JOURNAL": "1"})
    assert journal_disabled({"RUNNINGHUB_NO_JOURNAL": "yes"})
    assert not journal_disabled({"RUNNINGHUB_NO_JOURNAL": "0"})
    assert not journal_disabled({})


def test_an_unknown_input_is_found_again_by_its_fingerprint(journal: Journal) -> None:
    lost = _submit(journal, "same input")
    journal.mark_unknown(lost)
    _submit(journal, "other input")
    same = journal.unknown_like(
        Intent("workflow", WORKFLOW, {"3.seed": 42, "6.text": "same input"})
    )
    assert [e.intent_id for e in same] == [lost]
    assert journal.unknown_like(Intent("workflow", WORKFLOW, {"6.text": "other input"})) == []
    running = _submit(journal)
    journal.attach_task(running, "77")
    journal.record_status("77", "RUNNING")
    assert journal.open_tasks(KEY, since=0) == 1
    journal.record_status("77", "SUCCESS")
    assert journal.open_tasks(KEY, since=0) == 0
    assert os.environ["RUNNINGHUB_DATA_DIR"] in str(journal.path)


def test_a_journal_that_cannot_be_written_raises_journal_error_only(journal: Journal) -> None:
    """The one exception the client flows catch, so that a journal in trouble stops no run."""
    intent = _submit(journal)
    journal._conn.execute("PRAGMA query_only = ON")  # every write now fails inside SQLite
    with pytest.raises(JournalError, match="could not be used"):
        _submit(journal)
    with pytest.raises(JournalError):
        journal.attach_task(intent, TASK)
    with pytest.raises(JournalError):
        journal.uploads.store(KEY, "ab" * 32, 1, "openapi/ab.png")
    assert [e.intent_id for e in journal.history()] == [intent]  # reading still works
