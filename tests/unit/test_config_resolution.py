"""Settings resolution, the config file and redaction (no network)."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runninghub import ConfigError
from runninghub._config import (
    SITES,
    clear_key,
    forget_sites,
    load_config,
    remember_site,
    remembered_site,
    resolve_settings,
    save_key,
)
from runninghub._redaction import (
    install_log_redaction,
    mask_key,
    redact,
    redact_data,
    redact_secrets,
)

KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def test_argument_beats_environment_beats_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_key(OTHER, "ai", tmp_path)
    monkeypatch.setenv("RUNNINGHUB_API_KEY", "a" * 32)
    assert resolve_settings(KEY, config_dir=tmp_path).api_key == KEY
    assert resolve_settings(config_dir=tmp_path).api_key == "a" * 32
    monkeypatch.delenv("RUNNINGHUB_API_KEY")
    settings = resolve_settings(config_dir=tmp_path)
    assert (settings.api_key, settings.key_source) == (OTHER, "config file")
    assert settings.site == "ai"
    assert settings.base_url == SITES["ai"]


def test_missing_key_names_all_three_sources(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(config_dir=tmp_path)
    message = str(caught.value)
    assert "api_key" in message
    assert "RUNNINGHUB_API_KEY" in message
    assert str(tmp_path / "config.json") in message


@pytest.mark.parametrize("bad", ["", "123", KEY + "0", KEY[:-1] + "g", f" {KEY[:31]} "])
def test_malformed_key_is_refused_without_echoing_it(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(bad, config_dir=tmp_path)
    assert "32 hexadecimal" in str(caught.value)
    if len(bad.strip()) > 3:
        assert bad.strip() not in str(caught.value)


def test_key_whitespace_is_stripped(tmp_path: Path) -> None:
    assert resolve_settings(f"  {KEY}\n", config_dir=tmp_path).api_key == KEY


def test_site_and_base_url_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_settings(KEY, config_dir=tmp_path).base_url == "https://www.runninghub.cn"
    assert resolve_settings(KEY, site="ai", config_dir=tmp_path).base_url == SITES["ai"]
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", "http://127.0.0.1:9/")
    assert resolve_settings(KEY, site="ai", config_dir=tmp_path).base_url == "http://127.0.0.1:9"
    explicit = resolve_settings(KEY, base_url="http://localhost:1/p", config_dir=tmp_path)
    assert explicit.base_url == "http://localhost:1/p"


@pytest.mark.parametrize("site", ["jp", "", "www.runninghub.cn"])
def test_unknown_site_is_refused(site: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown site"):
        resolve_settings(KEY, site=site, config_dir=tmp_path)


@pytest.mark.parametrize("url", ["ftp://x", "localhost:8000", "http://", "http://h/?a=1"])
def test_bad_base_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="base URL"):
        resolve_settings(KEY, base_url=url, config_dir=tmp_path)


def test_config_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_key(KEY, "cn", tmp_path / "custom")
    monkeypatch.setenv("RUNNINGHUB_CONFIG_DIR", str(tmp_path / "custom"))
    assert resolve_settings().config_dir == tmp_path / "custom"
    assert resolve_settings().api_key == KEY


def test_platform_config_dir_is_used_by_default(clean_env: Path) -> None:
    path = save_key(KEY, "cn")
    assert path == clean_env / ".config" / "runninghub" / "config.json"
    assert resolve_settings().api_key == KEY


def test_saved_file_is_private_and_merges(tmp_path: Path) -> None:
    directory = tmp_path / "cfg"
    (directory).mkdir()
    (directory / "config.json").write_text(json.dumps({"other": 1}))
    path = save_key(KEY, "ai", directory)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"other": 1, "api_key": KEY, "site": "ai"}
    assert [p.name for p in directory.iterdir()] == ["config.json"]  # no temp file left


def test_clear_key_removes_the_key_and_its_site_and_keeps_other_settings(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"theme": "dark"}')
    save_key(KEY, "ai", tmp_path)
    assert clear_key(tmp_path) is True
    assert load_config(tmp_path) == {"theme": "dark"}
    assert clear_key(tmp_path) is False


def test_broken_config_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_config(tmp_path)


def test_nothing_is_read_at_import(tmp_path: Path) -> None:
    """A broken environment only matters once a client is built, not at import."""
    (tmp_path / "config.json").write_text("{broken")
    env = {**os.environ, "RUNNINGHUB_API_KEY": "not-a-key", "RUNNINGHUB_CONFIG_DIR": str(tmp_path)}
    code = "import runninghub, runninghub._client, runninghub.compat; print(runninghub.Client)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Client" in done.stdout


def test_settings_repr_masks_the_key(tmp_path: Path) -> None:
    settings = resolve_settings(KEY, config_dir=tmp_path)
    assert KEY not in repr(settings)
    assert "0123…cdef" in repr(settings)


def test_mask_and_redact() -> None:
    assert mask_key(KEY) == "0123…cdef"
    assert mask_key("short") == "****"
    assert mask_key(None) == ""
    assert redact(f"x {KEY} y {KEY.upper()}", KEY) == "x 0123…cdef y 0123…cdef"
    assert redact_data({"a": [KEY, 1, {"b": f"k={KEY}"}]}, KEY) == {
        "a": ["0123…cdef", 1, {"b": "k=0123…cdef"}]
    }


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GET /api/webapp/apiCallDemo?apiKey={KEY}&webappId=1", KEY),
        (f'{{"apiKey": "{KEY}", "taskId": "1"}}', KEY),
        (f'{{"apikey":"{KEY}"}}', KEY),
        (f"Authorization: Bearer {KEY}", KEY),
        ("GET /ws/c_instance?clientId=1&Rh-Comfy-Auth=c0c815fe35a1&taskId=2", "c0c815fe35a1"),
    ],
)
def test_redact_secrets_hides_credentials_whatever_the_key(text: str, secret: str) -> None:
    assert secret not in redact_secrets(text)


def test_log_filter_redacts_third_party_records(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    assert len([f for f in logging.getLogger("httpx").filters if f]) >= 1
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("HTTP Request: GET %s", f"http://h/x?apiKey={KEY}")
    assert caplog.records
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_the_site_comes_from_the_argument_the_key_s_site_the_environment_then_the_file(
    tmp_path: Path,
) -> None:
    save_key(KEY, "cn", tmp_path)
    env = {"RUNNINGHUB_SITE": "ai"}
    assert resolve_settings(KEY, config_dir=tmp_path, env=env).site == "ai"
    assert resolve_settings(KEY, config_dir=tmp_path, env={}).site == "cn"
    remember_site(tmp_path, KEY, "ai")
    assert resolve_settings(KEY, config_dir=tmp_path, env={}).site == "ai"
    assert resolve_settings(KEY, site="cn", config_dir=tmp_path, env=env).site == "cn"
    # A pinned base URL is one server: no remembered site applies, nor is another asked.
    pinned = resolve_settings(KEY, base_url="http://127.0.0.1:9", config_dir=tmp_path, env={})
    assert (pinned.site, pinned.other_site()) == ("cn", None)
    assert resolve_settings(KEY, config_dir=tmp_path, env={}).other_site() == "cn"


def test_each_site_s_address_may_be_set_and_the_remembered_sites_are_private(
    tmp_path: Path,
) -> None:
    env = {"RUNNINGHUB_BASE_URL_AI": "http://127.0.0.1:7/"}
    remember_site(tmp_path, KEY, "ai")
    settings = resolve_settings(KEY, config_dir=tmp_path, env=env)
    assert settings.base_url == "http://127.0.0.1:7"
    assert settings.site_urls["cn"] == "https://www.runninghub.cn"
    assert oct((tmp_path / "sites.json").stat().st_mode & 0o777) == "0o600"
    assert KEY not in (tmp_path / "sites.json").read_text()
    assert forget_sites(tmp_path) is True
    assert remembered_site(tmp_path, KEY) is None
