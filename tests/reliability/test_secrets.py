"""Secrets: the API key never shows up in anything the project writes.

One sweep runs a representative set of things with a fresh random key: the CLI (``auth``,
``run``, ``status``, ``outputs``, ``nodes``, ``account``, ``upload``, ``batch`` and the seed's
flags, all with ``--verbose``, plus error paths), the SDK (both clients and the seed-compatible
one, with every logger at DEBUG captured, and the text, repr, traceback and raw body of every
exception met, including lost answers and unreadable bodies), the MCP server, and an emulator
process with a state file. Then it greps all of it, and every file written under the test's
directory (ledger, manifest, outputs, config dir, emulator logs and state), for the key and for
its first 12 characters, in any letter case. Only the two files the key was deliberately put
in are left out: the config file ``auth set`` writes and a key file the user gives.

Also: the config file is 0600 in a 0700 directory, and a key sent over plain HTTP to a host
other than this machine draws a warning (once per client; on stderr from the CLI).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import stat
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runninghub import (
    APIError,
    AsyncClient,
    Client,
    ConfigError,
    PollPolicy,
    RetryPolicy,
    RunningHubClient,
)
from tests.mcp_server.mcp_harness import start_server
from tests.reliability.campaign_support import (
    INVERT,
    EmulatorProcess,
    cli_command,
    cli_env,
    make_images,
)

UNKNOWN_TASK = "1999999999999999999"
RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.02, capacity_timeout=5.0)
POLL = PollPolicy(initial=0.05, max_interval=0.2, timeout=30.0)


class Sweep:
    """Everything the project said, as labelled texts, to grep at the end."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, text: object) -> None:
        self.texts.append((label, text if isinstance(text, str) else repr(text)))

    def add_error(self, label: str, exc: BaseException) -> None:
        self.add(f"{label}: str", str(exc))
        self.add(f"{label}: repr", repr(exc))
        self.add(f"{label}: traceback", "".join(traceback.format_exception(exc)))
        if isinstance(exc, APIError):
            self.add(f"{label}: raw", json.dumps(exc.raw, default=str))
            self.add(f"{label}: hint", exc.hint or "")

    def cli(self, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            cli_command(*args),
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.add(f"runninghub {' '.join(args)}: stdout", done.stdout)
        self.add(f"runninghub {' '.join(args)}: stderr", done.stderr)
        return done.stdout


def _leaks(secret: str, text: str) -> bool:
    lowered = text.lower()
    return secret.lower() in lowered or secret[:12].lower() in lowered


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[EmulatorProcess]:
    logs = tmp_path / "emulator"
    logs.mkdir()
    process = EmulatorProcess(
        logs, 0, "--state", str(logs / "state.sqlite"), "--task-seconds", "0.1"
    )
    process.start()
    yield process
    process.stop()


def _cli_sweep(sweep: Sweep, emulator: EmulatorProcess, key: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = cli_env(config, RUNNINGHUB_BASE_URL=emulator.base_url)
    del env["RUNNINGHUB_API_KEY"]  # the key comes from the config file `auth set` writes
    sweep.cli(env, "auth", "set", stdin=key + "\n")
    assert stat.S_IMODE((config / "config.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    sweep.cli(env, "auth", "show")
    photos = tmp_path / "photos"
    make_images(photos, 3)
    photo = str(photos / "img000.png")
    out = tmp_path / "cli-out"
    run_args = ("run", INVERT, "--file", f"107.image={photo}", "--out", str(out / "run"))
    run = json.loads(sweep.cli(env, "--verbose", *run_args, "--json"))
    task_id = run["task_id"]
    for args in (
        ("status", task_id, "--json"),
        ("outputs", task_id, "--out", str(out / "outputs"), "--json"),
        ("nodes", INVERT),
        ("account", "--json"),
        ("upload", photo, "--json"),
        ("status", UNKNOWN_TASK),
        ("batch", "run", INVERT, "--inputs", str(photos), "--out", str(out / "batch")),
        ("batch", "status", "--ledger", str(out / "batch" / "batch.sqlite"), "--json"),
    ):
        sweep.cli(env, "--verbose", *args)
    emulator.configure(fault_rate=1.0, fault_kinds=["truncated"])  # every answer lost
    sweep.cli(env, "--verbose", "--retries", "0", "run", INVERT, "--no-wait", "--json")
    emulator.configure(fault_rate=0.0)
    key_file = tmp_path / "user-key.txt"
    key_file.write_text(key)
    sweep.cli(env, "--verbose", "--api-key-file", str(key_file), "account")
    sweep.cli(env, "--api-key", key, "--action", "query", "--task-id", task_id)
    seed_config = tmp_path / "seed-config"
    sweep.cli(cli_env(seed_config), "--save-key", key)
    assert stat.S_IMODE((seed_config / "config.json").stat().st_mode) == 0o600
    bad_key = key[:-1] + "g"  # one typo: not echoed either (its first 12 are the key's)
    sweep.cli({**env, "RUNNINGHUB_API_KEY": bad_key}, "--verbose", "account")


def _sdk_sweep(sweep: Sweep, emulator: EmulatorProcess, key: str, tmp_path: Path) -> None:
    photo = tmp_path / "photos" / "img001.png"
    options: dict[str, Any] = {"base_url": emulator.base_url, "retry": RETRY, "poll": POLL}
    with Client(key, config_dir=tmp_path / "sdk-config", **options) as client:
        sweep.add("repr(Client)", repr(client))
        task = client.run(INVERT, {"107.image": photo})
        sweep.add("Task", repr(task) + json.dumps(task.raw) + json.dumps(task.to_dict()))
        saved = client.download(task, tmp_path / "sdk-out")
        handle = client.task(task.task_id)
        sweep.add("TaskHandle", repr(handle) + repr(handle.wait()) + repr(saved))
        sweep.add("outputs", repr(client.outputs(task.task_id)))  # legacy: key in the body
        sweep.add("account", repr(client.account()) + repr(client.queue_status()))
        sweep.add("graph", repr(client.workflow_graph(INVERT)))  # legacy too
        _sdk_errors(sweep, client, emulator)
    try:
        Client(key[:-1] + "g", **options)
    except ConfigError as exc:
        sweep.add_error("malformed key", exc)

    async def async_face() -> None:
        async with AsyncClient(key, config_dir=tmp_path / "sdk-config", **options) as client:
            sweep.add("repr(AsyncClient)", repr(client))
            task = await client.run(INVERT, {"107.image": photo})
            sweep.add("async task", repr(task) + json.dumps(task.raw))
            try:
                await client.query(UNKNOWN_TASK)
            except APIError as exc:
                sweep.add_error("async unknown task", exc)

    asyncio.run(async_face())
    with RunningHubClient(key, base_url=emulator.base_url, retry=RETRY) as seed:
        name = seed.upload_image(photo)
        submitted = seed.submit_workflow_with_image(INVERT, "107", "image", str(name))
        done = seed.wait_for_completion(submitted["taskId"], poll_interval=0.05)
        sweep.add("seed client", repr(seed) + json.dumps([submitted, done]))
        sweep.add("seed unknown task", json.dumps(seed.query_task(UNKNOWN_TASK)))


def _sdk_errors(sweep: Sweep, client: Client, emulator: EmulatorProcess) -> None:
    calls = {
        "unknown task": lambda: client.query(UNKNOWN_TASK),
        "unknown workflow": lambda: client.workflow_graph("1"),
        "unknown task outputs": lambda: client.outputs(UNKNOWN_TASK),
    }
    for kind in ("truncated", "non_json", "http_500"):  # answers lost after the fact
        calls[f"submit, {kind}"] = lambda: client.submit(INVERT, validate=False)
        calls[f"legacy read, {kind}"] = client.account  # the key travels in its body
    for label, call in calls.items():
        kind = label.rpartition(", ")[2]
        if kind in ("truncated", "non_json", "http_500"):
            emulator.configure(fault_rate=1.0, fault_kinds=[kind])
        try:
            call()
        except APIError as exc:
            sweep.add_error(label, exc)
        else:
            raise AssertionError(f"{label}: no error")
        finally:
            emulator.configure(fault_rate=0.0)


async def _mcp_sweep(sweep: Sweep, emulator: EmulatorProcess, key: str, tmp_path: Path) -> None:
    workdir = tmp_path / "mcp"
    workdir.mkdir()
    env = cli_env(tmp_path / "mcp-config", RUNNINGHUB_API_KEY=key)
    photo = str(tmp_path / "photos" / "img002.png")
    async with start_server(emulator.base_url, env, workdir) as server:
        await server.call("account")
        run = {"workflow_id": INVERT, "files": {"107.image": photo}, "wait_seconds": 30}
        await server.call("run_workflow", run)
        await server.call("get_task", {"task_id": UNKNOWN_TASK})
        sweep.add("mcp transcript", "\n".join(server.transcript))


def _written_files(root: Path, excluded: set[Path]) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path not in excluded:
            yield path


def test_the_key_never_appears_in_anything_the_project_writes(
    emulator_process: EmulatorProcess,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = secrets.token_hex(16)
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, asyncio
    sweep = Sweep()
    _cli_sweep(sweep, emulator_process, key, tmp_path)
    _sdk_sweep(sweep, emulator_process, key, tmp_path)
    asyncio.run(_mcp_sweep(sweep, emulator_process, key, tmp_path))
    emulator_process.stop()  # flushes its logs and state
    sweep.add("log records", "\n".join(caplog.messages))
    sweep.add("formatted log", caplog.text)
    assert len(caplog.records) > 100, "DEBUG logging was not captured"

    leaks = [label for label, text in sweep.texts if _leaks(key, text)]
    excluded = {tmp_path / "config" / "config.json", tmp_path / "seed-config" / "config.json"}
    excluded.add(tmp_path / "user-key.txt")
    files = list(_written_files(tmp_path, excluded))
    leaks += [str(p) for p in files if _leaks(key, p.read_bytes().decode("latin-1"))]
    assert not leaks, f"the key (or its first 12 characters) leaked into: {leaks}"
    # The sweep did reach the places it claims to check.
    names = {p.name for p in files}
    assert {"batch.sqlite", "manifest.jsonl", "state.sqlite", "emulator-1.log"} <= names
    assert "mcp-server-stderr.log" in names
    assert sum(p.suffix == ".png" for p in files) >= 8
    assert all(_leaks(key, (p).read_text()) for p in excluded)  # the check itself works


def test_a_key_sent_over_plain_http_to_another_host_is_warned_about_once_per_client(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    key = secrets.token_hex(16)
    caplog.set_level(logging.WARNING, logger="runninghub")
    Client(key, base_url="http://example.invalid", config_dir=tmp_path).close()
    asyncio.run(AsyncClient(key, base_url="http://example.invalid:8080").close())
    warnings = [r for r in caplog.records if r.name == "runninghub"]
    assert len(warnings) == 2
    for record in warnings:
        assert record.levelno == logging.WARNING
        assert "plain HTTP to example.invalid" in record.getMessage()
        assert "https://" in record.getMessage()
        assert not _leaks(key, record.getMessage())


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://example.invalid"],
)
def test_no_warning_for_https_or_this_machine(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, base_url: str
) -> None:
    caplog.set_level(logging.WARNING, logger="runninghub")
    Client(secrets.token_hex(16), base_url=base_url, config_dir=tmp_path).close()
    assert not [r for r in caplog.records if r.name == "runninghub"]


def test_the_command_line_shows_the_plain_http_warning_on_stderr(tmp_path: Path) -> None:
    notes = tmp_path / "notes.xyz"  # refused locally: nothing is sent anywhere
    notes.write_text("not a picture")
    done = subprocess.run(
        cli_command("--base-url", "http://example.invalid", "upload", str(notes)),
        env=cli_env(tmp_path / "config"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == (
        "warning: the API key is sent over plain HTTP to example.invalid, readable by anyone"
        " on the way; use an https:// base URL"
    )
    assert done.stdout == ""
