"""The deadline on every request in flight: what each read, write and connect may wait."""

from __future__ import annotations

import time

import httpcore
import pytest

from runninghub._deadline import Deadline


def test_a_read_waits_no_longer_than_its_own_timeout_when_more_is_left() -> None:
    assert Deadline(budget=1000.0).bound(5.0) == 5.0


def test_a_read_without_a_timeout_gets_what_is_left() -> None:
    assert 0 < Deadline(budget=1000.0).bound(None) <= 1000.0


def test_the_wait_deadline_caps_the_budget() -> None:
    assert Deadline(budget=1000.0, until=time.monotonic() + 50).bound(None) <= 50


@pytest.mark.parametrize("expired", [httpcore.ReadTimeout, httpcore.ConnectTimeout])
def test_nothing_left_raises_the_timeout_of_that_step(expired: type[Exception]) -> None:
    passed = Deadline(budget=1000.0, until=time.monotonic() - 1)
    with pytest.raises(expired, match="cut off"):
        passed.bound(5.0, expired)


def test_no_budget_leaves_only_the_wait_deadline() -> None:
    assert Deadline(budget=None).bound(7.0) == 7.0
    with pytest.raises(httpcore.ReadTimeout):
        Deadline(budget=None, until=time.monotonic() - 1).bound(None)
