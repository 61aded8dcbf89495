"""Two real ``runninghub preset add`` processes writing the same presets file at once: the
file's lock makes the second read what the first wrote, so neither preset is lost."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.cli.cli_harness import runninghub_command, subprocess_env

_STARTUP_LIMIT = 120.0  # seconds for both processes to reach the lock on a loaded machine


@contextmanager
def _holding(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _has_open(process: subprocess.Popen[str], path: Path) -> bool:
    """Whether the process holds ``path`` open (read from Linux's /proc)."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # the process ended, or closed a descriptor while it was read
        return False


def _wait_until_both_wait(processes: list[subprocess.Popen[str]], lock: Path) -> None:
    """Each process has the lock file open: it is waiting for the lock the test holds."""
    deadline = time.monotonic() + _STARTUP_LIMIT
    while not all(_has_open(p, lock) for p in processes):
        ended = [p for p in processes if p.poll() is not None]
        assert not ended, ended[0].communicate()
        assert time.monotonic() < deadline, "the processes never reached the presets lock"
        time.sleep(0.05)


def test_two_concurrent_adds_both_land_in_the_file(
    tmp_path: Path, emulator: Any, api_key: str
) -> None:
    config = tmp_path / "config"
    env = subprocess_env(
        {
            "RUNNINGHUB_CONFIG_DIR": str(config),
            "RUNNINGHUB_DATA_DIR": str(tmp_path / "data"),
            "RUNNINGHUB_API_KEY": api_key,
            "RUNNINGHUB_BASE_URL": emulator.base_url,
        }
    )
    lock = config / "presets.toml.lock"

    add = ("preset", "add", "--model", "kling-lip-sync/tts", "--set", "voiceId=genshin_vindi2",
           "--set", "voiceLanguage=en", "--expose", "text=line")  # fmt: skip

    with _holding(lock):  # both start and reach the read-modify-write while it is held
        processes = [
            subprocess.Popen(
                runninghub_command(*add[:2], name, *add[2:]),
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("first", "second")
        ]
        _wait_until_both_wait(processes, lock)
    results = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], results
    stored = tomllib.loads((config / "presets.toml").read_text(encoding="utf-8"))["presets"]
    assert sorted(stored) == ["first", "second"]
    assert api_key not in (config / "presets.toml").read_text(encoding="utf-8")
