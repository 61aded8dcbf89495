"""Hostile or broken server answers: the client refuses or contains each one, writes nothing
outside the output directory, and says why.

The emulator always answers honestly, so these answers come from a scripted local server
(``hostile_server.py``): output names made of ``../``, absolute paths, NUL bytes or thousands
of characters (in the node id, the type, the URL path and a Content-Disposition header), an
output on a foreign host, redirect loops, endless and oversized bodies, HTML and truncated
JSON where JSON is due, undocumented statuses, a numeric taskId, task objects with keys
missing. Each case runs on the sync and the async client; a few also through the CLI.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runninghub import (
    APIResponseError,
    AsyncClient,
    AsyncTaskHandle,
    Client,
    NotFoundError,
    OutputError,
    PollPolicy,
    RetryPolicy,
    SubmitOutcomeUnknownError,
    TaskStatus,
    WaitTimeoutError,
)
from runninghub._protocol import MAX_ANSWER_BYTES
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.reliability.hostile_server import (
    ENDLESS_LIMIT,
    HostileServer,
    Reply,
    json_reply,
    task_reply,
)

KEY = "0123456789abcdef0123456789abcdef"
QUERY = "/openapi/v2/query"
PICTURE = b"\x89PNG\r\n\x1a\n picture bytes"
SAFE_NAME = re.compile(r"7-[A-Za-z0-9_-]{1,48}-\d+(-\d+)?\.[a-z0-9]{1,8}")
ATTEMPTS = 2
RETRY = RetryPolicy(max_attempts=ATTEMPTS, initial_delay=0.01, max_delay=0.02, capacity_timeout=0)
POLL = PollPolicy(initial=0.02, factor=1.0, max_interval=0.05, jitter=0.0, websocket=False)


class Blocking:
    """Either client face behind one blocking interface: coroutines are run to completion,
    and async task handles are wrapped the same way."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._target, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                assert self._loop is not None
                result = self._loop.run_until_complete(result)
            if isinstance(result, AsyncTaskHandle):
                return Blocking(result, self._loop)
            return result

        return call


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        hostile.default(Reply(body=PICTURE, content_type="image/png"))
        yield hostile


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, server: HostileServer, tmp_path: Path) -> Iterator[Any]:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "retry": RETRY,
        "poll": POLL,
        "config_dir": tmp_path / "config",
        "validate": False,
    }
    if request.param == "sync":
        with Client(KEY, **options) as sync_client:
            yield Blocking(sync_client, None)
        return
    loop = asyncio.new_event_loop()
    async_client = AsyncClient(KEY, **options)
    yield Blocking(async_client, loop)
    loop.run_until_complete(async_client.close())
    loop.close()


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (hidden partial files included), relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def written_outside(root: Path, before: set[str], out: Path) -> set[str]:
    """What appeared under ``root`` since ``before``, other than ``out`` and its files."""
    inside = str(out.relative_to(root))
    return {p for p in tree(root) - before if p != inside and not p.startswith(inside + "/")}


# ------------------------------------------------------------------ output names and hosts

LONG = "n" * 5000
HOSTILE_OUTPUTS = {
    "dot-dot node id": ({"nodeId": "../../../../tmp/evil", "outputType": "png"}, "/files/a.png"),
    "absolute node id": ({"nodeId": "/etc/passwd", "outputType": "png/../../x"}, "/files/a.png"),
    "NUL bytes": ({"nodeId": "9\u0000.png", "outputType": "sh\u0000"}, "/files/a.png"),
    "backslashes": ({"nodeId": "..\\..\\Windows\\x", "outputType": "exe"}, "/files/a.png"),
    "long node id and type": ({"nodeId": LONG, "outputType": "t" * 5000}, "/files/a.png"),
    "dot-dot in the URL path": ({"nodeId": "9"}, "/files/../../../../etc/passwd"),
    "long URL file name": ({"nodeId": "9"}, f"/files/{LONG}.png"),
    "encoded dot-dot in the URL": ({"nodeId": "9"}, "/files/..%2F..%2F..%2Fevil.png"),
    "Content-Disposition name": ({"nodeId": "9", "outputType": "png"}, "/files/cd"),
}


