"""What the run page runs: a workflow, an AI app or a standard model, through the client.

A ``Target`` is the kind and the id; ``Targets`` asks the client for its form (a workflow's
graph, an app's inputs read as a graph, a model's catalogue entry), checks values with the
SDK's own checks, and names the one client call that submits it. Ids are checked here before
any request, so that text from the address bar never reaches a URL unvalidated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import runninghub

from ._model_form import check_model, model_fields, model_values
from ._views import FormField, check_overrides, form_fields

__all__ = ["KINDS", "Target", "Targets", "pick_target"]

KINDS = ("workflow", "app", "model")
_DIGITS = re.compile(r"[0-9]{1,32}")
_TITLES = {"workflow": "Workflow", "app": "App", "model": "Model"}


@dataclass(frozen=True)
class Target:
    kind: str  # one of KINDS
    ident: str  # the workflow id, the app id or the model's endpoint

    @property
    def title(self) -> str:
        return f"{_TITLES[self.kind]} {self.ident}"


def pick_target(query: Mapping[str, str]) -> Target | None:
    """The target named by ``?workflow=``, ``?app=`` or ``?model=`` (the first given)."""
    for kind in KINDS:
        ident = (query.get(kind) or "").strip()
        if ident:
            return Target(kind, ident)
    return None


class Targets:
    def __init__(self, client: runninghub.Client) -> None:
        self.client = client

    def graph(self, target: Target) -> runninghub.WorkflowGraph:
        """A workflow's graph, or an app's inputs read as one (the form and checks of both)."""
        if not _DIGITS.fullmatch(target.ident):
            noun = "a workflow id" if target.kind == "workflow" else "an app id"
            raise runninghub.InvalidRequestError(
                f"{noun} is digits, such as 1904136902449209346", code=None
            )
        if target.kind == "workflow":
            return self.client.workflow_graph(target.ident)
        inputs = self.client.app_inputs(target.ident)
        return runninghub.WorkflowGraph.from_app_inputs(inputs)

    def fields(self, target: Target, filled: Mapping[str, Any] | None) -> list[FormField]:
        if target.kind == "model":
            return model_fields(self.client.model(target.ident), filled)
        return form_fields(self.graph(target), dict(filled or {}))

    def check(self, target: Target, values: dict[str, Any]) -> dict[str, str]:
        """What the SDK would refuse, field by field: address (or model key) -> one line."""
        if target.kind == "model":
            model = self.client.model(target.ident)
            return check_model(model, model_values(model, values))
        return check_overrides(self.graph(target), values)

    def submitter(
        self, target: Target, values: dict[str, Any]
    ) -> Callable[[], runninghub.TaskHandle]:
        """The one client call that submits ``target`` with ``values`` (checked already)."""
        client, ident = self.client, target.ident
        if target.kind == "workflow":
            return lambda: client.submit(ident, values)
        if target.kind == "app":
            return lambda: client.submit_app(ident, values)
        body = model_values(client.model(ident), values)
        return lambda: client.submit_model(ident, body)
