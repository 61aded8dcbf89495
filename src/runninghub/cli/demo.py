"""``runninghub demo``: the whole product in one command, offline (this is ``make demo``).

Starts the emulator in-process on a free loopback port, then, with a throwaway key and a
throwaway config directory (the user's own key and config are never read or written):

1. uploads the bundled sample picture and runs the image workflow 1987728214757978114
   (LoadImage 107 -> ImageInvert -> SaveImage): the output is the inverted picture;
2. runs the text-to-image workflow 1904136902449209346 with a prompt override.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import dir_option, seconds_option

if TYPE_CHECKING:
    from runninghub import Client

__all__ = ["demo"]

IMAGE_WORKFLOW = "1987728214757978114"
TEXT_TO_IMAGE_WORKFLOW = "1904136902449209346"
DEFAULT_PROMPT = "a lighthouse on a cliff at dawn, oil painting"


def _demo_run(
    state: CliState,
    client: Client,
    *,
    out_dir: Path,
    workflow_id: str,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """Run one workflow, save its outputs in ``out_dir`` and print their paths."""
    from ._finish_options import FinishChoices
    from ._flow import save_outputs, task_document, wait_for

    state.render.note(f"running workflow {workflow_id} (outputs to {out_dir})")
    handle = client.submit(workflow_id, overrides)
    task = wait_for(state, handle, FinishChoices(timeout=120))
    saved = save_outputs(client, task, out_dir)
    for item in saved:
        state.render.line(str(item.path))
    return {"workflow_id": workflow_id, "out_dir": str(out_dir), **task_document(task, saved)}


@click.command()
@dir_option("--out", default=Path("demo-outputs"), show_default=True, help="Where the outputs go.")
@click.option("--prompt", default=DEFAULT_PROMPT, show_default=True, help="Text-to-image prompt.")
@seconds_option("--task-seconds", 1.0, "How long each emulated task runs.")
@json_option
@pass_state
def demo(state: CliState, out: Path, prompt: str, task_seconds: float) -> None:
    """Run two bundled workflows on a local emulator and save their outputs.

    Needs no account and no network. The image workflow inverts a bundled picture; the
    text-to-image one renders a synthetic picture from a prompt.

    \b
    Examples:
      runninghub demo
      runninghub demo --out /tmp/demo --prompt "a red fox in the snow"
    """
    import secrets
    import tempfile

    from runninghub._support import require_extra

    require_extra("emulator", "`runninghub demo` (it runs the local emulator)")
    from runninghub import Client
    from runninghub.emulator import serve_in_thread
    from runninghub.emulator.catalog import SAMPLE_IMAGE

    key = secrets.token_hex(16)
    state.render.add_secret(key)
    with (
        serve_in_thread(queue_seconds=0.0, task_seconds=task_seconds) as server,
        tempfile.TemporaryDirectory(prefix="runninghub-demo-") as config_dir,
        Client(api_key=key, base_url=server.base_url, config_dir=Path(config_dir)) as client,
    ):
        state.render.note(f"emulator listening on {server.base_url}")
        demos: list[tuple[str, str, dict[str, Any]]] = [
            ("inverted", IMAGE_WORKFLOW, {"107.image": SAMPLE_IMAGE}),
            ("text-to-image", TEXT_TO_IMAGE_WORKFLOW, {"6.text": prompt}),
        ]
        runs = [
            _demo_run(state, client, out_dir=out / folder, workflow_id=ident, overrides=overrides)
            for folder, ident, overrides in demos
        ]
    state.render.note(f"done: outputs saved under {out}/")
    if state.json:
        state.render.document({"out_dir": str(out), "runs": runs})
