"""Property tests: coercion rules, and addressing on graphs with odd ids and titles."""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from runninghub import InvalidRequestError
from runninghub.workflow import (
    Field,
    FieldKind,
    WorkflowGraph,
    coerce_value,
    normalize_overrides,
    render_rows,
)

# The machine is shared: no per-example deadline, so a slow moment cannot fail a test.
# Generating graphs costs more than checking them: fewer examples there.
quick = settings(deadline=None, max_examples=100)
graph_examples = settings(deadline=None, max_examples=40)

INT = Field("3", "KSampler", "KSampler", "steps", 20, FieldKind.INT)
FLOAT = Field("3", "KSampler", "KSampler", "cfg", 8.0, FieldKind.FLOAT)
BOOL = Field("1", None, "Flip", "enabled", True, FieldKind.BOOL)
STRING = Field("6", "Positive Prompt", "CLIPTextEncode", "text", "", FieldKind.STRING)

in_range = st.integers(min_value=-(2**63), max_value=2**64 - 1)
padding = st.text(alphabet=" \t\n", max_size=3)
BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True}
BOOL_WORDS |= {"false": False, "0": False, "no": False, "off": False}


def refused(field: Field, value: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        coerce_value(field, value)
    assert caught.value.code is None
    assert caught.value.message.startswith(f"{field.address} expects ")
    return caught.value


# -- coercion -----------------------------------------------------------------------------------


@quick
@given(in_range, padding, padding)
def test_ints_round_trip_through_text(number: int, before: str, after: str) -> None:
    assert coerce_value(INT, f"{before}{number}{after}") == number
    assert coerce_value(INT, number) == number


@quick
@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_whole_floats_are_ints(number: int) -> None:
    result = coerce_value(INT, float(number))
    assert result == number
    assert type(result) is int


@quick
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != int(x)))
def test_fractions_are_not_ints(number: float) -> None:
    refused(INT, number)
    refused(INT, repr(number))


@quick
@given(st.one_of(st.integers(max_value=-(2**63) - 1), st.integers(min_value=2**64)))
def test_ints_out_of_range_are_refused(number: int) -> None:
    refused(INT, number)


def _not_a_number(text: str) -> bool:
    try:
        return not Decimal(text.strip()).is_finite()
    except InvalidOperation:
        return True


@quick
@given(st.text().filter(_not_a_number))
def test_text_that_is_not_a_number_is_refused_as_int(text: str) -> None:
    assert "an integer" in refused(INT, text).message


@quick
@given(st.floats(allow_nan=False, allow_infinity=False), padding)
def test_floats_round_trip_through_text(number: float, pad: str) -> None:
    assert coerce_value(FLOAT, f"{pad}{number!r}{pad}") == number
    assert coerce_value(FLOAT, number) == number


@quick
@given(st.sampled_from(["nan", "inf", "-inf", "Infinity", "NaN", "1e999"]), padding)
def test_non_finite_floats_are_refused(text: str, pad: str) -> None:
    refused(FLOAT, pad + text)


@quick
@given(st.booleans())
def test_bools_are_never_numbers(flag: bool) -> None:
    refused(INT, flag)
    refused(FLOAT, flag)


@quick
@given(st.sampled_from(sorted(BOOL_WORDS)), st.data(), padding)
def test_bool_words_in_any_case(word: str, data: st.DataObject, pad: str) -> None:
    upper = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    mixed = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=True))
    assert coerce_value(BOOL, pad + mixed + pad) is BOOL_WORDS[word]


@quick
@given(st.text().filter(lambda t: t.strip().casefold() not in BOOL_WORDS))
def test_other_words_are_not_bools(text: str) -> None:
    assert "a boolean" in refused(BOOL, text).message


@quick
@given(st.text())
def test_text_is_kept_as_is(text: str) -> None:
    assert coerce_value(STRING, text) == text


@quick
@given(st.integers())
def test_numbers_become_text(number: int) -> None:
    assert coerce_value(STRING, number) == str(number)


@quick
@given(st.lists(st.text(min_size=1), min_size=1, unique=True), st.data())
def test_list_values_must_be_exactly_an_option(options: list[str], data: st.DataObject) -> None:
    field = Field("60", None, "Picker", "choice", options[0], FieldKind.LIST, tuple(options))
    chosen = data.draw(st.sampled_from(options))
    assert coerce_value(field, chosen) == chosen
    other = data.draw(st.text().filter(lambda t: t not in options))
    refused(field, other)


# -- graphs with odd ids and titles -------------------------------------------------------------