@pytest.mark.parametrize("case", list(HOSTILE_OUTPUTS))
def test_hostile_output_names_stay_inside_the_output_dir(
    client: Any, server: HostileServer, tmp_path: Path, case: str
) -> None:
    item, path = HOSTILE_OUTPUTS[case]
    server.route(
        "/files/cd",
        Reply(
            body=PICTURE,
            content_type="image/png",
            headers=(("Content-Disposition", 'attachment; filename="../../../evil.sh"'),),
        ),
    )
    server.route(QUERY, task_reply(results=[{**item, "url": server.base_url + path}]))
    out = tmp_path / "out"
    before = tree(tmp_path)

    (saved,) = client.download(client.query("7"), out)

    assert written_outside(tmp_path, before, out) == set()
    assert [p.name for p in out.iterdir()] == [saved.path.name]
    assert saved.path.parent == out
    assert SAFE_NAME.fullmatch(saved.path.name), saved.path.name
    assert saved.path.read_bytes() == PICTURE
    assert not Path("/tmp/evil").exists() and not (tmp_path / "evil.sh").exists()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://evil.example.com/x.png", "refusing to download from evil.example.com"),
        ("http://127.0.0.2:9/x.png", "refusing to download from 127.0.0.2"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("//evil.example.com/x.png", "not an http(s) URL"),
        ("5", "not an http(s) URL"),
    ],
)
def test_outputs_on_other_hosts_are_refused_before_anything_is_written(
    client: Any, server: HostileServer, tmp_path: Path, url: str, why: str
) -> None:
    results = [
        {"nodeId": "1", "url": f"{server.base_url}/files/ok.png"},
        {"nodeId": "2", "url": url},
    ]
    server.route(QUERY, task_reply(results=results))
    before = tree(tmp_path)

    with pytest.raises(OutputError, match=re.escape(why)):
        client.download(client.query("7"), tmp_path / "out")

    assert tree(tmp_path) == before
    assert not any(request.startswith("GET") for request in server.requests)


def test_a_download_redirect_loop_is_not_followed(
    client: Any, server: HostileServer, tmp_path: Path
) -> None:
    loop = Reply(302, content_type=None, headers=(("Location", "/files/loop.png"),))
    server.route("/files/loop.png", loop)
    server.route(QUERY, task_reply(results=[{"url": f"{server.base_url}/files/loop.png"}]))
    before = tree(tmp_path)

    with pytest.raises(OutputError, match="download failed: HTTP 302"):
        client.download(client.query("7"), tmp_path / "out")

    assert server.requests.count("GET /files/loop.png") == 1
    assert written_outside(tmp_path, before, tmp_path / "out") == set()
    assert list((tmp_path / "out").glob("*")) == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"x" * 1024, content_type="video/mp4", endless=True),
        Reply(body=b"x" * 1024, content_type="video/mp4", length=10 * 1024**4),
    ],
    ids=["endless body", "declared 10 TiB"],
)
def test_oversized_downloads_are_cut_off_and_removed(
    client: Any, server: HostileServer, tmp_path: Path, reply: Reply
) -> None:
    server.route("/files/big.mp4", reply)
    server.route(QUERY, task_reply(results=[{"url": f"{server.base_url}/files/big.mp4"}]))
    before = tree(tmp_path)

    with pytest.raises(OutputError, match="larger than the 1000000 byte limit"):
        client.download(client.query("7"), tmp_path / "out", max_bytes=1_000_000)

    assert written_outside(tmp_path, before, tmp_path / "out") == set()
    assert list((tmp_path / "out").glob("*")) == []  # the partial file is gone too


# ------------------------------------------------------------------ API answers


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (
            Reply(body=b"<html><body>Welcome</body></html>", content_type="text/html"),
            "not JSON (text/html)",
        ),
        (Reply(body=b'{"taskId": "7", "status": "SUCC'), "not JSON (application/json)"),
        (Reply(body=b""), "empty body"),
        (json_reply([1, 2]), "expected a task object"),
        (json_reply({"status": "SUCCESS", "results": []}), "carries no taskId"),
        (Reply(body=b'{"taskId": "7"', endless=True), f"body over {MAX_ANSWER_BYTES} bytes"),
        (Reply(body=b"{}", length=MAX_ANSWER_BYTES + 1), f"body over {MAX_ANSWER_BYTES} bytes"),
        (
            Reply(302, content_type=None, headers=(("Location", QUERY),)),
            f"HTTP 302, a redirect to '{QUERY}'; redirects are not followed",
        ),
    ],
    ids=[
        "HTML page",
        "truncated JSON",
        "empty body",
        "a JSON list",
        "no taskId",
        "endless body",
        "declared too large",
        "redirect loop",
    ],
)
def test_broken_query_answers_are_refused_with_the_reason(
    client: Any, server: HostileServer, reply: Reply, why: str
) -> None:
    server.route(QUERY, reply)

    with pytest.raises(APIResponseError, match=re.escape(why)):
        client.query("7")

    # Retried as a transient failure, within the policy's bound; a redirect is never followed.
    assert server.requests == [f"POST {QUERY}"] * ATTEMPTS


