"""A piece of the key echoed by a server is masked like the key; short coincidences are not.

A server may echo part of the key (``invalid key 0123456789abcdef...``). Any run of
``FRAGMENT_CHARS`` (12) or more of the key's characters, at any position, in any letter case,
is masked wherever the key is redacted; a shorter run (a task id that shares a few digits with
the key) is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runninghub._redaction import FRAGMENT_CHARS, FRAGMENT_MASK, mask_key, redact
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.reliability.hostile_server import HostileServer, json_reply

KEY = "0123456789abcdef0123456789abcdef"
PREFIX = KEY[:16]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"invalid key {PREFIX}", f"invalid key {FRAGMENT_MASK}"),
        (f"key={PREFIX.upper()}!", f"key={FRAGMENT_MASK}!"),
        (f"suffix {KEY[-FRAGMENT_CHARS:]}", f"suffix {FRAGMENT_MASK}"),
        (f"middle {KEY[7:23]} end", f"middle {FRAGMENT_MASK} end"),
        (f"whole {KEY}", f"whole {mask_key(KEY)}"),
        (f"twice {PREFIX} and {PREFIX}", f"twice {FRAGMENT_MASK} and {FRAGMENT_MASK}"),
        (f"the key then more {KEY}{KEY[:14]}", f"the key then more {mask_key(KEY)}{FRAGMENT_MASK}"),
    ],
)
def test_pieces_of_the_key_are_masked(text: str, shown: str) -> None:
    assert redact(text, KEY) == shown


@pytest.mark.parametrize(
    "text",
    [
        "task 0123456789 is RUNNING",  # ten digits the key starts with: a task id, not a key
        f"short {KEY[: FRAGMENT_CHARS - 1]} piece",
        "abcdef0123 and 456789abcd",
        "",
    ],
)
def test_shorter_runs_are_left_alone(text: str) -> None:
    assert redact(text, KEY) == text


def test_a_prefix_echoed_by_the_server_never_reaches_the_terminal(tmp_path: Path) -> None:
    with HostileServer() as server:
        echo = {"code": 412, "msg": f"TOKEN_INVALID: no such key {PREFIX}...", "data": None}
        server.route("/openapi/v2/query", json_reply(echo))
        env: dict[str, str | None] = dict.fromkeys(ISOLATED)
        env.update(
            RUNNINGHUB_API_KEY=KEY,
            RUNNINGHUB_BASE_URL=server.base_url,
            RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
        )
        result = Invoker(env=env, secrets=(KEY,))("--retries", "0", "status", "7")

    assert result.exit_code == 3, result.output
    assert f"no such key {FRAGMENT_MASK}..." in result.stderr
    assert PREFIX not in result.output.lower()
    assert KEY[:FRAGMENT_CHARS] not in result.output
