"""``runninghub auth set | show | clear | import``: the stored API key.

The key is stored in the config file (mode 0600, directory 0700) and is never printed whole:
``show`` prints it masked, and every other message names it by its mask.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import EXISTING_FILE

__all__ = ["auth"]

_site_option = click.option(
    "--site", type=click.Choice(["cn", "ai"]), help="www.runninghub.cn (cn) or .ai (ai)."
)


@click.group()
def auth() -> None:
    """Store, show or remove the API key.

    \b
    Examples:
      runninghub auth set --site ai         # hidden prompt
      echo "$KEY" | runninghub auth set     # from stdin, for scripts
      runninghub auth show
    """


def _chosen_site(state: CliState, site: str | None, fallback: object = None) -> str:
    from runninghub import _support as _config

    if site or state.site:
        return str(site or state.site)
    if isinstance(fallback, str) and fallback in _config.SITES:
        return fallback
    stored = _config.load_config().get("site")
    return stored if isinstance(stored, str) and stored in _config.SITES else "cn"


def _read_key(state: CliState) -> str:
    """The key from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return state.render.prompt_secret("RunningHub API key")
    return sys.stdin.readline().strip()


def _saved(state: CliState, key: str, site: str) -> None:
    from runninghub import _support as _config

    path = _config.save_key(key, site)
    masked = _config.mask_key(key.strip())
    state.render.note(f"saved key {masked} for site {site} to {path}")
    document = {"key": masked, "site": site, "config_file": str(path)}
    state.render.result(document, [])


@auth.command("set")
@_site_option
@json_option
@pass_state
def set_key(state: CliState, site: str | None) -> None:
    """Store the API key: a hidden prompt on a terminal, else one line on stdin.

    \b
    Examples:
      runninghub auth set
      printf '%s\\n' "$RUNNINGHUB_KEY" | runninghub auth set --site ai
    """
    key = _read_key(state)
    state.render.add_secret(key)
    _saved(state, key, _chosen_site(state, site))


@auth.command("show")
@json_option
@pass_state
def show(state: CliState) -> None:
    """Show which key is in use (masked), where it comes from, and the site.

    \b
    Example:
      runninghub auth show
    """
    from runninghub import _support as _config

    settings = state.settings()
    document: dict[str, Any] = {
        "key": _config.mask_key(settings.api_key),
        "source": settings.key_source,
        "site": settings.site,
        "base_url": settings.base_url,
        "config_file": str(_config.config_path()),
    }
    lines = [f"{name}: {value}" for name, value in document.items()]
    state.render.result(document, lines)


@auth.command("clear")
@json_option
@pass_state
def clear(state: CliState) -> None:
    """Remove the stored key and site from the config file (and the sites found per key).

    \b
    Example:
      runninghub auth clear
    """
    import os

    from runninghub import _support as _config

    removed = _config.clear_key()
    path = _config.config_path()
    state.render.note(
        f"removed the key and its site from {path}" if removed else f"no key stored in {path}"
    )
    if os.environ.get(_config.ENV_API_KEY):
        state.render.note(f"{_config.ENV_API_KEY} still provides a key to this shell")
    state.render.result({"removed": removed, "config_file": str(path)}, [])


@auth.command("import")
@click.argument("file", type=EXISTING_FILE)
@_site_option
@json_option
@pass_state
def import_key(state: CliState, file: Path, site: str | None) -> None:
    """Import the key from a seed-style config.json ({"api_key": "..."}).

    \b
    Example:
      runninghub auth import ~/.openclaw/skills/runninghub/config.json
    """
    data = _read_json_object(file)
    key = data.get("api_key") or data.get("apiKey")
    if not isinstance(key, str):
        raise click.BadParameter(f"{file} has no api_key field", param_hint="FILE")
    state.render.add_secret(key.strip())
    _saved(state, key, _chosen_site(state, site, fallback=data.get("site")))


def _read_json_object(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError:
        raise click.BadParameter(f"{file} is not valid JSON", param_hint="FILE") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{file} does not hold a JSON object", param_hint="FILE")
    return data