def test_an_endless_answer_is_not_read_to_its_end(client: Any, server: HostileServer) -> None:
    server.route(QUERY, Reply(body=b"[", endless=True))
    with pytest.raises(APIResponseError, match="it was dropped"):
        client.query("7")

    server.stop()  # waits until every answer ended
    # The client hung up each time: the server stops by itself only at ENDLESS_LIMIT.
    assert [request for request, _ in server.sent] == [f"POST {QUERY}"] * ATTEMPTS
    assert all(MAX_ANSWER_BYTES <= sent < ENDLESS_LIMIT for _, sent in server.sent)


def test_an_endless_download_is_not_read_to_its_end(
    client: Any, server: HostileServer, tmp_path: Path
) -> None:
    server.route(QUERY, task_reply(results=[{"url": f"{server.base_url}/files/big.mp4"}]))
    server.route("/files/big.mp4", Reply(content_type="video/mp4", endless=True))
    with pytest.raises(OutputError, match="larger than the 1000000 byte limit"):
        client.download(client.query("7"), tmp_path / "out", max_bytes=1_000_000)

    server.stop()
    (download,) = [sent for request, sent in server.sent if request == "GET /files/big.mp4"]
    assert 1_000_000 <= download < ENDLESS_LIMIT


def test_a_wrong_path_says_check_the_base_url(client: Any, server: HostileServer) -> None:
    server.route(QUERY, json_reply({"code": 404, "msg": "NOT_FOUND", "data": None}, 404))

    with pytest.raises(NotFoundError, match="HTTP 404 \\(NOT_FOUND\\): no API") as caught:
        client.query("7")
    assert caught.value.hint == "check the base URL"


def test_an_undocumented_status_is_unknown_and_waiting_ends_at_the_deadline(
    client: Any, server: HostileServer
) -> None:
    server.route(QUERY, task_reply(status="PAUSED_FOR_REVIEW"))
    assert client.query("7").status is TaskStatus.UNKNOWN

    with pytest.raises(
        WaitTimeoutError, match=r"task 7 did not finish within 0.3 s \(still UNKNOWN\)"
    ) as caught:
        client.task("7").wait(timeout=0.3)
    assert caught.value.task_id == "7"
    assert caught.value.hint == "resume with: client.task('7').wait()"
    assert caught.value.cli_hint == "resume with: runninghub wait 7"
    assert len(server.requests) > 2  # it kept polling until the deadline


def test_a_numeric_task_id_and_missing_keys_are_tolerated(
    client: Any, server: HostileServer, tmp_path: Path
) -> None:
    server.route(
        QUERY,
        json_reply(
            {
                "taskId": 7,
                "status": "success",
                "results": [{"url": f"{server.base_url}/files/a.png"}],
            }
        ),
    )
    task = client.query(7)
    assert (task.task_id, task.status) == ("7", TaskStatus.SUCCESS)
    (saved,) = client.download(task, tmp_path / "out")
    assert saved.path.name == "7-out-1.png"

    server.route(QUERY, json_reply({"taskId": "7"}))
    bare = client.query("7")
    assert (bare.status, bare.outputs, bare.usage, bare.failure) == (
        TaskStatus.UNKNOWN,
        (),
        None,
        None,
    )

    server.route(
        QUERY, json_reply({"taskId": "7", "status": "SUCCESS", "results": "none", "usage": 3})
    )
    odd = client.query("7")
    assert (odd.status, odd.outputs, odd.usage) == (TaskStatus.SUCCESS, (), None)

    server.route(QUERY, json_reply({"taskId": "7", "status": "SUCCESS", "results": ["x", None, 5]}))
    assert client.query("7").outputs == ()


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"<html>oops</html>", content_type="text/html"),
        Reply(body=b'{"taskId": "9", "sta'),
        Reply(body=b"{", endless=True),
    ],
    ids=["HTML page", "truncated JSON", "endless body"],
)
def test_a_garbled_submit_answer_is_never_resubmitted(
    client: Any, server: HostileServer, reply: Reply
) -> None:
    path = "/openapi/v2/run/workflow/1904136902449209346"
    server.route(path, reply)

    with pytest.raises(SubmitOutcomeUnknownError, match="outcome unknown") as caught:
        client.submit("1904136902449209346", {"6.text": "a fox"})

    assert server.requests == [f"POST {path}"]  # a task may exist: one request, never two
    assert caught.value.fingerprint


