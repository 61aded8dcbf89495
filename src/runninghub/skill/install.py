"""Writing, replacing and removing a skill folder without losing anything that was there.

A folder this module writes carries a marker (``.runninghub-skill.json``) with the digest of
every file it wrote. An existing folder at the target is then one of:

- ``ours``: the marker is there and nothing was added or changed since: replaced in place;
- ``seed``: the earlier runninghub-comfyui skill (``scripts/runninghub_client.py``, no
  marker): moved into a private backup, its ``config.json`` key imported, and the new folder
  written seed-compatible so that the seed's commands keep working from it;
- ``foreign``: anything else (including one of ours that was edited): refused unless
  ``force``, and then backed up like a seed folder.

Backups go to ``<config dir>/skill-backups/`` (mode 0700, a seed's ``config.json`` 0600),
never beside the skill: a host would load a backup's ``SKILL.md`` as a second skill.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runninghub import __version__, _config
from runninghub._errors import ConfigError
from runninghub._redaction import mask_key

from .render import DEFAULT_NAME, SEED_SCRIPT, SkillSpec, skill_files

__all__ = [
    "MARKER",
    "SEED_FOLDER",
    "InstallResult",
    "KeyImport",
    "Plan",
    "SkillFolderError",
    "default_skills_dir",
    "install",
    "plan",
    "uninstall",
]

MARKER = ".runninghub-skill.json"
SEED_FOLDER = "runninghub-comfyui"
# Where the seed kept its key: beside SKILL.md, or beside its script.
SEED_CONFIGS = ("config.json", "scripts/config.json")


class SkillFolderError(Exception):
    """The folder cannot be written or removed as asked (the message says why)."""


def default_skills_dir(host: str) -> Path:
    """Where ``host`` loads personal skills from (OpenClaw honours ``OPENCLAW_STATE_DIR``)."""
    home = Path.home()
    if host == "openclaw":
        state = os.environ.get("OPENCLAW_STATE_DIR")
        return (Path(state).expanduser() if state else home / ".openclaw") / "skills"
    if host == "claude":
        return home / ".claude" / "skills"
    return home / ".agents" / "skills"


@dataclass(frozen=True)
class KeyImport:
    """What became of the key found in a seed's ``config.json``."""

    source: Path
    outcome: str  # "imported", "already saved", "kept the saved key", "no usable key"
    masked: str = ""
    key: str | None = field(default=None, repr=False)
    site: str | None = None


@dataclass(frozen=True)
class Plan:
    """What an install would do: the target, what is there now, and the files to write."""

    target: Path
    state: str  # "absent", "ours", "seed", "foreign"
    spec: SkillSpec
    files: dict[str, str]
    seed_key: KeyImport | None


@dataclass(frozen=True)
class InstallResult:
    """What was done: the plan carried out, where the old folder went, the seed's key."""

    plan: Plan
    backup: Path | None
    key: KeyImport | None


def plan(  # noqa: PLR0913 - what to write: every option after the host is a keyword
    host: str,
    skills_dir: Path,
    *,
    name: str | None = None,
    seed_compatible: bool = False,
    site: str | None = None,
    python: str,
) -> Plan:
    """Decide what to write without touching anything (``skill show`` prints this)."""
    chosen = name or _default_name(skills_dir)
    target = skills_dir / chosen
    state, marker = _inspect(target)
    seed_key = _seed_key(target, site) if state in ("seed", "foreign") else None
    seed_compatible = (
        seed_compatible or state == "seed" or bool(state == "ours" and marker.get("seed"))
    )
    key_saved = bool(_stored("api_key")) or bool(seed_key and seed_key.outcome == "imported")
    spec = SkillSpec(host, chosen, seed_compatible, gate_on_env=not key_saved)
    return Plan(target, state, spec, skill_files(spec, python=python), seed_key)


