"""The presets file's TOML writer: what it writes, tomllib reads back unchanged."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from runninghub._preset_file import write_toml
from runninghub._support import dump_toml, read_toml

HOSTILE = 'a "quoted"\\ line\nnext\ttab \x00\x1b[31m\x7f — 狐 🦊'


def test_hostile_text_keys_and_values_round_trip() -> None:
    document = {
        "presets": {
            "fox": {
                "kind": "workflow",
                "description": HOSTILE,
                "settings": {"6.text": HOSTILE, "3.seed": 7, "3.cfg": 7.5, "9.on": True},
                "params": {"p": {"choices": ["a", "b\n"], "address": "6.text"}},
            }
        }
    }

    assert tomllib.loads(dump_toml(document)) == document


def test_values_toml_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be stored"):
        dump_toml({"x": float("nan")})
    with pytest.raises(TypeError, match="cannot be stored"):
        dump_toml({"x": object()})


def test_written_atomically_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "presets.toml"
    assert read_toml(path) == {}

    write_toml(path, {"presets": {}})

    assert read_toml(path) == {"presets": {}}
    assert [p.name for p in path.parent.iterdir()] == ["presets.toml"]  # no temporary left
