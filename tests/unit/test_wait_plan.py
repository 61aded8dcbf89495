"""The wait planner and the progress messages (pure: an injected clock, no sockets)."""

from __future__ import annotations

import json
import random

import pytest

from runninghub import (
    APIConnectionError,
    NotFoundError,
    ServerError,
    Task,
    TaskFailedError,
    TaskFailure,
    TaskStatus,
)
from runninghub._policy import PollPolicy
from runninghub._socket_listener import EventKind, SocketEvent, parse_message
from runninghub._waiting import (
    FETCH_OUTPUTS,
    POLL,
    Finished,
    Listen,
    Sleep,
    TimedOut,
    WaitPlan,
)

WSS = "wss://www.runninghub.cn:443/ws/c_instance?taskId=1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def task(status: TaskStatus, **kw: object) -> Task:
    return Task("1", status, **kw)  # type: ignore[arg-type]


def plan(
    clock: Clock, *, known: Task | None = None, timeout: float | None = 60.0, **policy: object
) -> WaitPlan:
    settings = {"jitter": 0.0, **policy}
    return WaitPlan(
        "1",
        PollPolicy(**settings),  # type: ignore[arg-type]
        timeout=timeout,
        known=known,
        clock=clock,
        rng=random.Random(0),
    )


def run_until_poll(p: WaitPlan, clock: Clock) -> list[float]:
    """Advance the clock through sleeps until a poll is due; returns the sleeps."""
    sleeps = []
    while True:
        action = p.next_action()
        if action is POLL:
            return sleeps
        assert isinstance(action, Sleep), action
        sleeps.append(action.seconds)
        clock.now += action.seconds


def test_unknown_task_is_polled_at_once_then_with_backoff() -> None:
    clock = Clock()
    p = plan(clock, websocket=False)
    assert p.next_action() is POLL
    schedule = []
    for _ in range(5):
        p.on_task(task(TaskStatus.QUEUED))
        schedule.append(sum(run_until_poll(p, clock)))
    assert schedule == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0625])


def test_submitted_task_waits_one_interval_before_the_first_poll() -> None:
    clock = Clock()
    p = plan(clock, known=task(TaskStatus.QUEUED), websocket=False)
    assert run_until_poll(p, clock) == [1.0]


def test_success_finishes_and_failure_raises() -> None:
    clock = Clock()
    p = plan(clock)
    p.on_task(task(TaskStatus.SUCCESS))
    action = p.next_action()
    assert isinstance(action, Finished)
    assert p.result(action.task).status is TaskStatus.SUCCESS
    failure = TaskFailure(node_id="5", node_name="BrokenNode", exception_message="boom")
    q = plan(clock)
    q.on_task(task(TaskStatus.FAILED, failure=failure))
    final = q.next_action()
    assert isinstance(final, Finished)
    with pytest.raises(TaskFailedError) as caught:
        q.result(final.task)
    assert "BrokenNode" in str(caught.value)
    assert caught.value.failure == failure


def test_cancelled_task_raises_task_failed() -> None:
    p = plan(Clock())
    p.on_task(task(TaskStatus.CANCEL))
    final = p.next_action()
    assert isinstance(final, Finished)
    with pytest.raises(TaskFailedError, match="cancelled"):
        p.result(final.task)


def test_unknown_status_keeps_polling() -> None:
    clock = Clock()
    p = plan(clock, websocket=False)
    p.on_task(task(TaskStatus.UNKNOWN))
    assert run_until_poll(p, clock) == [1.0]


def test_deadline() -> None:
    clock = Clock()
    p = plan(clock, timeout=2.0, websocket=False)
    p.on_task(task(TaskStatus.RUNNING))
    clock.now += 1.0
    assert p.next_action() is POLL
    p.on_task(task(TaskStatus.RUNNING))
    action = p.next_action()
    assert isinstance(action, Sleep) and action.seconds == pytest.approx(1.0)  # cut to deadline
    clock.now += action.seconds
    assert p.next_action() is POLL  # one last look at the deadline
    p.on_task(task(TaskStatus.RUNNING))
    timed_out = p.next_action()
    assert isinstance(timed_out, TimedOut)
    assert (timed_out.timeout, timed_out.last_status) == (2.0, "RUNNING")


def test_a_task_that_ended_just_before_the_deadline_is_not_a_timeout() -> None:
    clock = Clock()
    p = plan(clock, timeout=2.0, websocket=False)
    p.on_task(task(TaskStatus.RUNNING))
    clock.now += 2.0
    assert p.next_action() is POLL
    p.on_task(task(TaskStatus.SUCCESS))
    assert isinstance(p.next_action(), Finished)


def test_no_deadline() -> None:
    clock = Clock()
    p = plan(clock, timeout=None, websocket=False)
    p.on_task(task(TaskStatus.RUNNING))
    clock.now += 10**6
    assert p.next_action() is POLL


def test_transient_poll_failures_are_survived_up_to_the_limit() -> None:
    clock = Clock()
    p = plan(clock, max_consecutive_failures=3, websocket=False)
    p.on_poll_error(APIConnectionError("reset"))
    assert run_until_poll(p, clock) == [1.0]
    p.on_poll_error(ServerError("502", http_status=502))
    assert run_until_poll(p, clock) == [1.5]
    p.on_task(task(TaskStatus.RUNNING))  # a success resets the count
    run_until_poll(p, clock)
    p.on_poll_error(APIConnectionError("reset"))
    p.on_poll_error(APIConnectionError("reset"))
    with pytest.raises(APIConnectionError):
        p.on_poll_error(APIConnectionError("reset"))


