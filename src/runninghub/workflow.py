"""Inspect a workflow's fields and validate overrides locally, before any credit is spent.

A :class:`WorkflowGraph` is built from a ComfyUI API-format graph (what ``getJsonApiFormat``
returns) or from an AI app's inputs (``apiCallDemo``). It lists the fields an override can set,
resolves ``NODE.FIELD`` addresses, and coerces values to each field's type. This module is pure:
no I/O, no network.

Addressing. ``NODE.FIELD`` names a field; NODE is, by precedence:

1. a node id (``6``, ``12:3``, ``10.5``);
2. a node title, exactly (``Positive Prompt``), then ignoring case;
3. a class name, exactly (``KSampler``), then ignoring case.

The first rule that matches decides; a title or class shared by several nodes is ambiguous and is
refused with the candidate ids. The address is split on its last dot, because field names have no
dots while ids and titles may (``10.5.seed``, ``Model v1.5.ckpt_name``). When that split names no
node or no field, the earlier dots are tried right to left, so a custom field whose name holds a
dot (``6.lora.strength``) still resolves.

Example::

    graph = WorkflowGraph.from_api_format(prompt_json)
    graph.prepare({"Positive Prompt.text": "a red fox", "KSampler.steps": "30"})
    # -> [NodeOverride(node_id='6', field='text', value='a red fox'),
    #     NodeOverride(node_id='3', field='steps', value=30)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ._errors import InvalidRequestError
from ._fields import (
    Field,
    FieldKind,
    app_kind,
    closest,
    coerce_value,
    did_you_mean,
    error,
    infer_kind,
    refuse_link,
    show,
)
from ._models import AppInput, NodeOverride
from ._wire_values import load_json

__all__ = [
    "Field",
    "FieldKind",
    "Node",
    "OverridesLike",
    "WorkflowGraph",
    "coerce_value",
    "normalize_overrides",
    "render_rows",
]

OverrideItem: TypeAlias = NodeOverride | tuple[Any, str, Any] | Mapping[str, Any]
OverridesLike: TypeAlias = Mapping[str, Any] | Iterable[OverrideItem] | None


@dataclass(frozen=True)
class Node:
    """A node of the graph (or a form node of an app) with its fields in their saved order."""

    id: str
    class_type: str | None
    title: str | None
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def label(self) -> str:
        """``6 (Positive Prompt)``: the id with the title or the class, for messages."""
        name = self.title or self.class_type
        return f"{self.id} ({name})" if name else self.id


class WorkflowGraph:
    """The overridable fields of a workflow or an app, and the rules to address and fill them."""

    def __init__(
        self, nodes: Iterable[Node], raw: Mapping[str, Any] | None = None, *, app: bool = False
    ) -> None:
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self.raw: dict[str, Any] = dict(raw or {})
        self._source = "app" if app else "workflow"
        self._listing = f"`runninghub {'app inputs APP_ID' if app else 'nodes WORKFLOW_ID'}`"
        self._by_id = {node.id: node for node in self.nodes}
        if len(self._by_id) != len(self.nodes):
            raise error("the graph has two nodes with the same id", "give every node its own id")
        self._indexes = [
            _index(self.nodes, lambda n: n.title, fold=False),
            _index(self.nodes, lambda n: n.title, fold=True),
            _index(self.nodes, lambda n: n.class_type, fold=False),
            _index(self.nodes, lambda n: n.class_type, fold=True),
        ]

    @classmethod
    def from_api_format(cls, graph: Mapping[str, Any] | str | bytes) -> WorkflowGraph:
        """Build from an API-format graph: the dict, or its JSON text (``data.prompt``).

        Raises InvalidRequestError when the text is not JSON or not an API-format graph.
        """
        data = _load_graph(graph)
        ids = frozenset(data)
        ordered = sorted(data.items(), key=lambda item: _id_order(item[0]))
        nodes = [_api_node(node_id, spec, ids) for node_id, spec in ordered]
        return cls(nodes, data)

    @classmethod
    def from_app_inputs(cls, inputs: Sequence[AppInput]) -> WorkflowGraph:
        """Build from an AI app's inputs (``apiCallDemo``), keeping the form's order."""
        groups: dict[str, list[AppInput]] = {}
        for item in inputs:
            groups.setdefault(str(item.node_id), []).append(item)
        nodes = [_app_node(node_id, items) for node_id, items in groups.items()]
        raw = {
            node.id: {
                "class_type": node.class_type,
                "inputs": {f.name: f.value for f in node.fields},
            }
            for node in nodes
        }
        return cls(nodes, raw, app=True)

    def __repr__(self) -> str:
        return f"<WorkflowGraph {len(self.nodes)} nodes, {len(self.fields())} overridable fields>"

    def fields(self, *, include_links: bool = False) -> list[Field]:
        """Every field in node order; links (not overridable) only when asked."""
        return [f for n in self.nodes for f in n.fields if include_links or not f.is_link]

    def resolve(self, address: str) -> Field:
        """The field named by ``NODE.FIELD`` (see the module docstring for the rules).

        Raises InvalidRequestError for a malformed address, an unknown or ambiguous node, an
        unknown field (with the closest names) or a link.
        """
        if not isinstance(address, str) or "." not in address:
            raise self._not_an_address(address)
        errors: list[InvalidRequestError] = []
        for node_ref, name in _splits(address):
            try:
                field = self._field_of(node_ref, name)
            except InvalidRequestError as exc:
                errors.append(exc)
                continue
            return refuse_link(field)
        raise errors[0]

    def prepare(self, overrides: OverridesLike) -> list[NodeOverride]:
        """Resolve, check and coerce overrides into ``NodeOverride`` items with real ids.

        ``overrides``: ``{"NODE.FIELD": value}``, or an iterable of ``NodeOverride``,
        ``(node, field, value)`` or ``{"nodeId", "fieldName", "fieldValue"}`` items; None is none.
        A ``pathlib.Path`` value for a file field stays a Path, for the client to upload.
        Raises InvalidRequestError on the first problem; nothing is partially applied.
        """
        triples = []
        for key, value in _entries(overrides):
            field = self.resolve(key) if isinstance(key, str) else self._resolve_pair(*key)
            triples.append((field.node_id, field.name, coerce_value(field, value)))
        return [NodeOverride(node, name, value) for node, name, value in _once_each(triples)]

    def _resolve_pair(self, node_ref: str, name: str) -> Field:
        return refuse_link(self._field_of(node_ref, name))

    # -- lookup -------------------------------------------------------------------------------

    def _lookup(self, node_ref: str) -> tuple[Node, ...]:
        node = self._by_id.get(node_ref)
        if node is not None:
            return (node,)
        for index, fold in self._indexes:
            hits = index.get(node_ref.casefold() if fold else node_ref)
            if hits:
                return hits
        return ()

    def _field_of(self, node_ref: str, name: str) -> Field:
        nodes = self._lookup(node_ref)
        if not nodes:
            raise self._unknown_node(node_ref, name)
        if len(nodes) > 1:
            raise _ambiguous(node_ref, name, nodes)
        field = nodes[0].field(name)
        if field is None:
            raise self._unknown_field(nodes[0], node_ref, name)
        return field

    def _address_candidates(self) -> list[str]:
        """Every way to write every overridable field, for suggestions."""
        found: dict[str, None] = {}
        for field in self.fields():
            found[field.address] = None
            for ref in (field.node_title, field.class_type):
                if ref and len(self._lookup(ref)) == 1:
                    found[f"{ref}.{field.name}"] = None
        return list(found)

    # -- errors -------------------------------------------------------------------------------

    def _unknown_node(self, node_ref: str, name: str) -> InvalidRequestError:
        close = closest(f"{node_ref}.{name}", self._address_candidates())
        ids = ", ".join(node.label for node in self.nodes[:20]) or "none"
        hint = did_you_mean(close) or f"nodes: {ids}; list the fields with {self._listing}"
        message = f"no node {node_ref!r} in this {self._source}"
        return error(f"{message}; {hint}" if close else message, hint)

    def _unknown_field(self, node: Node, node_ref: str, name: str) -> InvalidRequestError:
        names = [f.name for f in node.fields if not f.is_link]
        close = [f"{node_ref}.{n}" for n in closest(name, names)]
        fallback = f"its fields: {', '.join(names)}" if names else "it has no overridable fields"
        hint = did_you_mean(close) or fallback
        message = f"node {node.label} has no field {name!r}"
        return error(f"{message}; {hint}" if close else message, hint)

    def _not_an_address(self, address: object) -> InvalidRequestError:
        named = [f.address for f in self.fields() if f.name == address]
        example = self.fields()[0].address if self.fields() else "6.text"
        hint = (
            did_you_mean(named)
            if len(named) == 1
            else f"write the node (id, title or class), a dot and the field, e.g. {example}"
        )
        return error(f"{address!r} is not a NODE.FIELD address", hint)


# -- building ---------------------------------------------------------------------------------


_API_HINT = "give the API-format workflow (in ComfyUI: Export (API)), as a dict or JSON text"


def _load_graph(graph: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    data: Any = graph
    if isinstance(graph, str | bytes):
        try:
            data = load_json(graph)
        except ValueError as exc:
            raise error(f"the workflow is not valid JSON: {exc}", _API_HINT) from None
    if not isinstance(data, Mapping):
        raise error(f"the workflow is a {type(data).__name__}, not a JSON object", _API_HINT)
    inner: Any = data.get("prompt")
    if len(data) == 1 and _is_graph_text_or_nodes(inner):
        return _load_graph(inner)  # the getJsonApiFormat ``data`` envelope, passed whole
    if isinstance(data.get("nodes"), list) and "links" in data:
        raise error(
            "this is a ComfyUI UI workflow, not the API format",
            "in ComfyUI, export it with 'Export (API)' (or 'Save (API Format)')",
        )
    return {str(node_id): spec for node_id, spec in data.items()}


def _is_graph_text_or_nodes(value: Any) -> bool:
    """A string, or a mapping that is not itself a node (a node has a class_type)."""
    return isinstance(value, str) or (isinstance(value, Mapping) and "class_type" not in value)


def _id_order(node_id: str) -> tuple[int, int]:
    """Numeric ids in numeric order, then the others in their original order."""
    if node_id.isascii() and node_id.isdigit():
        return (0, int(node_id))
    return (1, 0)


def _api_node(node_id: str, spec: Any, ids: frozenset[str]) -> Node:
    if not isinstance(spec, Mapping):
        raise error(f"node {node_id} is not a JSON object", _API_HINT)
    class_type = spec.get("class_type")
    class_type = class_type if isinstance(class_type, str) and class_type else None
    meta = spec.get("_meta")
    title = meta.get("title") if isinstance(meta, Mapping) else None
    title = title if isinstance(title, str) and title else None
    inputs = spec.get("inputs") or {}
    if not isinstance(inputs, Mapping):
        raise error(f"node {node_id} has inputs that are not a JSON object", _API_HINT)
    fields = []
    for name, value in inputs.items():
        kind, options = infer_kind(class_type, str(name), value, ids)
        fields.append(Field(node_id, title, class_type, str(name), value, kind, options))
    return Node(node_id, class_type, title, tuple(fields))


def _app_node(node_id: str, items: list[AppInput]) -> Node:
    class_type = next((i.node_name for i in items if i.node_name), None)
    fields: dict[str, Field] = {}
    for item in items:
        kind, options = app_kind(item.field_type, item.options)
        field = Field(
            node_id, None, class_type, item.field_name, item.field_value, kind, options,
            item.description,
        )  # fmt: skip
        fields.setdefault(item.field_name, field)
    return Node(node_id, class_type, None, tuple(fields.values()))


def _index(
    nodes: Sequence[Node], key: Callable[[Node], str | None], *, fold: bool
) -> tuple[dict[str, tuple[Node, ...]], bool]:
    index: dict[str, tuple[Node, ...]] = {}
    for node in nodes:
        value = key(node)
        if value:
            value = value.casefold() if fold else value
            index[value] = (*index.get(value, ()), node)
    return index, fold


def _splits(address: str) -> Iterator[tuple[str, str]]:
    """``a.b.c`` -> (``a.b``, ``c``), (``a``, ``b.c``): the last dot first."""
    end = len(address)
    while (end := address.rfind(".", 0, end)) != -1:
        yield address[:end], address[end + 1 :]


# -- overrides --------------------------------------------------------------------------------

_Key: TypeAlias = str | tuple[str, str]  # an address to split, or (node, field) already apart
_SHAPES = "give {'NODE.FIELD': value} or a list of NodeOverride or (node, field, value)"


def normalize_overrides(overrides: OverridesLike) -> list[tuple[str, str, Any]]:
    """``(node, field, value)`` triples, without a graph: mapping keys split on the last dot.

    Raises InvalidRequestError for a shape it cannot read or a field set twice differently.
    """
    triples = []
    for key, value in _entries(overrides):
        if isinstance(key, tuple):
            node, name = key
        else:
            node, dot, name = key.rpartition(".")
            if not (dot and node and name):
                raise error(f"{key!r} is not a NODE.FIELD address", "e.g. 6.text or KSampler.seed")
        triples.append((node, name, value))
    return _once_each(triples)


def _entries(overrides: OverridesLike) -> list[tuple[_Key, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [(_address_key(key), value) for key, value in overrides.items()]
    if isinstance(overrides, str | bytes | bytearray) or not isinstance(overrides, Iterable):
        raise error(f"cannot read overrides given as a {type(overrides).__name__}", _SHAPES)
    return [_item_entry(item) for item in overrides]


def _address_key(key: object) -> str:
    if not isinstance(key, str):
        raise error(f"override keys are 'NODE.FIELD' strings, got {key!r}", "e.g. '6.text'")
    return key


def _item_entry(item: object) -> tuple[_Key, Any]:
    if isinstance(item, NodeOverride):
        return (_node_ref(item.node_id), _field_name(item.field)), item.value
    if isinstance(item, Mapping):
        return _wire_entry(item)
    if isinstance(item, tuple | list) and len(item) == 3:
        node, name, value = item
        return (_node_ref(node), _field_name(name)), value
    raise error(f"cannot read the override {show(item)}", _SHAPES)


def _wire_entry(item: Mapping[str, Any]) -> tuple[_Key, Any]:
    """A ``nodeInfoList`` item: ``{"nodeId", "fieldName", "fieldValue"}``."""
    if "fieldValue" not in item:
        wrong = next((k for k in ("value", "field_value", "fieldvalue") if k in item), None)
        hint = f"rename {wrong!r} to 'fieldValue'" if wrong else "add 'fieldValue'"
        raise error(f"the override {show(item)} has no 'fieldValue'", hint)
    return (_node_ref(item.get("nodeId")), _field_name(item.get("fieldName"))), item["fieldValue"]


def _node_ref(node: object) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, int) and not isinstance(node, bool):
        return str(node)
    raise error(f"cannot read the node {show(node)}", "name a node by its id, title or class")


def _field_name(name: object) -> str:
    if isinstance(name, str) and name:
        return name
    raise error(f"cannot read the field name {show(name)}", "a field name is a non-empty string")


def _once_each(triples: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """Drop exact repeats; refuse one field set to two different values."""
    seen: dict[tuple[str, str], Any] = {}
    for node, name, value in triples:
        if (node, name) in seen and seen[(node, name)] != value:
            raise error(
                f"{node}.{name} is set twice, to {show(seen[(node, name)])} and {show(value)}",
                "set each field once",
            )
        seen.setdefault((node, name), value)
    return [(node, name, value) for (node, name), value in seen.items()]


# -- rendering and messages -------------------------------------------------------------------


def render_rows(graph: WorkflowGraph, *, include_links: bool = False) -> list[dict[str, Any]]:
    """One JSON-ready row per field: what ``runninghub nodes`` prints as a table or as JSON."""
    return [
        {
            "address": f.address,
            "node_id": f.node_id,
            "title": f.node_title,
            "class_type": f.class_type,
            "field": f.name,
            "type": f.kind.value,
            "value": f.value,
            "options": list(f.options),
            "description": f.description,
        }
        for f in graph.fields(include_links=include_links)
    ]


def _ambiguous(node_ref: str, name: str, nodes: Sequence[Node]) -> InvalidRequestError:
    labels = ", ".join(node.label for node in nodes)
    choices = ", ".join(f"{node.id}.{name}" for node in nodes)
    return error(
        f"{node_ref!r} matches {len(nodes)} nodes: {labels}; address one by its id",
        f"use one of: {choices}",
    )
