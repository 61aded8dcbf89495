"""Shared fixtures: a local emulator on 127.0.0.1 (a free port) and a valid API key.

- ``api_key``: a valid 32-hex key;
- ``emulator``: a fresh emulator per test (no queue time, 0.2 s tasks);
- ``make_emulator(**options)``: more emulators with other options, all stopped afterwards;
- ``raw_api``: a plain httpx client of ``emulator`` for wire-level tests (see ``RawApi``);
- ``make_raw_api(server, key=...)``: the same for another emulator or key.

Every test runs with its own home: ``HOME``, the XDG directories, ``RUNNINGHUB_CONFIG_DIR`` and
``RUNNINGHUB_DATA_DIR`` point into a fresh temporary directory (``isolated_home``), so that
nothing a test does (a graph cache, a saved key, a journal entry) lands in the developer's
real home, in this process or in the processes it starts. The whole session gets one such
home first, for the fixtures that are built once per module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runninghub.emulator import EmulatorServer, serve_in_thread

API_KEY = "0123456789abcdef0123456789abcdef"
TERMINAL = ("SUCCESS", "FAILED", "CANCEL")


XDG_DIRS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}


def _point_home_at(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(home))
    for name, below in XDG_DIRS.items():
        monkeypatch.setenv(name, str(home / below))
    monkeypatch.setenv("RUNNINGHUB_CONFIG_DIR", str(home / ".config" / "runninghub"))
    monkeypatch.setenv("RUNNINGHUB_DATA_DIR", str(home / ".local" / "share" / "runninghub"))


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = tmp_path_factory.mktemp("session-home")
        _point_home_at(home, monkeypatch)
        yield home


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """This test's own home (also its config and cache dirs); its path is in ``os.environ``."""
    home = tmp_path_factory.mktemp("home")
    _point_home_at(home, monkeypatch)
    return home


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    started: list[EmulatorServer] = []

    def make(**options: Any) -> EmulatorServer:
        server = serve_in_thread(**options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(queue_seconds=0, task_seconds=0.2)


class RawApi:
    """Plain HTTP calls to one emulator: the legacy family (``v1``) and v2 (``v2``)."""

    def __init__(self, server: EmulatorServer, key: str = API_KEY) -> None:
        self.server = server
        self.key = key
        self.http = httpx.Client(base_url=server.base_url, trust_env=False, timeout=10)

    def v1(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a legacy JSON body (``apiKey`` added unless present) and decode the answer."""
        payload = {"apiKey": self.key, **(body or {})}
        answer = self.http.post(path, json=payload, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def v2(self, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
        """POST a v2 JSON body with ``Authorization: Bearer`` and decode the answer."""
        headers = {"Authorization": f"Bearer {key or self.key}"}
        answer = self.http.post(path, json=body or {}, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def run_workflow(self, workflow_id: str, node_info_list: Any = None, **extra: Any) -> Any:
        body = {"nodeInfoList": node_info_list or [], **extra}
        return self.v2(f"/openapi/v2/run/workflow/{workflow_id}", body)

    def query(self, task_id: str) -> Any:
        return self.v2("/openapi/v2/query", {"taskId": task_id})

    def wait(self, task_id: str, until: tuple[str, ...] = TERMINAL, timeout: float = 15) -> Any:
        """Poll v2 query every 20 ms until the status is in ``until``; fail at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.query(task_id)
            if task["status"] in until:
                return task
            assert time.monotonic() < deadline, f"task {task_id} still {task['status']}"
            time.sleep(0.02)

    def upload_v2(self, data: bytes, filename: str = "input.png") -> Any:
        headers = {"Authorization": f"Bearer {self.key}"}
        answer = self.http.post(
            "/openapi/v2/media/upload/binary", files={"file": (filename, data)}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def make_raw_api() -> Iterator[Callable[..., RawApi]]:
    """``make_raw_api(server, key=API_KEY)``: a RawApi for another emulator or key."""
    made: list[RawApi] = []

    def make(server: EmulatorServer, key: str = API_KEY) -> RawApi:
        made.append(RawApi(server, key))
        return made[-1]

    yield make
    for api in made:
        api.close()


@pytest.fixture
def raw_api(emulator: EmulatorServer, make_raw_api: Callable[..., RawApi]) -> RawApi:
    return make_raw_api(emulator)
