"""The preset flows: the saved presets, and one run by its name (``runninghub preset``)."""

from __future__ import annotations

import functools
from typing import Any

from ._core import ClientCore
from ._flows import finish, submit_ai_app, submit_workflow
from ._model_flows import submit_standard_model
from ._model_presets import model_body
from ._models import Task
from ._options import PathLike, ProgressCallback, SaveOptions, SubmitOptions, WaitOptions
from ._presets import Preset
from ._steps import Flow


def presets(client: ClientCore, presets_file: PathLike | None = None) -> Flow[list[Preset]]:
    """The saved presets (``runninghub preset add``), by name: from the config directory's
    ``presets.toml``, else ``presets_file`` or ``$RUNNINGHUB_PRESETS`` when given."""
    yield from ()  # a flow with no request: it reads the local presets file
    return sorted(client._presets(presets_file).values(), key=lambda p: p.name)


def run_preset(  # noqa: PLR0913 - the public signature: options as keywords
    client: ClientCore,
    name: str,
    /,
    *,
    timeout: float | None = None,
    out_dir: PathLike | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    cancel_on_timeout: bool = False,
    presets_file: PathLike | None = None,
    **params: Any,
) -> Flow[Task]:
    """Run a saved preset (``presets()``), its open parameters given as keywords.

    ``client.run_preset("portrait", prompt="a red fox")``. An unknown parameter, a missing
    one or a bad value is refused (InvalidRequestError) before anything is submitted; the
    rest is as for ``run``.
    """
    preset = client._preset(name, presets_file)
    overrides: Any = preset.overrides(params)
    submitting: Any = submit_workflow if preset.kind == "workflow" else submit_ai_app
    if preset.kind == "model":  # checked against the catalogue, local files uploaded
        submitting, overrides = submit_standard_model, model_body(overrides)
    waiting = WaitOptions(timeout, cancel_on_timeout, on_progress)
    again = functools.partial(
        submitting, client, preset.target, overrides, SubmitOptions(validate=True)
    )
    return (yield from finish(client, again, waiting, SaveOptions.of(out_dir, overwrite)))
