"""Shell completion: click's scripts for ``runninghub`` and ``rhub``, and ``--set`` / ``--file``
addresses completed from the graph cache on disk, never from the network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.cli_harness import Invoker, subprocess_env

SCRIPTS = Path(sys.executable).parent
TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"


def _complete(config_dir: Path, line: str, prog: str = "runninghub", **env: str) -> list[str]:
    """What bash would be offered for the last word of ``line`` (a trailing space: a new word)."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    variables = {
        f"_{prog.upper()}_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(words),
        "COMP_CWORD": str(len(words) - 1),
        "RUNNINGHUB_CONFIG_DIR": str(config_dir),
        **env,
    }
    result = subprocess.run(
        [str(SCRIPTS / prog)],
        env=subprocess_env(variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    return [row.split(",", 1)[1] for row in result.stdout.splitlines() if "," in row]


def _requests(emulator: Any) -> int:
    return sum(emulator.stats()["requests"].values())


def test_set_completes_the_cached_workflow_addresses_without_a_request(
    live: Invoker, config_dir: Path, emulator: Any, api_key: str
) -> None:
    assert live("nodes", TEXT_TO_IMAGE).exit_code == 0  # fills the graph cache
    before = _requests(emulator)
    online = {"RUNNINGHUB_API_KEY": api_key, "RUNNINGHUB_BASE_URL": emulator.base_url}

    by_id = _complete(config_dir, f"runninghub run {TEXT_TO_IMAGE} --set 3.s", **online)
    by_class = _complete(config_dir, f"runninghub run {TEXT_TO_IMAGE} -q --set KSampler.s")
    every = _complete(config_dir, f"runninghub run {TEXT_TO_IMAGE} --set 3.seed=1 --set ")

    assert by_id == ["3.seed", "3.steps", "3.sampler_name", "3.scheduler"]
    assert by_class == [
        "KSampler.seed",
        "KSampler.steps",
        "KSampler.sampler_name",
        "KSampler.scheduler",
    ]
    assert {"6.text", "7.text", "5.width"} <= set(every)
    assert not any(name.startswith("CLIPTextEncode.") for name in every)  # two such nodes
    assert _requests(emulator) == before


def test_file_completes_only_media_fields_of_a_cached_app(live: Invoker, config_dir: Path) -> None:
    assert live("app", "inputs", APP).exit_code == 0

    offered = _complete(config_dir, f"rhub app run {APP} --file ", prog="rhub")

    assert offered == ["39.image", "LoadImage.image"]


def test_nothing_is_offered_for_an_id_never_fetched_or_after_the_equals_sign(
    live: Invoker, config_dir: Path
) -> None:
    assert live("nodes", TEXT_TO_IMAGE).exit_code == 0

    unknown = _complete(config_dir, "runninghub run 1900000000000000201 --set ")
    value = _complete(config_dir, f"runninghub run {TEXT_TO_IMAGE} --set 3.seed=")

    assert unknown == []
    assert value == []


def test_a_damaged_cache_completes_nothing_and_breaks_nothing(
    live: Invoker, config_dir: Path
) -> None:
    assert live("nodes", TEXT_TO_IMAGE).exit_code == 0
    for cached in (config_dir / "cache/graphs").glob("*.json"):
        document = cached.read_text()
        cached.write_text(document.replace('"data": ', '"data": {"3": 7}, "was": ', 1))

    assert _complete(config_dir, f"runninghub run {TEXT_TO_IMAGE} --set ") == []


def test_the_completion_scripts_are_click_s() -> None:
    for prog in ("runninghub", "rhub"):
        result = subprocess.run(
            [str(SCRIPTS / prog)],
            env=subprocess_env({f"_{prog.upper()}_COMPLETE": "bash_source"}),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert f"_{prog}_completion()" in result.stdout
        assert f"complete -o nosort -F _{prog}_completion {prog}" in result.stdout