def test_non_transient_poll_failure_is_raised_at_once() -> None:
    with pytest.raises(NotFoundError):
        plan(Clock()).on_poll_error(NotFoundError("gone", code="1004"))


def test_running_task_fetches_outputs_once_for_the_socket_address() -> None:
    clock = Clock()
    p = plan(clock, known=task(TaskStatus.QUEUED))
    assert isinstance(p.next_action(), Sleep)  # queued: no socket address to ask for yet
    run_until_poll(p, clock)
    p.on_task(task(TaskStatus.RUNNING))
    assert p.next_action() is FETCH_OUTPUTS
    p.on_outputs(task(TaskStatus.RUNNING, net_wss_url=WSS))
    assert p.next_action() == Listen(WSS)
    assert isinstance(p.next_action(), Sleep)  # listening: no second listener, no second fetch


def test_outputs_failure_costs_only_the_socket() -> None:
    clock = Clock()
    p = plan(clock, known=task(TaskStatus.RUNNING))
    assert p.next_action() is FETCH_OUTPUTS
    p.on_outputs(None)
    assert isinstance(p.next_action(), Sleep)


def test_socket_address_from_the_submit_answer_is_used_directly() -> None:
    p = plan(Clock(), known=task(TaskStatus.RUNNING, net_wss_url=WSS))
    assert p.next_action() == Listen(WSS)


@pytest.mark.parametrize("url", ["http://x/ws", "javascript:alert(1)", ""])
def test_non_websocket_addresses_are_ignored(url: str) -> None:
    p = plan(Clock(), known=task(TaskStatus.RUNNING))
    assert p.next_action() is FETCH_OUTPUTS
    p.on_outputs(task(TaskStatus.RUNNING, net_wss_url=url or None))
    assert isinstance(p.next_action(), Sleep)


def test_websocket_disabled_never_fetches_or_listens() -> None:
    p = plan(Clock(), known=task(TaskStatus.RUNNING, net_wss_url=WSS), websocket=False)
    assert isinstance(p.next_action(), Sleep)


def test_end_signal_polls_at_once_then_quickly_then_normally() -> None:
    clock = Clock()
    p = plan(clock, known=task(TaskStatus.RUNNING, net_wss_url=WSS), after_signal=0.05)
    assert isinstance(p.next_action(), Listen)
    clock.now += 0.3
    p.on_event(SocketEvent(EventKind.ENDED))
    assert p.next_action() is POLL
    gaps = []
    for _ in range(5):
        p.on_task(task(TaskStatus.RUNNING))  # the status lags behind the socket
        gaps.append(sum(run_until_poll(p, clock)))
    assert gaps[:3] == pytest.approx([0.05, 0.075, 0.1125])
    assert gaps[3] >= 1.0  # back to the normal schedule


def test_progress_reports_status_changes_and_node_progress() -> None:
    clock = Clock()
    p = plan(clock, known=task(TaskStatus.QUEUED))
    clock.now += 1.0
    p.on_task(task(TaskStatus.QUEUED))  # no change: no report
    p.on_task(task(TaskStatus.RUNNING))
    p.on_event(SocketEvent(EventKind.NODE_STEP, "3", 5, 20))
    p.on_event(SocketEvent(EventKind.STARTED))  # not reported
    reports = p.drain()
    assert [(r.status, r.node_id, r.value, r.max) for r in reports] == [
        (TaskStatus.QUEUED, None, None, None),
        (TaskStatus.RUNNING, None, None, None),
        (TaskStatus.RUNNING, "3", 5, 20),
    ]
    assert reports[1].elapsed == pytest.approx(1.0)
    assert p.drain() == []


# ------------------------------------------------------------------ ComfyUI messages


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"type": "progress", "data": {"value": 3, "max": 20, "node": "3"}},
            SocketEvent(EventKind.NODE_STEP, "3", 3, 20),
        ),
        (
            {"type": "executing", "data": {"node": "9", "prompt_id": "p"}},
            SocketEvent(EventKind.NODE, "9"),
        ),
        ({"type": "executing", "data": {"node": None}}, SocketEvent(EventKind.ENDED)),
        (
            {"type": "executed", "data": {"node": "9", "output": {}}},
            SocketEvent(EventKind.NODE_DONE, "9"),
        ),
        ({"type": "execution_start", "data": {"prompt_id": "p"}}, SocketEvent(EventKind.STARTED)),
        ({"type": "execution_success", "data": {}}, SocketEvent(EventKind.ENDED)),
        (
            {"type": "execution_error", "data": {"node_id": "5", "exception_message": "boom"}},
            SocketEvent(EventKind.FAILED, "5", message="boom"),
        ),
        (
            {"type": "execution_interrupted", "data": {"node_id": ""}},
            SocketEvent(EventKind.FAILED, "", message="execution interrupted"),
        ),
        ({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}}, None),
        ({"type": "execution_cached", "data": {"nodes": []}}, None),
    ],
)
def test_parse_message(message: dict[str, object], expected: SocketEvent | None) -> None:
    assert parse_message(json.dumps(message)) == expected


@pytest.mark.parametrize("raw", [b"\x00\x01binary preview", "not json", "[1, 2]", '{"type": 5}'])
def test_parse_message_ignores_what_it_cannot_use(raw: str | bytes) -> None:
    assert parse_message(raw) is None


def test_end_events() -> None:
    assert SocketEvent(EventKind.ENDED).ends_run
    assert SocketEvent(EventKind.FAILED).ends_run
    assert not SocketEvent(EventKind.NODE_STEP).ends_run
