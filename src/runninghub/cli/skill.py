"""``runninghub skill install | uninstall | show``: runninghub as an agent skill.

The folder is written where the host loads personal skills (``--dir`` for any other skills
directory), and replaces the earlier runninghub-comfyui skill's folder when it finds one,
keeping a private backup and importing the key of its ``config.json``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._context import CliState, json_option, pass_state, with_options
from ._option_kinds import dir_option

if TYPE_CHECKING:
    from runninghub.skill.install import InstallResult, KeyImport, Plan

__all__ = ["skill"]

F = TypeVar("F", bound=Callable[..., Any])
HOSTS = ("openclaw", "claude", "agentskills")


def _check_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    del ctx, param
    from runninghub.skill.render import NAME_PATTERN

    if value is not None and (len(value) > 64 or not NAME_PATTERN.fullmatch(value)):
        raise click.BadParameter(
            f"{value!r} is not a skill name: use 1-64 lowercase letters, digits and single "
            "hyphens, not at either end"
        )
    return value


def _where_options(func: F) -> F:
    """``--for``, ``--dir`` and ``--name``: which folder, for which host."""
    options = [
        click.option(
            "--for",
            "host",
            type=click.Choice(HOSTS),
            default="openclaw",
            show_default=True,
            help="The agent host the folder is written for.",
        ),
        dir_option(
            "--dir",
            "skills_dir",
            help="Skills directory (default: ~/.openclaw/skills, ~/.claude/skills, "
            "~/.agents/skills).",
        ),
        click.option(
            "--name",
            callback=_check_name,
            metavar="NAME",
            help="Folder and skill name (default: runninghub, or runninghub-comfyui where "
            "the earlier skill's folder is).",
        ),
    ]
    return with_options(func, options)


_seed_option = click.option(
    "--seed-compatible",
    is_flag=True,
    help="Also write scripts/runninghub_client.py, so the earlier skill's commands work "
    "(automatic when it replaces that skill's folder).",
)


@click.group()
def skill() -> None:
    """Install runninghub as an agent skill (OpenClaw, Claude Code, AgentSkills hosts).

    \b
    Examples:
      runninghub skill install                     # ~/.openclaw/skills/runninghub
      runninghub skill install --for claude        # ~/.claude/skills/runninghub
      runninghub skill install --dir ./skills --seed-compatible
      runninghub skill show --for agentskills
    """


def _plan(state: CliState, host: str, skills_dir: Path | None, **options: Any) -> Plan:
    from runninghub.skill.install import default_skills_dir, plan

    directory = skills_dir if skills_dir is not None else default_skills_dir(host)
    return plan(host, directory, site=state.site, python=sys.executable, **options)


@skill.command("install")
@_where_options
@_seed_option
@click.option("--force", is_flag=True, help="Replace a folder runninghub did not write.")
@json_option
@pass_state
def install(state: CliState, /, host: str, skills_dir: Path | None, **options: Any) -> None:
    """Write the skill folder (SKILL.md, references/, and the seed's script when asked).

    \b
    Examples:
      runninghub skill install
      runninghub skill install --for claude --dir .claude/skills
    """
    from runninghub.skill import install as installer

    force = options.pop("force")
    found = _plan(state, host, skills_dir, **options)
    if found.seed_key is not None:
        state.render.add_secret(found.seed_key.key)
    try:
        result = installer.install(found, force=force)
    except installer.SkillFolderError as exc:
        raise click.UsageError(str(exc)) from None
    _report_install(state, result)


def _report_install(state: CliState, result: InstallResult) -> None:
    found = result.plan
    spec = found.spec
    state.render.note(f"wrote the {spec.host} skill {spec.name} to {found.target}")
    if result.backup is not None:
        state.render.note(f"the folder that was there is kept in {result.backup}")
    key = _report_key(state, result)
    if spec.seed_compatible:
        state.render.note(
            "the earlier skill's commands work from that folder: "
            "python3 scripts/runninghub_client.py --workflow-id ID --action submit"
        )
    document = {
        "host": spec.host,
        "name": spec.name,
        "path": str(found.target),
        "files": sorted(found.files),
        "seed_compatible": spec.seed_compatible,
        "replaced": None if found.state == "absent" else found.state,
        "backup": str(result.backup) if result.backup else None,
        "key": key,
    }
    state.render.result(document, [str(found.target)])


def _report_key(state: CliState, result: InstallResult) -> dict[str, str] | None:
    """Say what became of the seed's key; never show more than its mask."""
    found: KeyImport | None = result.key
    if found is None or result.backup is None:
        return None
    from runninghub import _support as _config

    kept = result.backup / found.source.relative_to(result.plan.target)
    if found.outcome == "imported":
        state.render.note(f"imported the key {found.masked} to {_config.config_path()}")
    elif found.outcome == "kept the saved key":
        state.render.warn(
            f"kept the key already saved; to use the earlier skill's key {found.masked} "
            f"instead: runninghub auth import {kept}"
        )
    elif found.outcome == "no usable key":
        state.render.warn(f"the earlier skill's {found.source.name} holds no usable key")
    return {"outcome": found.outcome, "key": found.masked, "kept_in": str(kept)}


@skill.command("uninstall")
@_where_options
@json_option
@pass_state
def uninstall(state: CliState, host: str, skills_dir: Path | None, name: str | None) -> None:
    """Remove a skill folder that runninghub wrote (any other folder is left alone).

    \b
    Example:
      runninghub skill uninstall --for claude
    """
    from runninghub.skill import install as installer

    directory = skills_dir if skills_dir is not None else installer.default_skills_dir(host)
    try:
        removed = installer.uninstall(directory, name)
    except installer.SkillFolderError as exc:
        raise click.UsageError(str(exc)) from None
    if removed is None:
        state.render.note(f"no runninghub skill in {directory}")
    else:
        state.render.note(f"removed {removed}")
    document = {"removed": str(removed) if removed else None}
    state.render.result(document, [str(removed)] if removed else [])


@skill.command("show")
@_where_options
@_seed_option
@json_option
@pass_state
def show(state: CliState, /, host: str, skills_dir: Path | None, **options: Any) -> None:
    """Print the SKILL.md that install would write (and list the other files), writing nothing.

    \b
    Example:
      runninghub skill show --for claude
    """
    found = _plan(state, host, skills_dir, **options)
    state.render.note(f"would write to {found.target}: {', '.join(sorted(found.files))}")
    if found.state == "seed":
        state.render.note("it would replace the earlier skill's folder there (kept in a backup)")
    elif found.state == "foreign":
        state.render.warn(f"{found.target} was not written by runninghub: install needs --force")
    document = {
        "host": found.spec.host,
        "name": found.spec.name,
        "path": str(found.target),
        "seed_compatible": found.spec.seed_compatible,
        "replaces": None if found.state == "absent" else found.state,
        "files": found.files,
    }
    state.render.result(document, [found.files["SKILL.md"].rstrip("\n")])
