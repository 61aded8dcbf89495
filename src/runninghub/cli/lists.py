"""``runninghub lora upload``, ``resources search``, ``account keys`` and ``app list``."""

from __future__ import annotations

from pathlib import Path

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import EXISTING_FILE

__all__ = ["account_keys", "app_list", "lora", "resources"]

_RESOURCE_TYPES = ("UNET", "CHECKPOINT", "LORA", "GGUF")


def _page_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--size", type=click.IntRange(1, 50), default=20, show_default=True, help="Per page."
    )(func)
    return click.option(
        "--page", type=click.IntRange(min=1), default=1, show_default=True, help="From 1."
    )(func)


@click.group()
def lora() -> None:
    """LoRA files: upload one for an RHLoraLoader node.

    \b
    Example:
      runninghub lora upload ./my_style.safetensors
    """


@lora.command("upload")
@click.argument("path", type=EXISTING_FILE)
@click.option("--name", help="The name to list it under (default: the file's name).")
@json_option
@pass_state
def lora_upload(state: CliState, path: Path, name: str | None) -> None:
    """Upload a .safetensors LoRA (skipped when the service holds its md5) and print its name.

    The printed name is the value of an RHLoraLoader node's lora_name field.

    \b
    Example:
      runninghub lora upload ./my_style.safetensors --json
    """
    with state.client() as client:
        done = client.upload_lora(path, name=name)
    state.render.note("uploaded" if done.uploaded else "already on the service (md5 known)")
    state.render.result(done.to_dict(), [done.file_name])


@click.group()
def resources() -> None:
    """Search the model files a workflow may load (checkpoints, LoRAs ...).

    Checkpoints, UNETs, LoRAs and GGUFs, with the value a loader node takes.

    \b
    Example:
      runninghub resources search --type LORA --name anime
    """


@resources.command("search")
@click.option("--type", "kind", type=click.Choice(_RESOURCE_TYPES, case_sensitive=False))
@click.option("--name", metavar="TEXT", help="Text in the resource's name.")
@_page_options
@json_option
@pass_state
def resources_search(
    state: CliState, kind: str | None, name: str | None, page: int, size: int
) -> None:
    """List one page of the resources of a type, by name.

    \b
    Example:
      runninghub resources search --type LORA --page 2 --json
    """
    with state.client() as client:
        found = client.resources(type=kind, name=name, page=page, size=size)
    state.render.note(f"page {found.current} of {found.pages} ({found.total} in all)")
    if state.json:
        state.render.document(found.to_dict())
        return
    rows = [(r.type, r.name, r.base_model or "", r.node_model_name or "") for r in found.records]
    state.render.table(("type", "name", "base model", "loader value"), rows)


@click.command("keys")
@json_option
@pass_state
def account_keys(state: CliState) -> None:
    """List the account's API keys (masked), with their quota and expiry.

    \b
    Example:
      runninghub account keys --json
    """
    with state.client() as client:
        keys = client.api_keys()
    if state.json:
        state.render.document({"keys": [k.to_dict() for k in keys]})
        return
    rows = [
        (k.key, k.name or "", k.type or "", "yes" if k.enabled else "no", k.quota_used or "",
         k.quota_limit or "", k.expire_at or "")
        for k in keys
    ]  # fmt: skip
    state.render.table(("key", "name", "type", "enabled", "used", "quota", "expires"), rows)


@click.command("list")
@click.option(
    "--sort", default="RECOMMEND", show_default=True, help="RECOMMEND, HOTTEST or NEWEST."
)
@_page_options
@json_option
@pass_state
def app_list(state: CliState, sort: str, page: int, size: int) -> None:
    """List one page of the public AI apps, with the id `app run` takes.

    \b
    Example:
      runninghub app list --sort HOTTEST --size 10
    """
    with state.client() as client:
        found = client.ai_apps(page=page, size=size, sort=sort)
    state.render.note(f"page {found.current} of {found.pages} ({found.total} in all)")
    if state.json:
        state.render.document(found.to_dict())
        return
    rows = [(a.app_id or "", a.title, (a.description or "")[:60]) for a in found.records]
    state.render.table(("app id", "title", "description"), rows)
