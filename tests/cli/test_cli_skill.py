"""``runninghub skill install | uninstall | show``, with HOME pointed at a temporary folder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from runninghub.skill.render import repository_skill_md
from tests.cli.cli_harness import Invoker
from tests.cli.skill_checks import CHECKS, check_agentskills, check_openclaw, metadata_line

REPOSITORY = Path(__file__).resolve().parents[2]
OTHER_KEY = "fedcba9876543210fedcba9876543210"
DEFAULT_FOLDERS = {
    "openclaw": ".openclaw/skills/runninghub",
    "claude": ".claude/skills/runninghub",
    "agentskills": ".agents/skills/runninghub",
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def sk(rh: Invoker, home: Path) -> Invoker:
    """``runninghub`` with HOME in a temporary folder and no OpenClaw state dir override."""
    env = {**rh.env, "HOME": str(home), "OPENCLAW_STATE_DIR": None}
    return Invoker(env=env, secrets=rh.secrets)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _seed_folder(skills: Path, key: str, name: str = "runninghub-comfyui") -> Path:
    """The earlier skill's folder as it was left on disk: its key readable by everyone."""
    folder = skills / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: runninghub-comfyui\ndescription: old\n---\n")
    (folder / "scripts" / "runninghub_client.py").write_text("print('the seed')\n")
    (folder / "config.json").write_text(json.dumps({"api_key": key}))
    (folder / "config.json").chmod(0o644)
    return folder


@pytest.mark.parametrize("host", ["openclaw", "claude", "agentskills"])
def test_install_writes_a_valid_folder_where_each_host_looks(
    sk: Invoker, home: Path, host: str
) -> None:
    result = sk("skill", "install", "--for", host)

    assert result.exit_code == 0, result.output
    folder = home / DEFAULT_FOLDERS[host]
    assert result.stdout.strip() == str(folder)
    assert CHECKS[host](folder) == []
    if host != "openclaw":  # Claude Code follows the AgentSkills specification too
        assert check_agentskills(folder) == []
    references = sorted(p.name for p in (folder / "references").iterdir())
    assert references == ["exit-codes.md", "json-shapes.md", "models.md"]
    assert not (folder / "scripts").exists()


def test_openclaw_metadata_is_one_line_of_json_with_requirements_and_installer(
    sk: Invoker, home: Path
) -> None:
    sk("skill", "install")

    metadata = json.loads(metadata_line(home / DEFAULT_FOLDERS["openclaw"]))["openclaw"]
    assert metadata["requires"] == {"bins": ["runninghub"], "env": ["RUNNINGHUB_API_KEY"]}
    assert metadata["primaryEnv"] == "RUNNINGHUB_API_KEY"
    assert metadata["install"] == [
        {
            "id": "uv",
            "kind": "uv",
            "package": "runninghub",
            "bins": ["runninghub", "rhub"],
            "label": "Install runninghub (uv)",
        }
    ]


def test_a_saved_key_lifts_the_environment_gate(sk: Invoker, home: Path, api_key: str) -> None:
    sk("auth", "set", input=api_key)
    sk("skill", "install")

    metadata = json.loads(metadata_line(home / DEFAULT_FOLDERS["openclaw"]))["openclaw"]
    assert metadata["requires"] == {"bins": ["runninghub"]}  # OpenClaw would hide it otherwise
    assert metadata["primaryEnv"] == "RUNNINGHUB_API_KEY"


