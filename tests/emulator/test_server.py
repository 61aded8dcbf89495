"""The emulator as a process: the ready line, clean stops, options, quiet logs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runninghub.emulator import EmulatorOptions, main, serve_in_thread

READY = re.compile(r"RunningHub emulator listening on (http://127\.0\.0\.1:\d+)")
INVERT = "1987728214757978114"


MODULE_ENTRY = ("runninghub.emulator.server",)
CLI_ENTRY = ("runninghub", "emulator")


def _start(*args: str, entry: tuple[str, ...] = MODULE_ENTRY) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", *entry, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = READY.fullmatch(line.strip())
    assert match, (line, process.stderr.read() if process.poll() is not None else "")
    return process, match.group(1)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_process_prints_its_url_and_stops_cleanly(api_key, stop) -> None:
    process, url = _start("--task-seconds", "30", "--concurrency", "1")
    try:
        headers = {"Authorization": f"Bearer {api_key}"}
        answer = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json={}, headers=headers)
        assert answer.json()["errorCode"] == ""
        again = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json={}, headers=headers)
        assert again.json()["errorCode"] == "421"
        bad = httpx.post(f"{url}/task/openapi/create", content=b"{", headers=headers)
        assert bad.json()["code"] == 301
    finally:
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert api_key not in out + err
    assert "Traceback" not in err


def test_a_keys_file_restricts_the_keys(tmp_path: Path, api_key) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# test keys\nai:{api_key}\n", encoding="utf-8")
    process, url = _start("--keys", str(keys), "--site", "cn")
    try:
        answer = httpx.post(f"{url}/uc/openapi/accountStatus", json={"apikey": api_key})
        assert answer.json()["code"] == 802
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_bad_options_exit_with_2(capsys) -> None:
    assert main(["--fault-rate", "3"]) == 2
    assert "fault_rate" in capsys.readouterr().err
    assert main(["--workflows", "/no/such/dir"]) == 2


def test_a_workflows_directory_adds_workflows(tmp_path: Path, make_emulator, make_raw_api) -> None:
    graph = '{"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8}},'
    graph += ' "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}'
    (tmp_path / "42.json").write_text(graph, encoding="utf-8")
    api = make_raw_api(make_emulator(workflows_dir=tmp_path, task_seconds=0.1))
    assert api.wait(api.run_workflow("42")["taskId"])["status"] == "SUCCESS"


def test_serve_in_thread_is_a_context_manager(api_key) -> None:
    with serve_in_thread(task_seconds=0.1) as server:
        assert isinstance(server.options, EmulatorOptions)
        answer = httpx.post(f"{server.base_url}/uc/openapi/accountStatus", json={"apikey": api_key})
        assert answer.json()["code"] == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/__emulator__/stats", trust_env=False)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError, match="colour"):
        serve_in_thread(colour="blue")


def test_the_server_thread_leaves_no_temporary_files(api_key) -> None:
    server = serve_in_thread(task_seconds=0.05)
    root = server.state.files.root
    assert root.is_dir()
    server.stop()
    assert not os.path.exists(root)


def test_the_module_entry_takes_the_public_url_cancel_status_and_fetch_hosts() -> None:
    from runninghub.emulator.server import build_parser, options_from_args

    args = ["--public-url", "https://rh.example.com/", "--cancel-status-v2", "FAILED"]
    args += ["--fetch-host", "Media.Example.com", "--fetch-host", "127.0.0.1:8000"]
    options = options_from_args(build_parser().parse_args(args))

    assert options.public_url == "https://rh.example.com"
    assert options.cancel_status_v2 == "FAILED"
    assert options.fetch_hosts == ("media.example.com", "127.0.0.1:8000")
    assert main(["--public-url", "rh.example.com"]) == 2


@pytest.mark.parametrize("entry", [MODULE_ENTRY, CLI_ENTRY], ids=["module", "cli"])
def test_the_process_takes_key_types_and_prices(api_key, entry) -> None:
    process, url = _start("--key-type", "EXCLUSIVE", "--initial-money", "5", "--money-price",
                          "0.5", "--task-seconds", "0", "--instant-model-share", "1",
                          entry=entry)  # fmt: skip
    try:
        headers = {"Authorization": f"Bearer {api_key}"}
        body = {"text": "hi", "voiceId": "genshin_klee2", "voiceLanguage": "en"}
        done = httpx.post(f"{url}/openapi/v2/kling-lip-sync/tts", json=body, headers=headers)
        assert done.json()["status"] == "SUCCESS"
        task = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json={}, headers=headers)
        query = {"taskId": task.json()["taskId"]}
        for _ in range(1000):  # a 0 s task: done after a few polls
            answer = httpx.post(f"{url}/openapi/v2/query", json=query, headers=headers)
            if answer.json()["status"] == "SUCCESS":
                break
        status = httpx.post(f"{url}/uc/openapi/accountStatus", json={"apikey": api_key}).json()
        assert (status["data"]["apiType"], status["data"]["remainMoney"]) == ("EXCLUSIVE", "4.465")
    finally:
        process.terminate()
        process.communicate(timeout=10)
