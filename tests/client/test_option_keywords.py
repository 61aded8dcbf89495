"""The option keywords of submit and run, written once, read as ordinary keywords."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from runninghub import Client
from runninghub.emulator import EmulatorServer

from .conftest import APP_ID, INVERT_WORKFLOW, api_requests


@pytest.mark.parametrize(
    ("method", "target", "keyword"),
    [
        ("submit", INVERT_WORKFLOW, "timeout"),
        ("submit_app", APP_ID, "workflow_json"),
        ("run_app", APP_ID, "add_metadata"),
        ("run", INVERT_WORKFLOW, "presets_file"),
        ("run_model", "rhart-image-n-pro/text-to-image", "access_password"),
    ],
)
def test_a_keyword_a_method_does_not_take_is_refused_before_sending(
    client: Any, emulator: EmulatorServer, method: str, target: str, keyword: str
) -> None:
    with pytest.raises(TypeError, match=f"{method}\\(\\) got an unexpected keyword argument"):
        getattr(client, method)(target, **{keyword: None})
    assert api_requests(emulator, "/openapi/v2/") == 0


def test_help_lists_each_option_with_its_default() -> None:
    parameters = inspect.signature(Client.run).parameters
    keyword_only = {n: p.default for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert keyword_only == {
        "timeout": None,
        "out_dir": None,
        "overwrite": False,
        "on_progress": None,
        "cancel_on_timeout": False,
        "webhook_url": None,
        "instance": "default",
        "personal_queue": None,
        "retain_seconds": None,
        "validate": None,
        "access_password": None,
        "workflow_json": None,
        "add_metadata": True,
    }
    assert str(parameters["on_progress"].annotation) == "ProgressCallback | None"
