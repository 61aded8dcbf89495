"""The skill folder's files, made from one source for every host and for the repository.

The instructions (``data/body.md``), the references and the seed's script are package data;
only the frontmatter differs between hosts:

- ``openclaw``: ``name``, ``description``, ``version``, ``homepage``, ``license`` and
  ``metadata`` as one line of JSON under the ``openclaw`` key (OpenClaw reads ``metadata``
  as a string and parses it as JSON5; its requirements gate the skill: ``requires.bins``,
  ``requires.env``, ``primaryEnv``, an ``install`` spec of kind ``uv``).
- ``agentskills`` and ``claude``: only the fields of the AgentSkills specification (``name``,
  ``description``, ``license``, ``compatibility``, ``metadata`` as a block of string values),
  because its reference validator refuses other fields and JSON-style (flow) mappings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from runninghub import __version__

__all__ = [
    "DEFAULT_NAME",
    "HOSTS",
    "SEED_SCRIPT",
    "SkillSpec",
    "repository_skill_md",
    "skill_files",
    "skill_md",
]

HOSTS = ("openclaw", "claude", "agentskills")
DEFAULT_NAME = "runninghub"
SEED_SCRIPT = "scripts/runninghub_client.py"
HOMEPAGE = "https://www.runninghub.ai"
LICENSE = "MIT"
API_KEY_ENV = "RUNNINGHUB_API_KEY"
DESCRIPTION = (
    "Run ComfyUI workflows, AI apps and hosted models on RunningHub (runninghub.cn and "
    "runninghub.ai) with the runninghub command. Use when the user wants to run a RunningHub "
    "workflow or AI app by its id, generate or edit images, video or audio on RunningHub, "
    "upload an input file, check, wait for or cancel a RunningHub task, download its outputs, "
    "or read the account balance; also when the earlier runninghub-comfyui skill or its "
    "runninghub_client.py script is mentioned."
)
COMPATIBILITY = (
    "Needs the runninghub command on PATH (uv tool install runninghub, or pip install "
    "runninghub) and a RunningHub API key in RUNNINGHUB_API_KEY or saved with runninghub "
    "auth set; network access to www.runninghub.cn or www.runninghub.ai."
)
REFERENCES = ("exit-codes.md", "json-shapes.md", "models.md")
# AgentSkills: 1-64 lowercase letters, digits and single hyphens, no hyphen at either end.
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_REFERENCES_TOKEN = "{{references}}"


@dataclass(frozen=True)
class SkillSpec:
    """What to write: for which host, under which name, with or without the seed's script.

    ``gate_on_env`` adds ``RUNNINGHUB_API_KEY`` to OpenClaw's ``requires.env``; leave it off
    when a key is saved in runninghub's config, or OpenClaw would hide a skill that works.
    """

    host: str = "openclaw"
    name: str = DEFAULT_NAME
    seed_compatible: bool = False
    gate_on_env: bool = True

    def __post_init__(self) -> None:
        if self.host not in HOSTS:
            raise ValueError(f"unknown host {self.host!r}: use one of {', '.join(HOSTS)}")
        if len(self.name) > 64 or not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                f"invalid skill name {self.name!r}: use 1-64 lowercase letters, digits and "
                "single hyphens, not at either end"
            )


def _data(name: str) -> str:
    return resources.files("runninghub.skill").joinpath("data", name).read_text("utf-8")


def openclaw_metadata(gate_on_env: bool) -> dict[str, Any]:
    """The ``metadata.openclaw`` object: requirements, key variable, installer."""
    requires: dict[str, list[str]] = {"bins": ["runninghub"]}
    if gate_on_env:
        requires["env"] = [API_KEY_ENV]
    return {
        "openclaw": {
            "emoji": "🎨",
            "homepage": HOMEPAGE,
            "requires": requires,
            "primaryEnv": API_KEY_ENV,
            "install": [
                {
                    "id": "uv",
                    "kind": "uv",
                    "package": "runninghub",
                    "bins": ["runninghub", "rhub"],
                    "label": "Install runninghub (uv)",
                }
            ],
        }
    }


def _quoted(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, and OpenClaw's line parser strips
    # the quotes of a single-line value.
    return json.dumps(text, ensure_ascii=False)


def frontmatter(spec: SkillSpec) -> str:
    """The YAML frontmatter block (with its ``---`` fences) for ``spec.host``."""
    lines = [f"name: {spec.name}", f"description: {_quoted(DESCRIPTION)}"]
    if spec.host == "openclaw":
        metadata = json.dumps(openclaw_metadata(spec.gate_on_env), ensure_ascii=False)
        lines += [
            f"version: {_quoted(__version__)}",
            f"homepage: {_quoted(HOMEPAGE)}",
            f"license: {LICENSE}",
            f"metadata: {metadata}",
        ]
    else:
        lines += [
            f"license: {LICENSE}",
            f"compatibility: {_quoted(COMPATIBILITY)}",
            "metadata:",
            f"  version: {_quoted(__version__)}",
            f"  homepage: {_quoted(HOMEPAGE)}",
        ]
    return "---\n" + "\n".join(lines) + "\n---\n"


def skill_md(spec: SkillSpec, *, references_prefix: str = "references/") -> str:
    """The whole ``SKILL.md``: frontmatter, the shared instructions, the seed's commands."""
    body = _data("body.md").replace(_REFERENCES_TOKEN, references_prefix)
    if spec.seed_compatible:
        body += _data("seed.md")
    return frontmatter(spec) + "\n" + body


def repository_skill_md() -> str:
    """The repository's own ``SKILL.md`` (an OpenClaw skill whose references are in the package)."""
    return skill_md(SkillSpec(), references_prefix="src/runninghub/skill/data/references/")


def seed_script(python: str) -> str:
    """The seed's ``scripts/runninghub_client.py``: runs ``runninghub`` with its arguments."""
    return _data("runninghub_client.py").replace("__INSTALLED_PYTHON__", _escaped(python), 1)


def _escaped(path: str) -> str:
    # The placeholder sits inside a double-quoted literal; json quoting escapes \ and ".
    return json.dumps(path)[1:-1]


def skill_files(spec: SkillSpec, *, python: str) -> dict[str, str]:
    """Relative path -> text of every file of the skill folder."""
    files = {"SKILL.md": skill_md(spec)}
    for reference in REFERENCES:
        files[f"references/{reference}"] = _data(f"references/{reference}")
    if spec.seed_compatible:
        files[SEED_SCRIPT] = seed_script(python)
    return files