# ------------------------------------------------------------------ through the CLI


@pytest.fixture
def cli(server: HostileServer, tmp_path: Path) -> Invoker:
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(
        RUNNINGHUB_API_KEY=KEY,
        RUNNINGHUB_BASE_URL=server.base_url,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
    )
    return Invoker(env=env, secrets=(KEY,))


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("task ")]
    assert len(lines) in (1, 2), stderr
    assert lines[0].startswith("error: ")
    assert len(lines) == 1 or lines[1].startswith("hint: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "reply", "why"),
    [
        (
            ("status", "7"),
            Reply(body=b"<html></html>", content_type="text/html"),
            "not JSON (text/html)",
        ),
        (("status", "7"), Reply(body=b"{", endless=True), "body over 67108864 bytes"),
        (
            ("status", "7"),
            Reply(301, content_type=None, headers=(("Location", "https://x.example/"),)),
            "a redirect to 'https://x.example/'",
        ),
    ],
    ids=["HTML page", "endless body", "redirect"],
)
def test_the_cli_reports_a_broken_answer_in_one_line_with_exit_4(
    cli: Invoker, server: HostileServer, args: tuple[str, ...], reply: Reply, why: str
) -> None:
    server.route(QUERY, reply)

    result = cli("--retries", "0", *args)

    assert result.exit_code == 4
    assert why in one_error_line(result.stderr)
    assert result.stdout == ""


def test_the_cli_refuses_a_foreign_output_host_and_writes_nothing(
    cli: Invoker, server: HostileServer, tmp_path: Path
) -> None:
    server.route(QUERY, task_reply(results=[{"url": "https://evil.example.com/x.png"}]))
    before = tree(tmp_path)

    result = cli("wait", "7", "--out", str(tmp_path / "out"), "--timeout", "60")

    assert result.exit_code == 4
    assert "refusing to download from evil.example.com" in one_error_line(result.stderr)
    assert tree(tmp_path) - before <= {"config"}


def test_the_cli_contains_hostile_names(
    cli: Invoker, server: HostileServer, tmp_path: Path
) -> None:
    results = [{**item, "url": server.base_url + path} for item, path in HOSTILE_OUTPUTS.values()]
    server.route(QUERY, task_reply(results=results))
    out = tmp_path / "out"
    before = tree(tmp_path)

    result = cli("wait", "7", "--out", str(out), "--json")

    assert result.exit_code == 0, result.output
    assert written_outside(tmp_path, before, out) <= {"config"}
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(HOSTILE_OUTPUTS)
    assert all(SAFE_NAME.fullmatch(name) for name in names), names


def test_the_cli_times_out_on_an_undocumented_status_with_exit_5(
    cli: Invoker, server: HostileServer
) -> None:
    server.route(QUERY, task_reply(status="MIGRATING"))

    result = cli("wait", "7", "--timeout", "0.3")

    assert result.exit_code == 5
    assert "did not finish within 0.3 s (still UNKNOWN)" in one_error_line(result.stderr)
    assert "hint: resume with: runninghub wait 7" in result.stderr


def test_the_cli_contains_hostile_names_from_the_legacy_outputs(
    cli: Invoker, server: HostileServer, tmp_path: Path
) -> None:
    item = {"nodeId": "../../etc", "fileType": "png/../../x", "taskCostTime": "1"}
    data = [{**item, "fileUrl": f"{server.base_url}/files/{LONG}.png"}]
    server.route("/task/openapi/outputs", json_reply({"code": "0", "msg": "ok", "data": data}))
    out = tmp_path / "out"
    before = tree(tmp_path)

    result = cli("outputs", "7", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert written_outside(tmp_path, before, out) <= {"config"}
    (saved,) = out.iterdir()
    assert SAFE_NAME.fullmatch(saved.name), saved.name
    assert saved.read_bytes() == PICTURE
    assert result.stdout.strip() == str(saved)


def test_the_seed_query_prints_control_characters_escaped(
    cli: Invoker, server: HostileServer
) -> None:
    hostile = "\x1b[2J\x9b31m\u202egnp.exe\u2028\x07"
    server.route(QUERY, task_reply(status="FAILED", errorCode="1000", errorMessage=hostile))

    result = cli("--action", "query", "--task-id", "7")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errorMessage"] == hostile  # the same JSON value
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\u2028]", result.stdout)
