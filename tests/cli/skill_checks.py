"""A small checker of skill folders, one rule set per host, written from their documentation:

- AgentSkills (agentskills.io specification and its reference validator ``skills-ref``):
  frontmatter parsed by strictyaml (which refuses JSON-style flow mappings); only ``name``,
  ``description``, ``license``, ``compatibility``, ``metadata``, ``allowed-tools``; ``name``
  1-64 lowercase letters, digits and single hyphens, equal to the folder's name;
  ``description`` 1-1024 characters; ``compatibility`` at most 500; ``metadata`` a map of
  strings.
- OpenClaw (docs/tools/skills.md, src/agents/skills/frontmatter.ts): ``name`` and
  ``description``; ``metadata`` one line of JSON whose ``openclaw`` object carries
  ``requires.bins``, ``primaryEnv`` and ``install`` specs (kind ``uv`` needs ``package``).
- Claude Code (~/.claude/skills/<name>/SKILL.md): ``name`` lowercase letters, digits and
  hyphens up to 64 characters, ``description`` saying when to use it.

Every check returns the list of problems found, empty when the folder is valid.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import strictyaml
import yaml

NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SPEC_FIELDS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
LINK = re.compile(r"\]\(([^)#]+)\)")


def split(text: str) -> tuple[str, str]:
    """(frontmatter without its fences, body) of a SKILL.md."""
    assert text.startswith("---\n"), "SKILL.md must start with a --- line"
    end = text.index("\n---\n", 3)
    return text[4 : end + 1], text[end + 5 :]


def frontmatter(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load(split((folder / "SKILL.md").read_text(encoding="utf-8"))[0])
    assert isinstance(data, dict)
    return data


def metadata_line(folder: Path) -> str:
    """The text after ``metadata:`` on its one line (OpenClaw wants JSON there)."""
    head = split((folder / "SKILL.md").read_text(encoding="utf-8"))[0]
    [line] = [line for line in head.splitlines() if line.startswith("metadata:")]
    return line.removeprefix("metadata:").strip()


def _name_problems(name: object, folder: Path, expected: str | None = None) -> list[str]:
    if not isinstance(name, str) or len(name) > 64 or not NAME.fullmatch(name):
        return [f"bad name {name!r}"]
    wanted = expected or folder.name
    return [] if name == wanted else [f"name {name!r} differs from {wanted!r}"]


def _description_problems(description: object) -> list[str]:
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 1024:
        return ["description must be 1-1024 characters"]
    return [] if "Use when" in description else ["description does not say when to use it"]


def _link_problems(folder: Path) -> list[str]:
    body = split((folder / "SKILL.md").read_text(encoding="utf-8"))[1]
    return [f"broken link {link}" for link in LINK.findall(body) if not (folder / link).is_file()]


def check_agentskills(folder: Path) -> list[str]:
    head = split((folder / "SKILL.md").read_text(encoding="utf-8"))[0]
    try:
        data = strictyaml.load(head).data
    except strictyaml.YAMLError as exc:
        return [f"not strict YAML: {exc}"]
    problems = [f"field {key!r} is not in the specification" for key in set(data) - SPEC_FIELDS]
    problems += _name_problems(data.get("name"), folder)
    problems += _description_problems(data.get("description"))
    if len(data.get("compatibility", "")) > 500:
        problems.append("compatibility over 500 characters")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        problems.append("metadata must map strings to strings")
    return problems + _link_problems(folder)


def check_claude(folder: Path) -> list[str]:
    data = frontmatter(folder)
    problems = _name_problems(data.get("name"), folder)
    return problems + _description_problems(data.get("description")) + _link_problems(folder)


def check_openclaw(folder: Path, name: str | None = None) -> list[str]:
    """OpenClaw takes the name from the frontmatter; ``name`` when it is not the folder's."""
    data = frontmatter(folder)
    problems = _name_problems(data.get("name"), folder, name)
    problems += _description_problems(data.get("description"))
    try:
        metadata = json.loads(metadata_line(folder))
    except ValueError:
        return [*problems, "metadata is not one line of JSON"]
    if metadata != data.get("metadata"):
        problems.append("the YAML and the JSON reading of metadata differ")
    openclaw = metadata.get("openclaw", {})
    if "runninghub" not in openclaw.get("requires", {}).get("bins", []):
        problems.append("requires.bins must name runninghub")
    if openclaw.get("primaryEnv") != "RUNNINGHUB_API_KEY":
        problems.append("primaryEnv must be RUNNINGHUB_API_KEY")
    uv = [spec for spec in openclaw.get("install", []) if spec.get("kind") == "uv"]
    if not uv or uv[0].get("package") != "runninghub" or "runninghub" not in uv[0].get("bins"):
        problems.append("install needs a uv spec for the runninghub package and binary")
    if not all(isinstance(openclaw.get(key), str) for key in ("emoji", "homepage")):
        problems.append("emoji and homepage must be strings")
    return problems + _link_problems(folder)


CHECKS = {"openclaw": check_openclaw, "claude": check_claude, "agentskills": check_agentskills}
