"""Settings: where the API key, the site and the base URL come from, and the config file.

Resolution order, applied when a client is constructed (never at import):

- API key: the ``api_key`` argument, else ``RUNNINGHUB_API_KEY``, else the config file, else a
  :class:`~runninghub.ConfigError` naming all three.
- Base URL: the ``base_url`` argument, else ``RUNNINGHUB_BASE_URL``, else the site's address
  (``RUNNINGHUB_BASE_URL_CN`` / ``RUNNINGHUB_BASE_URL_AI`` when set, for a proxy or an emulator
  playing that site, else its public host).
- Site (``cn`` = www.runninghub.cn, ``ai`` = www.runninghub.ai): the ``site`` argument, else the
  site this key was found to belong to (below), else ``RUNNINGHUB_SITE``, else the config
  file, else ``cn``.

The two sites do not share keys. When a key is refused as unknown (802, 806, 1002, -1, 401)
and neither the site nor the base URL was given explicitly, the client asks the other site
once; if that site accepts the key, the answer is remembered for the key (by a salted hash of
it, never the key) in ``sites.json`` in the config directory (mode 0600), so later clients
go straight there. A refused key created nothing, so asking again never submits twice.

The config file is ``$RUNNINGHUB_CONFIG_DIR/config.json``, else ``config.json`` in the platform
config directory (``~/.config/runninghub`` on Linux and macOS, ``%APPDATA%\\runninghub`` on
Windows). It is written with mode 0600 in a 0700 directory. No file is ever read from the
current directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigError, Wording
from ._paths import ENV_CONFIG_DIR, default_config_dir
from ._redaction import mask_key

__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_CONFIG_DIR",
    "ENV_SITE",
    "SITES",
    "Settings",
    "clear_key",
    "config_dir",
    "config_path",
    "forget_sites",
    "insecure_transport_warning",
    "is_valid_key",
    "load_config",
    "remember_site",
    "remembered_site",
    "resolve_settings",
    "save_key",
]

ENV_API_KEY = "RUNNINGHUB_API_KEY"
ENV_BASE_URL = "RUNNINGHUB_BASE_URL"
ENV_SITE = "RUNNINGHUB_SITE"
SITES_FILE = "sites.json"  # key hash -> the site that accepted the key
SITES: dict[str, str] = {"cn": "https://www.runninghub.cn", "ai": "https://www.runninghub.ai"}
DEFAULT_SITE = "cn"
CONFIG_FILE = "config.json"

_KEY_RE = re.compile(r"[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class Settings:
    """What a client needs to talk to one RunningHub site. The key never shows in ``repr``."""

    api_key: str = field(repr=False)
    base_url: str
    site: str
    config_dir: Path
    key_source: str  # "argument", "environment" or "config file"
    # Each site's address; empty when the base URL was pinned or the site given explicitly
    # (then the client never asks the other site).
    site_urls: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def other_site(self) -> str | None:
        """The site to ask when this one refuses the key, if the client may ask one."""
        others = [name for name in self.site_urls if name != self.site]
        return others[0] if others else None

    def __repr__(self) -> str:
        return (
            f"Settings(api_key={mask_key(self.api_key)!r}, base_url={self.base_url!r}, "
            f"site={self.site!r}, key_source={self.key_source!r})"
        )

    @property
    def cache_dir(self) -> Path:
        return self.config_dir / "cache"


def config_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The config directory: the argument, else ``RUNNINGHUB_CONFIG_DIR``, else the platform's."""
    return _config_dir_from(directory, os.environ)


def config_path(directory: str | os.PathLike[str] | None = None) -> Path:
    return config_dir(directory) / CONFIG_FILE


