"""Batch inputs: reading CSV / JSONL / directories, column mapping, and validation of every row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runninghub import InvalidRequestError, NodeOverride, WorkflowGraph
from runninghub.batch.inputs import (
    BatchInputError,
    parse_assignments,
    plan_batch,
    read_inputs,
    row_identity,
)

WORKFLOW_ID = "1904136902449209346"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(24)  # what a PNG starts with: enough for planning

GRAPH: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {"seed": 1, "steps": 20, "cfg": 8.0, "model": ["4", 0]},
        "_meta": {"title": "KSampler"},
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
    "6": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "a cat", "clip": ["4", 1]},
        "_meta": {"title": "Positive Prompt"},
    },
    "107": {
        "class_type": "LoadImage",
        "inputs": {"image": "example.png"},
        "_meta": {"title": "Load Image"},
    },
}


@pytest.fixture
def graph() -> WorkflowGraph:
    return WorkflowGraph.from_api_format(GRAPH)


def _plan(path: Path, graph: WorkflowGraph, **kwargs: Any) -> Any:
    return plan_batch(read_inputs(path), graph, workflow_id=WORKFLOW_ID, **kwargs)


def _by_address(overrides: tuple[NodeOverride, ...]) -> dict[str, Any]:
    return {f"{o.node_id}.{o.field}": o.value for o in overrides}


def test_a_csv_maps_columns_coerces_values_and_resolves_files(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(PNG_BYTES)
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("prompt,KSampler.seed,107.image\na fox,7,imgs/a.png\n")
    plan = _plan(inputs, graph, maps={"prompt": "Positive Prompt.text"}, sets={"3.steps": "30"})
    assert plan.columns == {"prompt": "6.text", "KSampler.seed": "3.seed", "107.image": "107.image"}
    assert plan.sets == {"3.steps": "30"}
    [row] = plan.rows
    assert row.row == 1
    assert _by_address(row.overrides) == {
        "3.steps": 30,
        "6.text": "a fox",
        "3.seed": 7,
        "107.image": (tmp_path / "imgs" / "a.png").resolve(),
    }
    assert isinstance(_by_address(row.overrides)["107.image"], Path)


def test_an_unmapped_column_is_an_error_with_the_fix(tmp_path: Path, graph: WorkflowGraph) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("promt\na fox\n")
    with pytest.raises(BatchInputError, match="'promt' is not mapped") as caught:
        _plan(inputs, graph)
    assert "--map promt=NODE.FIELD" in (caught.value.hint or "")
    assert isinstance(caught.value, InvalidRequestError)  # exit code 2 in the CLI


def test_a_map_for_a_missing_column_is_an_error(tmp_path: Path, graph: WorkflowGraph) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("6.text\na fox\n")
    with pytest.raises(BatchInputError, match="prompt"):
        _plan(inputs, graph, maps={"prompt": "6.text"})


def test_a_column_naming_an_unknown_field_suggests_the_right_one(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("6.txt\na fox\n")
    with pytest.raises(BatchInputError, match=r"6\.text"):
        _plan(inputs, graph)


def test_a_directory_gives_one_row_per_media_file(tmp_path: Path, graph: WorkflowGraph) -> None:
    for name in ("b.png", "a.JPG", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(PNG_BYTES)
    plan = _plan(tmp_path, graph)  # `file` maps to the only media field, 107.image
    assert plan.columns == {"file": "107.image"}
    files = [_by_address(r.overrides)["107.image"] for r in plan.rows]
    assert files == [(tmp_path / "a.JPG").resolve(), (tmp_path / "b.png").resolve()]


def test_a_directory_needs_a_map_when_the_media_field_is_ambiguous(tmp_path: Path) -> None:
    two_loaders = {
        **GRAPH,
        "200": {"class_type": "LoadImage", "inputs": {"image": "mask.png"}},
    }
    graph = WorkflowGraph.from_api_format(two_loaders)
    (tmp_path / "a.png").write_bytes(PNG_BYTES)
    with pytest.raises(BatchInputError, match="'file' is not mapped"):
        _plan(tmp_path, graph)
    plan = _plan(tmp_path, graph, maps={"file": "200.image"})
    assert _by_address(plan.rows[0].overrides) == {"200.image": (tmp_path / "a.png").resolve()}


def test_jsonl_keeps_types_and_null_leaves_a_field_unset(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    inputs = tmp_path / "inputs.jsonl"
    lines = [{"6.text": "one", "3.seed": 5}, {"6.text": "two", "3.seed": None}, {"3.cfg": 6.5}]
    inputs.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    plan = _plan(inputs, graph)
    assert [_by_address(r.overrides) for r in plan.rows] == [
        {"6.text": "one", "3.seed": 5},
        {"6.text": "two"},
        {"3.cfg": 6.5},
    ]


def test_jsonl_that_is_not_json_names_the_line(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('{"6.text": "ok"}\n{"6.text": oops}\n')
    with pytest.raises(BatchInputError, match="line 2"):
        read_inputs(inputs)


def test_every_row_is_validated_and_every_bad_row_reported(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("3.seed,107.image\n1,\nabc,\n3,missing.png\n4,\n")
    with pytest.raises(BatchInputError) as caught:
        _plan(inputs, graph)
    message = caught.value.message
    assert message.startswith("2 input rows are invalid")
    assert "row 2:" in message and "abc" in message
    assert "row 3: file not found" in message and "missing.png" in message
    assert "row 1:" not in message and "row 4:" not in message


def test_an_empty_cell_leaves_the_field_to_the_workflow_or_set(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("6.text,3.seed\na fox,\n,9\n")
    plan = _plan(inputs, graph, sets={"3.steps": "12"})
    assert [_by_address(r.overrides) for r in plan.rows] == [
        {"3.steps": 12, "6.text": "a fox"},
        {"3.steps": 12, "3.seed": 9},
    ]


def test_urls_and_uploaded_names_are_kept_as_text(tmp_path: Path, graph: WorkflowGraph) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("107.image\nhttps://example.com/a.png\napi/abc.png\n")
    plan = _plan(inputs, graph)
    assert [_by_address(r.overrides)["107.image"] for r in plan.rows] == [
        "https://example.com/a.png",
        "api/abc.png",
    ]


def test_duplicate_rows_are_refused_unless_allowed(tmp_path: Path, graph: WorkflowGraph) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("6.text,3.seed\na,1\nb,1\na,1\n")
    with pytest.raises(BatchInputError, match="row 3 repeats row 1") as caught:
        _plan(inputs, graph)
    assert "--allow-duplicates" in (caught.value.hint or "")
    plan = _plan(inputs, graph, allow_duplicates=True)
    assert plan.rows[0].identity == plan.rows[2].identity != plan.rows[1].identity


def test_empty_inputs_are_an_error(tmp_path: Path, graph: WorkflowGraph) -> None:
    header_only = tmp_path / "inputs.csv"
    header_only.write_text("6.text\n")
    with pytest.raises(BatchInputError, match="no input rows"):
        _plan(header_only, graph)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(BatchInputError, match="no input rows"):
        _plan(empty_dir, graph)


def test_a_set_and_a_column_for_the_same_field_conflict(
    tmp_path: Path, graph: WorkflowGraph
) -> None:
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("6.text\na fox\n")
    with pytest.raises(BatchInputError, match="also sets"):
        _plan(inputs, graph, sets={"Positive Prompt.text": "x"})


def test_unreadable_inputs_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="not found"):
        read_inputs(tmp_path / "nope.csv")
    odd = tmp_path / "inputs.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(BatchInputError, match="cannot read"):
        read_inputs(odd)
    twice = tmp_path / "twice.csv"
    twice.write_text("a.b,a.b\n1,2\n")
    with pytest.raises(BatchInputError, match="twice"):
        read_inputs(twice)


def test_the_row_identity_ignores_order_but_not_content() -> None:
    a = [NodeOverride("6", "text", "x"), NodeOverride("3", "seed", 1)]
    assert row_identity("1", a) == row_identity("1", list(reversed(a)))
    assert row_identity("1", a) != row_identity("2", a)
    assert row_identity("1", a) != row_identity("1", [NodeOverride("6", "text", "y")])


def test_assignments_split_on_the_first_equals_sign() -> None:
    assert parse_assignments(["6.text=a=b", "3.seed=1"], "--set") == {
        "6.text": "a=b",
        "3.seed": "1",
    }
    with pytest.raises(BatchInputError, match="NAME=VALUE"):
        parse_assignments(["6.text"], "--set")
    with pytest.raises(BatchInputError, match="twice"):
        parse_assignments(["a=1", "a=2"], "--map")
