"""The one internal seam of the CLI and the MCP server: what they need beyond the public API.

``cli/`` and ``mcp/`` import the clients, models, policies and errors from ``runninghub``
itself; for settings, the stored key and redaction, and only for those, they import this
module (a test keeps it so). Everything here is re-exported from the modules that own it.
"""

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
from ._redaction import mask_key, redact, redact_secrets

__all__ = [
    "DEFAULT_SITE",
    "ENV_API_KEY",
    "SITES",
    "Settings",
    "clear_key",
    "config_path",
    "load_config",
    "mask_key",
    "redact",
    "redact_secrets",
    "resolve_settings",
    "save_key",
]
