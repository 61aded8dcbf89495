"""The one internal seam of the CLI and the MCP server: what they need beyond the public API.

``cli/`` and ``mcp/`` import the clients, models, policies and errors from ``runninghub``
itself; for settings, the stored key, redaction, the optional extras, the config-dir
lookup, and the two exception makers an app needs (a local refusal, a failed task), and only
for those, they import this module (a test keeps it so). Everything here is
re-exported from the modules that own it, and loaded on first use, so that the command
line's fast paths (``--help``, completion) import only the module they need.
"""

from __future__ import annotations

from ._lazy import lazy_attributes

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ._answers import parse_app_inputs
    from ._catalogue import load_catalogue
    from ._checks import check_history_id
    from ._config import (
        DEFAULT_SITE,
        ENV_API_KEY,
        SITES,
        Settings,
        clear_key,
        config_path,
        load_config,
        resolve_settings,
        save_key,
    )
    from ._extras import missing_extra, require_extra
    from ._fields import error as refusal
    from ._model_checks import missing_params, plan_model_params
    from ._model_presets import build_model_preset, model_body
    from ._numbers import json_number
    from ._out_dir import out_dir_problem
    from ._paths import default_config_dir
    from ._preset_file import dump_toml, presets_path, read_toml
    from ._presets import (
        build_preset,
        load_presets,
        preset_from_table,
        save_presets,
        update_presets,
    )
    from ._queue_wait import queue_full_reason
    from ._redaction import mask_key, redact, redact_secrets
    from ._waiting import raise_if_failed
    from ._web_ids import looks_like_address, web_address_target

# name -> module that defines it
_OWNERS = {
    "DEFAULT_SITE": "._config",
    "ENV_API_KEY": "._config",
    "SITES": "._config",
    "Settings": "._config",
    "clear_key": "._config",
    "config_path": "._config",
    "load_config": "._config",
    "resolve_settings": "._config",
    "save_key": "._config",
    "mask_key": "._redaction",
    "redact": "._redaction",
    "redact_secrets": "._redaction",
    "require_extra": "._extras",
    "missing_extra": "._extras",
    "default_config_dir": "._paths",
    "out_dir_problem": "._out_dir",
    "parse_app_inputs": "._answers",
    "load_catalogue": "._catalogue",
    "raise_if_failed": "._waiting",
    "json_number": "._numbers",
    "refusal": "._fields",
    "dump_toml": "._preset_file",
    "presets_path": "._preset_file",
    "read_toml": "._preset_file",
    "build_preset": "._presets",
    "load_presets": "._presets",
    "preset_from_table": "._presets",
    "save_presets": "._presets",
    "missing_params": "._model_checks",
    "plan_model_params": "._model_checks",
    "update_presets": "._presets",
    "build_model_preset": "._model_presets",
    "model_body": "._model_presets",
    "check_history_id": "._checks",
    "queue_full_reason": "._queue_wait",
    "looks_like_address": "._web_ids",
    "web_address_target": "._web_ids",
}
# names that differ from the owner's
_RENAMED = {"refusal": "error"}

__all__ = [
    "DEFAULT_SITE",
    "ENV_API_KEY",
    "SITES",
    "Settings",
    "build_model_preset",
    "build_preset",
    "check_history_id",
    "clear_key",
    "config_path",
    "default_config_dir",
    "dump_toml",
    "json_number",
    "load_catalogue",
    "load_config",
    "load_presets",
    "looks_like_address",
    "mask_key",
    "missing_extra",
    "missing_params",
    "model_body",
    "out_dir_problem",
    "parse_app_inputs",
    "plan_model_params",
    "preset_from_table",
    "presets_path",
    "queue_full_reason",
    "raise_if_failed",
    "read_toml",
    "redact",
    "redact_secrets",
    "refusal",
    "require_extra",
    "resolve_settings",
    "save_key",
    "save_presets",
    "update_presets",
    "web_address_target",
]


__getattr__ = lazy_attributes(__name__, __package__, _OWNERS, globals(), _RENAMED)