# Ids and titles made of pieces, so that dots, spaces, colons and non-ASCII letters are common.
odd_text = st.lists(
    st.one_of(
        st.sampled_from([".", " ", ":", "..", "v1.5", "12:3", "Ä", "字", "ß"]),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=4,
).map("".join)
node_ids = st.one_of(st.integers(0, 999).map(str), odd_text)
titles = st.one_of(st.none(), odd_text)
classes = st.sampled_from(["KSampler", "CLIPTextEncode", "LoadImage", "Custom.Node", "ÜberNode"])
field_names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


def literals() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.booleans(),
        st.none(),
    )


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(node_ids, min_size=1, max_size=6, unique=True))
    link = st.tuples(st.sampled_from(ids), st.integers(0, 3)).map(list)
    graph: dict[str, Any] = {}
    for node_id in ids:
        inputs = draw(st.dictionaries(field_names, st.one_of(literals(), link), max_size=4))
        spec: dict[str, Any] = {"class_type": draw(classes), "inputs": inputs}
        title = draw(titles)
        if title is not None:
            spec["_meta"] = {"title": title}
        graph[node_id] = spec
    return graph


def _title(spec: dict[str, Any]) -> str | None:
    return spec.get("_meta", {}).get("title")


@graph_examples
@given(graphs())
def test_every_field_resolves_by_its_id_address(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    for field in graph.fields(include_links=True):
        assert field.value == raw[field.node_id]["inputs"][field.name]
        if field.is_link:
            with pytest.raises(InvalidRequestError, match="is a link to node"):
                graph.resolve(field.address)
        else:
            assert graph.resolve(field.address) == field


@graph_examples
@given(graphs())
def test_every_field_resolves_by_its_unique_title(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    all_titles = [_title(spec) for spec in raw.values()]
    for field in graph.fields():
        title = field.node_title
        if title is None or title in raw or all_titles.count(title) > 1:
            continue  # an id wins over a title; a shared title is ambiguous
        assert graph.resolve(f"{title}.{field.name}") == field


@graph_examples
@given(graphs())
def test_titles_also_resolve_in_another_case(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    folded = [t.casefold() for t in map(_title, raw.values()) if t]
    exact = {_title(spec) for spec in raw.values()}
    for field in graph.fields():
        title = field.node_title
        swapped = title.swapcase() if title else None
        if not title or not swapped or swapped in raw or swapped in exact:
            continue
        if swapped.casefold() != title.casefold() or folded.count(title.casefold()) > 1:
            continue
        assert graph.resolve(f"{swapped}.{field.name}") == field


@graph_examples
@given(graphs())
def test_unique_classes_resolve_and_shared_ones_list_every_candidate(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    labels = set(raw) | {_title(spec) for spec in raw.values()}
    labels |= {t.casefold() for t in labels if t}
    for field in graph.fields():
        cls = str(field.class_type)
        if cls in labels or cls.casefold() in labels:
            continue  # an id or a title takes precedence over the class
        owners = [node_id for node_id, spec in raw.items() if spec["class_type"] == cls]
        if len(owners) == 1:
            assert graph.resolve(f"{cls}.{field.name}") == field
        else:
            with pytest.raises(InvalidRequestError) as caught:
                graph.resolve(f"{cls}.{field.name}")
            assert caught.value.hint == "use one of: " + ", ".join(
                f"{node.id}.{field.name}" for node in graph.nodes if node.class_type == cls
            )


@graph_examples
@given(graphs())
def test_numeric_ids_come_first_in_numeric_order(raw: dict[str, Any]) -> None:
    order = [node.id for node in WorkflowGraph.from_api_format(raw).nodes]
    numeric = [i for i in raw if i.isascii() and i.isdigit()]
    others = [i for i in raw if not (i.isascii() and i.isdigit())]
    assert order == sorted(numeric, key=int) + others


@graph_examples
@given(graphs())
def test_the_saved_values_are_accepted_back(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    fields = [f for f in graph.fields() if not (f.kind is FieldKind.MEDIA and not f.value)]
    prepared = graph.prepare({f.address: f.value for f in fields})
    assert [(o.node_id, o.field) for o in prepared] == [(f.node_id, f.name) for f in fields]
    for override, field in zip(prepared, fields, strict=True):
        assert override.value == field.value


@graph_examples
@given(graphs(), field_names)
def test_an_unknown_field_is_refused_with_a_hint(raw: dict[str, Any], name: str) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    node = graph.nodes[0]
    assume(node.field(name) is None)
    with pytest.raises(InvalidRequestError) as caught:
        graph.resolve(f"{node.id}.{name}")
    assert caught.value.message.startswith(f"node {node.label} has no field")
    assert caught.value.hint


@graph_examples
@given(graphs())
def test_rows_are_json_and_match_the_fields(raw: dict[str, Any]) -> None:
    graph = WorkflowGraph.from_api_format(raw)
    rows = render_rows(graph, include_links=True)
    assert [(r["node_id"], r["field"]) for r in rows] == [
        (f.node_id, f.name) for f in graph.fields(include_links=True)
    ]
    assert json.loads(json.dumps(rows)) == rows
    assert json.loads(json.dumps(raw)) == raw  # and the text form builds the same graph
    assert WorkflowGraph.from_api_format(json.dumps(raw)).nodes == graph.nodes


@quick
@given(node_ids, field_names, literals())
def test_normalize_splits_any_node_from_a_dotless_field(node: str, name: str, value: Any) -> None:
    assume(not (isinstance(value, float) and math.isnan(value)))
    assert normalize_overrides({f"{node}.{name}": value}) == [(node, name, value)]