def install(found: Plan, *, force: bool = False) -> InstallResult:
    """Write the planned folder; back up and replace what was there (see the module doc)."""
    if found.state == "foreign" and not force:
        raise SkillFolderError(
            f"{found.target} exists and was not written by runninghub; pass --force to "
            "replace it (it is kept in a backup)"
        )
    found.target.parent.mkdir(parents=True, exist_ok=True)
    staged = _stage(found)
    key = _import_key(found.seed_key) if found.seed_key else None
    aside = None
    try:
        aside = _move_aside(found)
        os.replace(staged, found.target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        if aside is not None and not os.path.lexists(found.target):
            shutil.move(aside, found.target)  # put back what was there
        raise
    if found.state == "ours" and aside is not None:
        shutil.rmtree(aside.parent)  # our earlier install, held in a temporary sibling
        return InstallResult(found, None, key)
    return InstallResult(found, aside, key)


def _move_aside(found: Plan) -> Path | None:
    """Clear the target so that a failure can restore it: our own earlier install goes to a
    temporary sibling, anything else to the backup folder."""
    if found.state == "absent":
        return None
    if found.state != "ours":
        return _backup(found.target)
    holder = tempfile.mkdtemp(prefix=f".{found.target.name}.old-", dir=found.target.parent)
    aside = Path(holder) / found.target.name
    os.replace(found.target, aside)
    return aside


def uninstall(skills_dir: Path, name: str | None = None) -> Path | None:
    """Remove a folder this module wrote; ``None`` when there is none. Refuses any other.

    Without ``name``, the folder of that name or the seed's drop-in folder, whichever is ours.
    """
    for candidate in [name] if name else [DEFAULT_NAME, SEED_FOLDER]:
        target = skills_dir / candidate
        state, _ = _inspect(target)
        if state == "ours":
            shutil.rmtree(target)
            return target
        if name and state != "absent":
            raise SkillFolderError(
                f"{target} was not written by runninghub skill install, or was changed "
                "since; it is left as it is (remove it yourself if you mean to)"
            )
    return None


def _default_name(skills_dir: Path) -> str:
    # Drop in where the seed lived, so that agents taught its folder find it again.
    seed = skills_dir / SEED_FOLDER
    return SEED_FOLDER if _inspect(seed)[0] == "seed" else DEFAULT_NAME


def _inspect(target: Path) -> tuple[str, dict[str, Any]]:
    if not os.path.lexists(target):
        return "absent", {}
    if target.is_symlink() or not target.is_dir():
        return "foreign", {}
    marker = _read_marker(target)
    if marker is not None:
        return ("ours" if _unchanged(target, marker) else "foreign"), marker
    return ("seed" if (target / SEED_SCRIPT).is_file() else "foreign"), {}


def _read_marker(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and data.get("written_by") == "runninghub"
    return data if ok and isinstance(data.get("files"), dict) else None


def _unchanged(target: Path, marker: dict[str, Any]) -> bool:
    present = {path.relative_to(target).as_posix(): path for path in _files_under(target)}
    present.pop(MARKER, None)
    written: dict[str, Any] = marker["files"]
    if set(present) != set(written):
        return False
    return all(_digest(path.read_bytes()) == written[rel] for rel, path in present.items())


def _files_under(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            yield path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stage(found: Plan) -> Path:
    """The new folder, complete, in a hidden sibling of the target (renamed into place)."""
    staged = Path(tempfile.mkdtemp(prefix=f".{found.target.name}.", dir=found.target.parent))
    try:
        for rel, text in found.files.items():
            path = staged / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            path.chmod(0o755 if rel == SEED_SCRIPT else 0o644)
        (staged / MARKER).write_text(_marker(found), encoding="utf-8")
        staged.chmod(0o755)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _marker(found: Plan) -> str:
    data = {
        "written_by": "runninghub",
        "version": __version__,
        "host": found.spec.host,
        "seed": found.spec.seed_compatible,
        "files": {rel: _digest(text.encode("utf-8")) for rel, text in found.files.items()},
    }
    return json.dumps(data, indent=2) + "\n"


def _backup(target: Path) -> Path:
    """Move ``target`` into the private backup folder; keep any seed key file owner-only."""
    root = _config.config_dir() / "skill-backups"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    backup = root / f"{target.name}-{stamp}"
    for n in range(1, 1000):
        if not os.path.lexists(backup):
            break
        backup = root / f"{target.name}-{stamp}-{n}"
    shutil.move(target, backup)
    if not backup.is_symlink():
        backup.chmod(0o700)
    for rel in SEED_CONFIGS:
        with contextlib.suppress(FileNotFoundError):
            (backup / rel).chmod(0o600)
    return backup


def _stored(name: str) -> str | None:
    """A setting of runninghub's config file; a broken file counts as empty (it is replaced)."""
    try:
        value = _config.load_config().get(name)
    except ConfigError:
        return None
    return value if isinstance(value, str) and value else None


def _seed_key(target: Path, site: str | None) -> KeyImport | None:
    """The key of a ``config.json`` the seed left in ``target``, and what to do with it."""
    for rel in SEED_CONFIGS:
        source = target / rel
        if source.is_file():
            return _judge_key(source, *_read_seed_config(source), site)
    return None


def _read_seed_config(source: Path) -> tuple[str | None, str | None]:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    key = data.get("api_key") or data.get("apiKey")
    site = data.get("site")
    return (
        key.strip() if isinstance(key, str) else None,
        site if isinstance(site, str) and site in _config.SITES else None,
    )


def _judge_key(source: Path, key: str | None, file_site: str | None, site: str | None) -> KeyImport:
    if key is None or not _config.is_valid_key(key):
        return KeyImport(source, "no usable key")
    stored = _stored("api_key")
    outcome = "imported"
    if stored == key:
        outcome = "already saved"
    elif stored:
        outcome = "kept the saved key"  # never replace a key the user saved since
    return KeyImport(source, outcome, mask_key(key), key, site or file_site)


def _import_key(found: KeyImport) -> KeyImport:
    """Store an importable seed key as ``auth import`` does (mode 0600 in a 0700 directory)."""
    if found.outcome == "imported" and found.key is not None:
        site = found.site or _stored("site") or _config.DEFAULT_SITE
        _config.save_key(found.key, site)
    return found
