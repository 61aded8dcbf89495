"""The key's site: ``RUNNINGHUB_SITE``, ``auth clear`` forgetting the site, and a key of the
other site found there once and remembered, with two emulators playing the two sites."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
STRANGER = "fedcba9876543210fedcba9876543210"  # a key neither site knows


@pytest.fixture
def sites(make_emulator: Any, api_key: str) -> tuple[EmulatorServer, EmulatorServer]:
    """``cn`` and ``ai`` emulators that both list the key as an ``ai`` key: cn refuses it."""
    keys = [f"ai:{api_key}"]
    cn = make_emulator(site="cn", keys=keys, queue_seconds=0, task_seconds=0.1)
    ai = make_emulator(site="ai", keys=keys, queue_seconds=0, task_seconds=0.1)
    return cn, ai


@pytest.fixture
def roaming(rh: Invoker, sites: tuple[EmulatorServer, EmulatorServer], api_key: str) -> Invoker:
    """``runninghub`` with the key in the environment and no base URL pinned: each site's
    address is its emulator's."""
    cn, ai = sites
    env = {
        **rh.env,
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL_CN": cn.base_url,
        "RUNNINGHUB_BASE_URL_AI": ai.base_url,
    }
    return Invoker(env=env, secrets=(api_key,))


def _requests(server: EmulatorServer) -> int:
    return sum(server.stats()["requests"].values())


def test_runninghub_site_selects_the_site(rh: Invoker, api_key: str) -> None:
    env = {"RUNNINGHUB_API_KEY": api_key}
    ai = rh("auth", "show", "--json", env={**env, "RUNNINGHUB_SITE": "ai"})
    default = rh("auth", "show", "--json", env=env)
    wrong = rh("auth", "show", env={**env, "RUNNINGHUB_SITE": "mars"})

    assert ai.exit_code == 0, ai.output
    assert json.loads(ai.stdout)["site"] == "ai"
    assert json.loads(ai.stdout)["base_url"] == "https://www.runninghub.ai"
    assert json.loads(default.stdout)["site"] == "cn"
    assert wrong.exit_code == 3 and "unknown site 'mars'" in wrong.stderr


def test_auth_clear_forgets_the_site_too(rh: Invoker, config_dir: Path, api_key: str) -> None:
    rh("auth", "set", "--site", "ai", input=api_key)

    cleared = rh("auth", "clear")
    shown = rh("auth", "show", "--json", env={"RUNNINGHUB_API_KEY": api_key})

    assert cleared.exit_code == 0, cleared.output
    assert json.loads((config_dir / "config.json").read_text()) == {}
    assert json.loads(shown.stdout)["site"] == "cn"


def test_a_key_of_the_other_site_is_found_there_once_and_remembered(
    roaming: Invoker, sites: tuple[EmulatorServer, EmulatorServer], config_dir: Path
) -> None:
    cn, ai = sites

    first = roaming("run", TEXT_TO_IMAGE, "--no-download", "--json")
    asked_cn = _requests(cn)
    second = roaming("account", "--json")
    shown = roaming("auth", "show", "--json")

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["status"] == "SUCCESS"
    assert (cn.stats()["tasks_created"], ai.stats()["tasks_created"]) == (0, 1)
    assert asked_cn == 1  # one refusal, then everything went to ai
    assert second.exit_code == 0, second.output
    assert _requests(cn) == 1  # the second command went straight to ai
    assert json.loads(shown.stdout)["site"] == "ai"
    assert json.loads(shown.stdout)["base_url"] == ai.base_url
    remembered = config_dir / "sites.json"
    assert stat.S_IMODE(remembered.stat().st_mode) == 0o600
    assert list(json.loads(remembered.read_text()).values()) == ["ai"]


def test_a_key_neither_site_knows_is_refused_once_each_and_not_remembered(
    roaming: Invoker, sites: tuple[EmulatorServer, EmulatorServer], config_dir: Path
) -> None:
    cn, ai = sites

    result = roaming("account", env={"RUNNINGHUB_API_KEY": STRANGER})

    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert (_requests(cn), _requests(ai)) == (1, 1)
    assert not (config_dir / "sites.json").exists()


def test_a_pinned_base_url_or_site_never_asks_the_other_site(
    roaming: Invoker, sites: tuple[EmulatorServer, EmulatorServer]
) -> None:
    cn, ai = sites

    pinned = roaming("--base-url", cn.base_url, "account")
    chosen = roaming("--site", "cn", "account")

    assert pinned.exit_code == 3 and chosen.exit_code == 3
    assert (_requests(cn), _requests(ai)) == (2, 0)
