"""``runninghub studio`` as a user starts it: a real process, its printed address, its errors."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import API_KEY

ADDRESS = re.compile(r"open (http://127\.0\.0\.1:(\d+)/\?token=\S+)")


def _studio(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runninghub", "studio", "--no-browser", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUNNINGHUB_API_KEY": API_KEY},
    )


@pytest.fixture
def offline_studio() -> Iterator[tuple[str, int]]:
    process = _studio("--emulator")
    try:
        assert process.stderr is not None
        for line in process.stderr:
            found = ADDRESS.search(line)
            if found:
                yield found.group(1), int(found.group(2))
                break
        else:
            pytest.fail(f"the studio printed no address (exit {process.wait()})")
    finally:
        process.terminate()
        process.communicate(timeout=20)  # drains and closes the pipe


def test_the_printed_address_opens_the_page_on_loopback(offline_studio: tuple[str, int]) -> None:
    address, port = offline_studio
    with httpx.Client(trust_env=False, timeout=10, follow_redirects=True) as http:
        page = http.get(address)
        assert page.status_code == 200 and "RunningHub studio" in page.text
        assert http.get(f"http://127.0.0.1:{port}/history").status_code == 200
    with httpx.Client(trust_env=False, timeout=10) as stranger:
        assert stranger.get(f"http://127.0.0.1:{port}/run").status_code == 401


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        process = _studio("--port", str(taken.getsockname()[1]))
        _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot listen on 127.0.0.1:" in err and "Traceback" not in err
    assert API_KEY not in err
