"""The hint for an id of the wrong kind: an app id given to ``run``, a workflow id to ``app``.

Only after the service said it does not know the id (nothing was created) is the other kind
looked up, once, and a match turns the refusal into a usage error naming the right command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from runninghub import InvalidRequestError, NotFoundError, RunningHubError

if TYPE_CHECKING:
    from runninghub import Client

__all__ = ["other_kind_hint"]

_RUNS = {"workflow": "run it with: runninghub run", "app": "run it with: runninghub app run"}
_LISTS = {
    "workflow": "list its fields with: runninghub nodes",
    "app": "list its inputs with: runninghub app inputs",
}


@contextmanager
def other_kind_hint(
    client: Client, ident: str, kind: str, *, listing: bool = False
) -> Iterator[None]:
    """Inside: a NotFoundError for ``ident`` (a ``kind``, "workflow" or "app") that names
    the other kind is raised again as an InvalidRequestError (exit 2) with the command that
    runs it (or, ``listing``, lists what it lets you set)."""
    try:
        yield
    except NotFoundError:
        other = "app" if kind == "workflow" else "workflow"
        if not ident.isdigit() or not _exists(client, ident, other):
            raise
        label = {"app": "an AI app", "workflow": "a workflow"}
        raise InvalidRequestError(
            f"{ident} is {label[other]}, not {label[kind]}",
            hint=f"{(_LISTS if listing else _RUNS)[other]} {ident}",
        ) from None


def _exists(client: Client, ident: str, kind: str) -> bool:
    try:
        if kind == "app":
            client.app_inputs(ident)
        else:
            client.workflow_graph(ident)
    except RunningHubError:
        return False
    return True
