"""``runninghub auth``: the key is stored privately, shown masked, never printed whole."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.cli_harness import Invoker


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_set_from_stdin_writes_a_private_file(rh: Invoker, config_dir: Path, api_key: str) -> None:
    result = rh("auth", "set", input=api_key + "\n")

    assert result.exit_code == 0, result.output
    path = config_dir / "config.json"
    assert json.loads(path.read_text()) == {"api_key": api_key, "site": "cn"}
    assert _mode(path) == 0o600
    assert _mode(config_dir) == 0o700
    assert "0123…cdef" in result.stderr
    assert result.stdout == ""


def test_set_records_the_site(rh: Invoker, config_dir: Path, api_key: str) -> None:
    result = rh("auth", "set", "--site", "ai", "--json", input=api_key)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "key": "0123…cdef",
        "site": "ai",
        "config_file": str(config_dir / "config.json"),
    }
    assert json.loads((config_dir / "config.json").read_text())["site"] == "ai"


def test_show_masks_the_key_and_names_its_source(rh: Invoker, api_key: str) -> None:
    rh("auth", "set", input=api_key)

    human = rh("auth", "show")
    as_json = rh("auth", "show", "--json")

    assert human.exit_code == 0, human.output
    assert "key: 0123…cdef" in human.stdout
    assert "source: config file" in human.stdout
    document = json.loads(as_json.stdout)
    assert document["key"] == "0123…cdef"
    assert document["source"] == "config file"
    assert document["site"] == "cn"
    assert document["base_url"] == "https://www.runninghub.cn"


def test_show_prefers_the_environment(rh: Invoker) -> None:
    other = "fedcba9876543210fedcba9876543210"
    result = rh("auth", "show", "--json", env={"RUNNINGHUB_API_KEY": other})

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "environment"
    assert other not in result.output


def test_show_without_a_key_is_a_config_error(rh: Invoker) -> None:
    result = rh("auth", "show")

    assert result.exit_code == 3
    assert result.stderr.startswith("error: no API key")
    assert "RUNNINGHUB_API_KEY" in result.stderr
    assert "Traceback" not in result.output


def test_a_malformed_key_is_refused_and_not_stored(rh: Invoker, config_dir: Path) -> None:
    result = rh("auth", "set", input="not-a-key\n")

    assert result.exit_code == 3
    assert "32 hexadecimal characters" in result.stderr
    assert "not-a-key" not in result.output
    assert not (config_dir / "config.json").exists()


def test_clear_removes_the_key(rh: Invoker, config_dir: Path, api_key: str) -> None:
    rh("auth", "set", input=api_key)

    cleared = rh("auth", "clear", "--json")
    shown = rh("auth", "show")

    assert cleared.exit_code == 0
    assert json.loads(cleared.stdout)["removed"] is True
    assert "api_key" not in json.loads((config_dir / "config.json").read_text())
    assert shown.exit_code == 3


def test_import_reads_a_seed_config(
    rh: Invoker, tmp_path: Path, config_dir: Path, api_key: str
) -> None:
    seed_config = tmp_path / "seed-config.json"
    seed_config.write_text(json.dumps({"api_key": api_key}))

    result = rh("auth", "import", str(seed_config))

    assert result.exit_code == 0, result.output
    assert json.loads((config_dir / "config.json").read_text())["api_key"] == api_key
    assert _mode(config_dir / "config.json") == 0o600


def test_import_of_a_missing_or_broken_file_is_bad_input(rh: Invoker, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    missing = rh("auth", "import", str(tmp_path / "absent.json"))
    unreadable = rh("auth", "import", str(broken))

    assert missing.exit_code == 2
    assert unreadable.exit_code == 2
    assert "not valid JSON" in unreadable.stderr
    for result in (missing, unreadable):
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output


def test_seed_save_key_stores_the_key_and_warns(
    rh: Invoker, config_dir: Path, api_key: str
) -> None:
    result = rh("--save-key", api_key)

    assert result.exit_code == 0, result.output
    assert json.loads((config_dir / "config.json").read_text())["api_key"] == api_key
    assert _mode(config_dir / "config.json") == 0o600
    assert "warning: an API key on the command line" in result.stderr
    assert "0123…cdef" in result.stderr


def test_api_key_file_is_used_for_the_call(rh: Invoker, tmp_path: Path, api_key: str) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(api_key + "\n")

    result = rh("--api-key-file", str(key_file), "auth", "show", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == f"--api-key-file {key_file}"