def load_config(directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the config file; an absent file is an empty config, a broken one a ConfigError."""
    path = config_path(directory)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(f"the config file {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the config file {path} must hold a JSON object")
    return data


def save_key(
    key: str, site: str = DEFAULT_SITE, config_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Store ``key`` and ``site`` in the config file (mode 0600, dir 0700); return its path."""
    key = _check_key(key)
    site = _check_site(site)
    path = config_path(config_dir)
    existing = _load_quietly(path.parent)
    existing.update({"api_key": key, "site": site})
    _write_private(path, json.dumps(existing, indent=2) + "\n")
    return path


def clear_key(config_dir: str | os.PathLike[str] | None = None) -> bool:
    """Remove the stored key and site, and the sites remembered per key (other settings
    stay). Returns whether a key was stored."""
    path = config_path(config_dir)
    data = _load_quietly(path.parent)
    forget_sites(path.parent)
    if "api_key" not in data and "site" not in data:
        return False
    stored = "api_key" in data
    data.pop("api_key", None)
    data.pop("site", None)
    _write_private(path, json.dumps(data, indent=2) + "\n")
    return stored


def _site_key(api_key: str) -> str:
    # Salted, so the file holds no plain SHA-256 of the key anyone could look up.
    return hashlib.sha256(b"runninghub-site:" + api_key.strip().encode()).hexdigest()[:16]


def _remembered(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / SITES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # nothing remembered yet, or a broken file: asked again, then rewritten
    return data if isinstance(data, dict) else {}


def remembered_site(directory: Path, api_key: str) -> str | None:
    """The site this key was found to belong to, if a client found out before."""
    site = _remembered(directory).get(_site_key(api_key))
    return site if isinstance(site, str) and site in SITES else None


def remember_site(directory: Path, api_key: str, site: str) -> None:
    """Note that ``site`` accepted this key (atomically, mode 0600)."""
    data = _remembered(directory)
    data[_site_key(api_key)] = _check_site(site)
    _write_private(directory / SITES_FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def forget_sites(directory: Path) -> bool:
    """Forget every remembered site; returns whether there was anything to forget."""
    try:
        (directory / SITES_FILE).unlink()
    except FileNotFoundError:
        return False
    return True


def _load_quietly(directory: Path) -> dict[str, Any]:
    try:
        return load_config(directory)
    except ConfigError:
        return {}  # a broken file is replaced rather than merged


def _write_private(path: Path, text: str) -> None:
    """Write atomically with owner-only permissions, so a crash never leaves half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.parent.chmod(0o700)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_valid_key(key: str) -> bool:
    return bool(_KEY_RE.fullmatch(key))


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise ConfigError("the API key must be a string")
    key = key.strip()
    if not is_valid_key(key):
        # Never echo the value: it may be a real key with a typo.
        raise ConfigError(
            f"the API key must be 32 hexadecimal characters (got {len(key)} characters)",
            hint="copy the key again from the RunningHub API console",
        )
    return key


def _check_site(site: object) -> str:
    text = str(site).strip().lower()
    if text not in SITES:
        raise ConfigError(
            f"unknown site {site!r}: use 'cn' (www.runninghub.cn) or 'ai' (www.runninghub.ai)"
        )
    return text


def _check_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the base URL must be an http(s) URL with a host, not {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError("the base URL must not carry a query string or a fragment")
    return url.strip().rstrip("/")


def insecure_transport_warning(base_url: str) -> str | None:
    """A warning when the key would travel unencrypted to another machine, else None.

    Plain HTTP to this machine (``localhost``, ``127.0.0.0/8``, ``::1``: the emulator) is fine.
    """
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or _is_loopback(host):
        return None
    return (
        f"the API key is sent over plain HTTP to {host}, readable by anyone on the way;"
        " use an https:// base URL"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_settings(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    site: str | None = None,
    config_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve key, site and base URL in the documented order; raise ConfigError when impossible."""
    environ = os.environ if env is None else env
    directory = _config_dir_from(config_dir, environ)
    file_data: dict[str, Any] | None = None
    key, source = api_key, "argument"
    if key is None and environ.get(ENV_API_KEY):
        key, source = environ[ENV_API_KEY], "environment"
    if key is None or site is None:
        file_data = load_config(directory)
    if key is None:
        key, source = file_data.get("api_key") if file_data else None, "config file"
    if key is None:
        stored = f"or store one in {directory / CONFIG_FILE} (`runninghub auth set`)"
        raise ConfigError(
            Wording(
                f"no API key: pass api_key=..., set {ENV_API_KEY}, {stored}",
                f"no API key: pass --api-key-file FILE, set {ENV_API_KEY}, {stored}",
            )
        )
    key = _check_key(key)
    pinned = base_url or environ.get(ENV_BASE_URL)
    free = site is None and not pinned  # the client may look for the key's site
    chosen_site = _check_site(
        site
        if site is not None
        else (remembered_site(directory, key) if free else None)
        or environ.get(ENV_SITE)
        or (file_data or {}).get("site", DEFAULT_SITE)
    )
    urls = {name: _site_url(name, environ) for name in SITES}
    url = _check_base_url(pinned) if pinned else urls[chosen_site]
    return Settings(key, url, chosen_site, directory, source, urls if free else {})


def _site_url(site: str, environ: Mapping[str, str]) -> str:
    """A site's address: ``RUNNINGHUB_BASE_URL_<SITE>`` when set, else its public host."""
    return _check_base_url(environ.get(f"{ENV_BASE_URL}_{site.upper()}") or SITES[site])


def _config_dir_from(directory: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    if directory is not None:
        return Path(directory)
    return Path(default_config_dir(environ))
