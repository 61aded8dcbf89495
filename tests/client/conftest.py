"""Client tests run on both faces: each test body is written once, against a blocking view.

``make_client(**options)`` builds a ``Client`` (face "sync") or an ``AsyncClient`` (face
"async") on the test's emulator; the async one is wrapped so that every coroutine it returns
runs to completion on a private event loop, and its task handles are wrapped the same way.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runninghub import AsyncClient, AsyncTaskHandle, Client, PollPolicy, RetryPolicy
from runninghub.emulator import EmulatorServer
from runninghub.emulator.catalog import SAMPLE_IMAGE

# Fast but real policies: every wait is short because the emulator's tasks are short.
FAST_RETRY = RetryPolicy(
    initial_delay=0.01, max_delay=0.05, capacity_initial_delay=0.05, capacity_max_delay=0.1
)
FAST_POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, timeout=30.0)

INVERT_WORKFLOW = "1987728214757978114"  # LoadImage 107 -> ImageInvert -> SaveImage 109
FAILING_WORKFLOW = "1900000000000000805"  # node 276 SONIC_PreData fails
TEXT_WORKFLOW = "1904136902449209346"  # the txt2img demo: 6.text, KSampler 3
APP_ID = "1877265245566922753"


class Blocking:
    """A blocking view of an async object: awaits what its methods return."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if inspect.isawaitable(result):
                result = self._loop.run_until_complete(result)
            if isinstance(result, AsyncTaskHandle):
                return Blocking(result, self._loop)
            return result

        return call

    def __repr__(self) -> str:
        return repr(self._target)


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(
    face: str, emulator: EmulatorServer, api_key: str, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    loop = asyncio.new_event_loop() if face == "async" else None
    made: list[Any] = []

    def make(server: EmulatorServer | None = None, **options: Any) -> Any:
        options.setdefault("base_url", (server or emulator).base_url)
        options.setdefault("config_dir", tmp_path / "config")
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("poll", FAST_POLL)
        key = options.pop("api_key", api_key)
        if loop is None:
            client: Any = Client(key, **options)
            made.append(client)
            return client
        async_client = AsyncClient(key, **options)
        made.append(async_client)
        return Blocking(async_client, loop)

    yield make
    for client in made:
        if loop is None:
            client.close()
        else:
            loop.run_until_complete(client.close())
    if loop is not None:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture
def sample_png(tmp_path: Path) -> Path:
    """A small RGB picture with varied pixels (the bundled sample, resized)."""
    path = tmp_path / "input.png"
    with Image.open(SAMPLE_IMAGE) as image:
        image.convert("RGB").resize((48, 32)).save(path)
    return path


def api_requests(server: EmulatorServer, path_part: str) -> int:
    """How many API requests the emulator received on paths containing ``path_part``."""
    return sum(n for path, n in server.stats()["requests"].items() if path_part in path)
