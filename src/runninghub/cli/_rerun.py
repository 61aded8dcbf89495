"""The command line that would submit a recorded intent again (``history show``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runninghub.journal import TaskRecord

__all__ = ["rerun_command"]

_COMMANDS = {"workflow": ["run"], "app": ["app", "run"], "model": ["model", "run"]}
# The two sites' own hosts: a recorded base URL that is one of them needs no --base-url.
_SITE_HOSTS = ("https://www.runninghub.cn", "https://www.runninghub.ai")


def rerun_command(record: TaskRecord) -> list[str]:
    """``runninghub [--site S] [--base-url U] run ID --set A=V ... --file A=PATH ...``"""
    argv = ["runninghub"]
    if record.site and record.site != "cn":
        argv += ["--site", record.site]
    if record.base_url and record.base_url.rstrip("/") not in _SITE_HOSTS:
        argv += ["--base-url", record.base_url]
    argv += [*_COMMANDS[record.entry.kind], record.entry.target]
    files = {item.address for item in record.inputs}
    for address, value in record.params.items():
        if address not in files:
            argv += ["--set", f"{address}={_text(value)}"]
    for item in record.inputs:
        argv += ["--file", f"{item.address}={item.path}"]
    return argv


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)