def test_openclaw_state_dir_moves_the_default(sk: Invoker, tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = sk("skill", "install", env={"OPENCLAW_STATE_DIR": str(state)})

    assert result.exit_code == 0, result.output
    assert check_openclaw(state / "skills" / "runninghub") == []


def test_dir_and_name_choose_the_folder_and_the_skill_name(sk: Invoker, tmp_path: Path) -> None:
    skills = tmp_path / "workspace" / "skills"
    result = sk("skill", "install", "--dir", str(skills), "--name", "rh-images", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["path"] == str(skills / "rh-images")
    assert document["replaced"] is None
    assert check_openclaw(skills / "rh-images") == []


def test_show_prints_what_install_writes_and_writes_nothing(sk: Invoker, home: Path) -> None:
    shown = sk("skill", "show", "--for", "claude")
    assert shown.exit_code == 0, shown.output
    assert not (home / ".claude").exists()

    sk("skill", "install", "--for", "claude")
    written = (home / DEFAULT_FOLDERS["claude"] / "SKILL.md").read_text(encoding="utf-8")
    assert shown.stdout == written
    assert "references/exit-codes.md" in shown.stderr


def test_show_json_lists_every_file_with_its_text(sk: Invoker, tmp_path: Path) -> None:
    skills = tmp_path / "skills"
    result = sk("skill", "show", "--dir", str(skills), "--seed-compatible", "--json")

    document = json.loads(result.stdout)
    assert sorted(document["files"]) == [
        "SKILL.md",
        "references/exit-codes.md",
        "references/json-shapes.md",
        "references/models.md",
        "scripts/runninghub_client.py",
    ]
    assert "python3 scripts/runninghub_client.py --save-key KEY" in document["files"]["SKILL.md"]
    assert not skills.exists()


def test_installing_again_replaces_its_own_folder(sk: Invoker, tmp_path: Path) -> None:
    first = sk("skill", "install", "--dir", str(tmp_path), "--seed-compatible")
    again = sk("skill", "install", "--dir", str(tmp_path), "--json")

    assert first.exit_code == 0 and again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert document["replaced"] == "ours"
    assert document["backup"] is None
    assert document["seed_compatible"] is True  # the seed's commands keep working from it
    assert (tmp_path / "runninghub" / "scripts" / "runninghub_client.py").is_file()


def test_a_folder_it_did_not_write_is_refused_without_force(
    sk: Invoker, tmp_path: Path, config_dir: Path
) -> None:
    mine = tmp_path / "runninghub"
    mine.mkdir()
    (mine / "SKILL.md").write_text("my own skill\n")

    shown = sk("skill", "show", "--dir", str(tmp_path))
    assert "was not written by runninghub: install needs --force" in shown.stderr
    refused = sk("skill", "install", "--dir", str(tmp_path))
    assert refused.exit_code == 2
    assert "was not written by runninghub; pass --force" in refused.stderr
    assert len(refused.stderr.splitlines()) <= 2
    assert (mine / "SKILL.md").read_text() == "my own skill\n"

    forced = sk("skill", "install", "--dir", str(tmp_path), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    backup = Path(json.loads(forced.stdout)["backup"])
    assert backup.parent == config_dir / "skill-backups"
    assert (backup / "SKILL.md").read_text() == "my own skill\n"
    assert check_openclaw(mine) == []


def test_an_edited_install_counts_as_not_its_own(sk: Invoker, tmp_path: Path) -> None:
    sk("skill", "install", "--dir", str(tmp_path))
    skill_md = tmp_path / "runninghub" / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "\nmy notes\n")

    reinstalled = sk("skill", "install", "--dir", str(tmp_path))
    removed = sk("skill", "uninstall", "--dir", str(tmp_path), "--name", "runninghub")

    assert reinstalled.exit_code == 2
    assert removed.exit_code == 2
    assert "my notes" in skill_md.read_text()


def test_uninstall_removes_only_its_own_folder(sk: Invoker, home: Path) -> None:
    sk("skill", "install", "--for", "claude")
    other = home / ".claude" / "skills" / "other"
    other.mkdir()

    removed = sk("skill", "uninstall", "--for", "claude", "--json")
    refused = sk("skill", "uninstall", "--for", "claude", "--name", "other")
    nothing = sk("skill", "uninstall", "--for", "claude")

    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout) == {"removed": str(home / DEFAULT_FOLDERS["claude"])}
    assert not (home / DEFAULT_FOLDERS["claude"]).exists()
    assert refused.exit_code == 2
    assert other.is_dir()
    assert nothing.exit_code == 0
    assert "no runninghub skill in" in nothing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "RunningHub"), "is not a skill name"),
        (("--name", "-rh"), "is not a skill name"),
        (("--name", "a" * 65), "is not a skill name"),
        (("--for", "cursor"), "'cursor' is not one of"),
    ],
)
def test_bad_options_are_usage_errors(sk: Invoker, args: tuple[str, ...], message: str) -> None:
    result = sk("skill", "install", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_file_as_the_skills_directory_is_bad_input(sk: Invoker, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = sk("skill", "install", "--dir", str(tmp_path / "file"))

    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_the_seed_folder_is_replaced_its_key_imported_and_nothing_left_readable(
    sk: Invoker, home: Path, config_dir: Path, tmp_path: Path, api_key: str
) -> None:
    skills = home / ".openclaw" / "skills"
    seed = _seed_folder(skills, api_key)

    result = sk("skill", "install", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["path"] == str(seed)  # dropped in where the seed lived
    assert document["replaced"] == "seed"
    assert document["seed_compatible"] is True
    assert document["key"]["outcome"] == "imported"
    assert document["key"]["key"] == "0123…cdef"
    assert check_openclaw(seed) == []
    assert "env" not in json.loads(metadata_line(seed))["openclaw"]["requires"]  # a key is saved
    assert (seed / "scripts" / "runninghub_client.py").read_text() != "print('the seed')\n"
    stored = json.loads((config_dir / "config.json").read_text())
    assert stored == {"api_key": api_key, "site": "cn"}
    assert _mode(config_dir / "config.json") == 0o600
    assert _mode(config_dir) == 0o700
    backup = Path(document["backup"])
    assert (backup / "scripts" / "runninghub_client.py").read_text() == "print('the seed')\n"
    assert _mode(backup / "config.json") == 0o600
    assert _mode(backup.parent) == 0o700
    for path in tmp_path.rglob("*"):
        if path.is_file() and api_key.encode() in path.read_bytes():
            assert _mode(path) & 0o077 == 0, f"{path} shows the key to others"
            assert seed not in path.parents


def test_a_key_saved_before_is_kept_and_the_seed_key_named(
    sk: Invoker, home: Path, config_dir: Path, api_key: str
) -> None:
    sk("auth", "set", input=OTHER_KEY)
    _seed_folder(home / ".openclaw" / "skills", api_key)

    result = sk("skill", "install", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads((config_dir / "config.json").read_text())["api_key"] == OTHER_KEY
    document = json.loads(result.stdout)
    assert document["key"]["outcome"] == "kept the saved key"
    assert f"runninghub auth import {document['key']['kept_in']}" in result.stderr


def test_a_seed_config_without_a_usable_key_is_still_secured(
    sk: Invoker, home: Path, config_dir: Path
) -> None:
    seed = _seed_folder(home / ".openclaw" / "skills", "not-a-key")

    result = sk("skill", "install", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["key"]["outcome"] == "no usable key"
    assert "holds no usable key" in result.stderr
    assert not (config_dir / "config.json").exists()
    assert not (seed / "config.json").exists()
    assert _mode(Path(json.loads(result.stdout)["backup"]) / "config.json") == 0o600


def test_the_repository_skill_md_is_generated_and_valid() -> None:
    text = (REPOSITORY / "SKILL.md").read_text(encoding="utf-8")

    assert text == repository_skill_md(), "regenerate: python -m runninghub.skill > SKILL.md"
    assert check_openclaw(REPOSITORY, name="runninghub") == []
