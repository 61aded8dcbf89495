"""The graph cache evicts old entries, on a real disk: past the TTL, and past its count bound."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runninghub import _graph_cache
from runninghub._config import Settings
from runninghub._graph_cache import GraphCache
from tests.conftest import API_KEY


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the process-wide memory copy, as another process would not have it."""
    monkeypatch.setattr(_graph_cache, "_MEMORY", {})


def _cache(config_dir: Path, base_url: str, **options: float) -> GraphCache:
    settings = Settings(API_KEY, base_url, "cn", config_dir, "argument")
    return GraphCache(settings, **options)  # type: ignore[arg-type]


def _files(config_dir: Path) -> list[Path]:
    directory = config_dir / "cache" / "graphs"
    return sorted(directory.iterdir()) if directory.exists() else []


def test_entries_past_the_ttl_are_removed_from_disk_on_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(tmp_path, "http://127.0.0.1:1", ttl=600)
    cache.put("graph", "1", {"old": True})
    [old] = _files(tmp_path)
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    leftover = old.parent / ".graph-crashed"
    leftover.write_text("{")
    os.utime(leftover, (an_hour_ago, an_hour_ago))

    cache.put("graph", "2", {"new": True})

    [kept] = _files(tmp_path)
    assert kept != old
    _new_process(monkeypatch)
    later = _cache(tmp_path, "http://127.0.0.1:1", ttl=600)
    assert later.get("graph", "2") == {"new": True}
    assert later.get("graph", "1") is None


def test_the_newest_entries_are_kept_up_to_the_count_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(tmp_path, "http://127.0.0.1:2", max_entries=3)
    for ident in range(5):
        cache.put("graph", str(ident), {"id": ident})
        path = max(_files(tmp_path), key=lambda p: p.stat().st_mtime_ns)
        stamp = time.time() - 100 + ident  # strictly ordered ages, whatever the clock's grain
        os.utime(path, (stamp, stamp))
    cache.put("graph", "5", {"id": 5})
    assert len(_graph_cache._MEMORY) <= 3  # the memory copy is bounded as well

    assert len(_files(tmp_path)) == 3
    _new_process(monkeypatch)
    reader = _cache(tmp_path, "http://127.0.0.1:2", max_entries=3)
    seen = {ident for ident in range(6) if reader.get("graph", str(ident)) is not None}
    assert seen == {3, 4, 5}
