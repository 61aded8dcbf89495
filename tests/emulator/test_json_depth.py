"""The emulator's nesting check before parsing: only brackets outside strings count, escaped
quotes and backslashes included, for text holding a graph as a JSON string."""

from __future__ import annotations

import json

import pytest

from runninghub.emulator.jsonlimits import loads_limited


def _nested(depth: int) -> object:
    value: object = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [3, 4])
def test_brackets_quotes_and_backslashes_inside_strings_do_not_count(depth: int) -> None:
    noise = '[[[{{{ \\" ]]] \\\\" [[[[[[[[[[ é \u2028'
    text = json.dumps({noise: _nested(depth - 1), "graph": json.dumps(_nested(50))})

    if depth <= 3:
        assert loads_limited(text, max_depth=3)[noise] == _nested(depth - 1)
    else:
        with pytest.raises(ValueError, match="nested deeper than the emulator's limit of 3"):
            loads_limited(text, max_depth=3)


def test_a_graph_sent_as_a_string_is_checked_when_it_is_parsed() -> None:
    body = loads_limited(json.dumps({"workflow": "[" * 100_000 + "]" * 100_000}), max_depth=8)

    with pytest.raises(ValueError, match="limit of 8 levels"):
        loads_limited(body["workflow"], max_depth=8)
