"""What a batch row is sent to: a workflow, an AI app or a standard model.

The runner is the same for all three; only the submit call, the value an upload leaves in the
row (a workflow's file name, a model's URL) and what a task is taken to cost differ. A model
row's parameters are kept in the ledger as overrides of the pseudo node ``model``, one item
of a list parameter as ``key[i]``, so that local files are uploaded one by one like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._model_checks import list_price
from .._model_presets import model_body
from .._models import NodeOverride, Usage
from .spec import BatchSpec

if TYPE_CHECKING:
    from .._async_client import AsyncClient, AsyncTaskHandle
    from .ledger import LedgerRow

__all__ = [
    "MODEL_NODE",
    "ExpectedSpend",
    "model_overrides",
    "submit_row",
    "task_cost",
    "uploaded_value",
]

MODEL_NODE = "model"


def model_overrides(body: Mapping[str, Any]) -> list[NodeOverride]:
    """A model's parameters as ledger overrides: a list's items as ``key[i]`` entries."""
    result = []
    for key, value in body.items():
        if isinstance(value, list | tuple):
            result += [NodeOverride(MODEL_NODE, f"{key}[{i}]", v) for i, v in enumerate(value)]
        else:
            result.append(NodeOverride(MODEL_NODE, key, value))
    return result


def _body(overrides: Iterable[NodeOverride]) -> dict[str, Any]:
    return model_body({item.field: item.value for item in overrides})


async def submit_row(
    client: AsyncClient, spec: BatchSpec, overrides: Sequence[NodeOverride]
) -> AsyncTaskHandle:
    """Send one row (checked when the batch was planned, so not checked again)."""
    if spec.kind == "model":
        return await client.submit_model(spec.workflow_id, _body(overrides), validate=False)
    if spec.kind == "app":
        return await client.submit_app(spec.workflow_id, list(overrides), validate=False)
    return await client.submit(spec.workflow_id, list(overrides), validate=False)


async def uploaded_value(client: AsyncClient, spec: BatchSpec, path: Path) -> str:
    """Upload a row's local file; a model takes its URL, a workflow or app its file name."""
    sent = await client.upload(path)
    if spec.kind == "model" and sent.download_url:
        return sent.download_url
    return sent.file_name


def task_cost(spec: BatchSpec, usage: Usage | None) -> Decimal | None:
    """What a finished task used: coins, or, for a model (enterprise keys pay from the
    wallet), the wallet money when no coins are reported."""
    if usage is None:
        return None
    if spec.kind == "model" and not usage.consume_coins and usage.consume_money is not None:
        return usage.consume_money  # a wallet key reports 0 coins beside what it paid
    return usage.consume_coins


class ExpectedSpend:
    """The list price of each model row in flight, which the spend guard (``_limits``)
    counts until the service reports what the task used. Rows without a list price
    (workflows, apps, a model the catalogue does not price) hold nothing here."""

    def __init__(self, spec: BatchSpec, client: AsyncClient) -> None:
        self._model = client._catalogue().get(spec.workflow_id) if spec.kind == "model" else None
        self._held: dict[int, Decimal] = {}

    def cost(self, row: LedgerRow | None) -> Decimal | None:
        """``row``'s list price; None when it has none (or no row is named)."""
        if self._model is None or row is None:
            return None
        return list_price(self._model, _body(row.overrides))

    def reserve(self, row: LedgerRow) -> None:
        price = self.cost(row)
        if price is not None:
            self._held[row.row] = price

    def settle(self, row: int) -> None:
        self._held.pop(row, None)

    @property
    def held(self) -> tuple[int, Decimal]:
        """How many rows in flight hold a list price, and their sum."""
        return len(self._held), sum(self._held.values(), Decimal(0))
