"""A key of the other site: asked there once, remembered per key, on both faces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runninghub import AuthenticationError
from runninghub.emulator import EmulatorServer
from tests.conftest import API_KEY

from .conftest import INVERT_WORKFLOW


@pytest.fixture
def sites(
    make_emulator: Callable[..., EmulatorServer], api_key: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmulatorServer, EmulatorServer]:
    keys = [f"ai:{api_key}"]
    cn = make_emulator(site="cn", keys=keys, queue_seconds=0, task_seconds=0.1)
    ai = make_emulator(site="ai", keys=keys, queue_seconds=0, task_seconds=0.1)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL_CN", cn.base_url)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL_AI", ai.base_url)
    monkeypatch.delenv("RUNNINGHUB_BASE_URL", raising=False)
    return cn, ai


def _requests(server: EmulatorServer) -> int:
    return sum(server.stats()["requests"].values())


def test_a_submit_refused_as_unknown_goes_to_the_other_site_once(
    make_client: Callable[..., Any], sites: tuple[EmulatorServer, EmulatorServer], tmp_path: Path
) -> None:
    cn, ai = sites
    client = make_client(base_url=None)
    assert client.site == "cn"

    task = client.run(INVERT_WORKFLOW)
    later = make_client(base_url=None)

    assert task.status.value == "SUCCESS"
    assert (client.site, client.base_url) == ("ai", ai.base_url)
    assert (cn.stats()["tasks_created"], ai.stats()["tasks_created"]) == (0, 1)
    assert _requests(cn) == 1
    assert (later.site, later.base_url) == ("ai", ai.base_url)
    assert api_key_not_in(tmp_path / "config" / "sites.json")


def api_key_not_in(path: Path) -> bool:
    return path.is_file() and API_KEY not in path.read_text()


def test_an_explicit_site_is_kept(
    make_client: Callable[..., Any], sites: tuple[EmulatorServer, EmulatorServer]
) -> None:
    cn, ai = sites
    client = make_client(base_url=None, site="cn")
    with pytest.raises(AuthenticationError):
        client.account()
    assert (_requests(cn), _requests(ai)) == (1, 0)
    assert client.site == "cn"
