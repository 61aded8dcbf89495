"""The emulator's catalogue: bundled workflows, AI apps and sample media.

Workflows are API-format graphs stored as ``<workflow id>.json`` (file name = id), from the
bundled ``data/workflows`` and from a user directory. Apps are ``data/apps/<webapp id>.json``
holding ``name``, ``graph`` (what runs) and ``node_info_list`` (what ``apiCallDemo`` lists).

Bundled graphs load images by the name ``example.png``, as ComfyUI's templates do; the
server resolves such names through :data:`DEFAULT_MEDIA`.

JSON is parsed by the standard library, which keeps integers exact: ids and seeds above
2**53 never pass through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .jsonlimits import loads_limited

__all__ = [
    "DEFAULT_MEDIA",
    "SAMPLE_IMAGE",
    "AppSpec",
    "default_media",
    "load_apps",
    "load_workflows",
    "parse_workflow",
]

DATA_DIR = Path(__file__).parent / "data"
SAMPLE_IMAGE: Path = DATA_DIR / "images" / "sample.png"
# Media names the bundled graphs use, and the bundled files they stand for.
DEFAULT_MEDIA: Mapping[str, Path] = MappingProxyType({"example.png": SAMPLE_IMAGE})


@dataclass(frozen=True)
class AppSpec:
    """An AI app ("webapp"): the graph it runs and the inputs its apiCallDemo lists.

    ``node_info_list`` entries carry ``nodeId, nodeName, fieldName, fieldValue, fieldData``
    (a JSON string: the ComfyUI input spec, e.g. ``[["none", "90 degrees"], {"default":
    "none"}]`` for a LIST), ``fieldType, description, descriptionEn``.
    """

    webapp_id: str
    name: str
    graph: dict[str, Any]
    node_info_list: list[dict[str, Any]]


def default_media(name: str) -> bytes:
    """The bytes of a bundled default media name such as ``example.png``.

    Raises FileNotFoundError for any other name.
    """
    path = DEFAULT_MEDIA.get(name)
    if path is None:
        raise FileNotFoundError(f"no bundled media named {name!r}")
    return path.read_bytes()


def load_workflows(extra_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Workflow id -> API-format graph: the bundled ones, then ``extra_dir``'s (which win).

    Raises FileNotFoundError when ``extra_dir`` does not exist and ValueError (naming the
    file) when a file is not an API-format workflow.
    """
    workflows = _load_dir(DATA_DIR / "workflows")
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise FileNotFoundError(f"workflows directory not found: {extra_dir}")
        workflows.update(_load_dir(extra_dir))
    return workflows


def load_apps() -> dict[str, AppSpec]:
    """Webapp id -> the bundled app."""
    apps = {}
    for path in sorted((DATA_DIR / "apps").glob("*.json")):
        apps[path.stem] = _parse_app(path)
    return apps


def _load_dir(directory: Path) -> dict[str, dict[str, Any]]:
    workflows = {}
    for path in sorted(directory.glob("*.json")):
        try:
            workflows[path.stem] = parse_workflow(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
    return workflows


def _loads(text: str) -> Any:
    return loads_limited(text)


def parse_workflow(text: str) -> dict[str, Any]:
    """Parse an API-format workflow from JSON text.

    Also accepts the graph wrapped as ``{"prompt": <graph or JSON string>}`` (the shape of
    ComfyUI's /prompt body and of getJsonApiFormat's data). Raises ValueError for anything
    else, with a hint when the file is a UI-format workflow.
    """
    return _as_graph(_loads(text))


def _as_graph(graph: Any) -> dict[str, Any]:
    if isinstance(graph, dict) and set(graph) == {"prompt"}:
        graph = graph["prompt"]
        if isinstance(graph, str):
            graph = _loads(graph)
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), list) and "links" in graph:
        raise ValueError("this is a UI-format workflow; export it with 'Save (API Format)'")
    if not isinstance(graph, dict) or not graph:
        raise ValueError("an API-format workflow is a non-empty JSON object of nodes")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise ValueError(f"node {node_id} is not an object with a class_type")
        if not isinstance(node.get("inputs", {}), dict):
            raise ValueError(f"node {node_id}: inputs must be an object")
    return graph


def _parse_app(path: Path) -> AppSpec:
    document = _loads(path.read_text(encoding="utf-8"))
    declared = str(document.get("webappId", path.stem))
    if declared != path.stem:
        raise ValueError(f"{path}: webappId {declared} does not match the file name")
    graph = _as_graph(document["graph"])
    return AppSpec(path.stem, document["name"], graph, list(document["node_info_list"]))
