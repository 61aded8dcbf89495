"""Retry decisions per operation, backoff bounds and Retry-After (pure: no sleeping)."""

from __future__ import annotations

import random

import httpx
import pytest

from runninghub import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    CapacityError,
    InvalidRequestError,
    ServerError,
    SubmitOutcomeUnknownError,
)
from runninghub._errors import error_for_code
from runninghub._policy import (
    Failure,
    FailureKind,
    PollPolicy,
    RetryPolicy,
    RetryState,
    classify_api_error,
    classify_transport_error,
    parse_retry_after,
)
from runninghub._protocol import RetryClass

REQUEST = httpx.Request("POST", "http://127.0.0.1/openapi/v2/run/workflow/1")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def transport(exc_type: type[httpx.TransportError]) -> Failure:
    return classify_transport_error(exc_type("boom", request=REQUEST), "submit of workflow 1")


def state(
    retry_class: RetryClass, policy: RetryPolicy | None = None, clock: Clock | None = None
) -> RetryState:
    return RetryState(
        policy or RetryPolicy(),
        retry_class,
        what="submit of workflow 1",
        input_hash="abc",
        clock=clock or Clock(),
        rng=random.Random(7),
    )


@pytest.mark.parametrize(
    ("exc_type", "kind"),
    [
        (httpx.ConnectError, FailureKind.NOT_SENT),
        (httpx.ConnectTimeout, FailureKind.NOT_SENT),
        (httpx.PoolTimeout, FailureKind.NOT_SENT),
        (httpx.ReadTimeout, FailureKind.AMBIGUOUS),
        (httpx.WriteTimeout, FailureKind.AMBIGUOUS),
        (httpx.ReadError, FailureKind.AMBIGUOUS),
        (httpx.RemoteProtocolError, FailureKind.AMBIGUOUS),
    ],
)
def test_transport_failures(exc_type: type[httpx.TransportError], kind: FailureKind) -> None:
    failure = transport(exc_type)
    assert failure.kind is kind
    assert isinstance(failure.error, APIConnectionError)
    assert isinstance(failure.error, APITimeoutError) == issubclass(
        exc_type, httpx.TimeoutException
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ServerError("x", http_status=502), FailureKind.REJECTED),
        (ServerError("x", http_status=503), FailureKind.REJECTED),
        (CapacityError("x", http_status=429), FailureKind.REJECTED),
        (ServerError("x", http_status=500), FailureKind.AMBIGUOUS),
        (ServerError("x", http_status=504), FailureKind.AMBIGUOUS),
        (APIResponseError("x", http_status=200), FailureKind.MALFORMED),
        (error_for_code("421", "full"), FailureKind.CAPACITY),
        (error_for_code("415", "full"), FailureKind.CAPACITY),
        (error_for_code("1003", "rate"), FailureKind.CAPACITY),
        (error_for_code("1011", "busy"), FailureKind.CAPACITY),
        (error_for_code("1520", "limit"), FailureKind.CAPACITY),
        (error_for_code("-1", "glitch", http_status=401), FailureKind.AUTH_GLITCH),
        (error_for_code("1005", "internal"), FailureKind.SERVER),
        (error_for_code("803", "bad node"), FailureKind.FATAL),
        (error_for_code("802", "bad key"), FailureKind.FATAL),
        (error_for_code("1004", "gone"), FailureKind.FATAL),
    ],
)
def test_api_failures(error: Exception, kind: FailureKind) -> None:
    assert classify_api_error(error).kind is kind  # type: ignore[arg-type]


# ------------------------------------------------------------------ the decision table

SUBMIT_RETRIES = [FailureKind.NOT_SENT, FailureKind.REJECTED, FailureKind.CAPACITY]


def failure_of(kind: FailureKind) -> Failure:
    error = {
        FailureKind.NOT_SENT: APIConnectionError("no connection"),
        FailureKind.REJECTED: ServerError("bad gateway", http_status=502),
        FailureKind.CAPACITY: error_for_code("421", "full"),
        FailureKind.AUTH_GLITCH: error_for_code("-1", "glitch", http_status=401),
        FailureKind.AMBIGUOUS: APITimeoutError("read timeout"),
        FailureKind.MALFORMED: APIResponseError("garbage", http_status=200),
        FailureKind.SERVER: error_for_code("1005", "internal"),
        FailureKind.FATAL: error_for_code("803", "bad node"),
    }[kind]
    return Failure(kind, error, detail=str(error))


@pytest.mark.parametrize("kind", list(FailureKind))
def test_reads_retry_everything_but_fatal(kind: FailureKind) -> None:
    decision = state(RetryClass.SAFE)
    if kind is FailureKind.FATAL:
        with pytest.raises(InvalidRequestError):
            decision.next_delay(failure_of(kind))
    else:
        assert decision.next_delay(failure_of(kind)) >= 0


@pytest.mark.parametrize("kind", [*SUBMIT_RETRIES, FailureKind.AUTH_GLITCH])
def test_submits_retry_only_when_nothing_was_created(kind: FailureKind) -> None:
    assert state(RetryClass.CREATES).next_delay(failure_of(kind)) >= 0


@pytest.mark.parametrize("kind", [FailureKind.AMBIGUOUS, FailureKind.MALFORMED])
def test_submit_with_unknown_outcome_is_never_retried(kind: FailureKind) -> None:
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        state(RetryClass.CREATES).next_delay(failure_of(kind))
    assert caught.value.fingerprint == "abc"
    assert "submit of workflow 1" in str(caught.value)
    assert "not resubmitted" in str(caught.value)


def test_submit_server_error_code_is_raised_as_is() -> None:
    with pytest.raises(ServerError):
        state(RetryClass.CREATES).next_delay(failure_of(FailureKind.SERVER))


@pytest.mark.parametrize(
    "kind", [FailureKind.CAPACITY, FailureKind.AMBIGUOUS, FailureKind.AUTH_GLITCH]
)
def test_unsafe_actions_retry_only_unsent_requests(kind: FailureKind) -> None:
    with pytest.raises(type(failure_of(kind).error)):
        state(RetryClass.UNSAFE).next_delay(failure_of(kind))
    assert state(RetryClass.UNSAFE).next_delay(failure_of(FailureKind.NOT_SENT)) >= 0


def test_transient_retries_stop_after_max_attempts() -> None:
    decision = state(RetryClass.SAFE, RetryPolicy(max_attempts=3))
    decision.next_delay(failure_of(FailureKind.NOT_SENT))
    decision.next_delay(failure_of(FailureKind.NOT_SENT))
    assert decision.attempts == 3
    with pytest.raises(APIConnectionError):
        decision.next_delay(failure_of(FailureKind.NOT_SENT))


def test_auth_glitch_is_retried_once() -> None:
    decision = state(RetryClass.SAFE)
    decision.next_delay(failure_of(FailureKind.AUTH_GLITCH))
    with pytest.raises(AuthenticationError):
        decision.next_delay(failure_of(FailureKind.AUTH_GLITCH))


def test_capacity_waits_up_to_its_own_budget() -> None:
    clock = Clock()
    policy = RetryPolicy(capacity_timeout=10.0, capacity_initial_delay=2.0, jitter=0.0)
    decision = state(RetryClass.CREATES, policy, clock)
    delays = []
    while True:
        try:
            delay = decision.next_delay(failure_of(FailureKind.CAPACITY))
        except CapacityError:
            break
        delays.append(delay)
        clock.now += delay
    assert delays == [2.0, 4.0, 4.0]  # the last wait is cut to the budget left
    assert clock.now == pytest.approx(10.0)
    assert decision.attempts == 4  # more than max_attempts would allow transient failures


def test_no_retry_policy() -> None:
    with pytest.raises(CapacityError):
        state(RetryClass.SAFE, RetryPolicy.never()).next_delay(failure_of(FailureKind.CAPACITY))
    with pytest.raises(APIConnectionError):
        state(RetryClass.SAFE, RetryPolicy.never()).next_delay(failure_of(FailureKind.NOT_SENT))


def test_retry_after_is_honoured_and_bounded() -> None:
    base = failure_of(FailureKind.REJECTED)
    delay = state(RetryClass.SAFE).next_delay(Failure(base.kind, base.error, retry_after=7.0))
    assert delay == 7.0
    with pytest.raises(ServerError):
        state(RetryClass.SAFE).next_delay(Failure(base.kind, base.error, retry_after=3600.0))


def test_retry_after_from_headers() -> None:
    failure = classify_api_error(CapacityError("x", http_status=429), {"retry-after": "3"})
    assert failure.retry_after == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0


# ------------------------------------------------------------------ backoff bounds


def test_backoff_grows_is_capped_and_jitters_down_only() -> None:
    policy = RetryPolicy(initial_delay=0.5, multiplier=2.0, max_delay=4.0, jitter=0.25)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        for _ in range(50):
            delay = policy.backoff(retry, rng)
            assert ceiling * 0.75 <= delay <= ceiling


def test_poll_intervals_start_near_one_second_and_are_capped() -> None:
    policy = PollPolicy()
    rng = random.Random(3)
    first = [policy.interval(0, rng) for _ in range(100)]
    assert all(0.9 <= d <= 1.1 for d in first)
    assert len({round(d, 6) for d in first}) > 50  # jittered
    assert all(policy.interval(40, rng) <= policy.max_interval * 1.1 for _ in range(100))
    steady = PollPolicy(initial=2.0, factor=1.0, jitter=0.0)
    assert [steady.interval(n, rng) for n in range(3)] == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"jitter": 1.5}, {"multiplier": 0.5}, {"initial_delay": -1}],
)
def test_retry_policy_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"initial": 0}, {"factor": 0.5}, {"jitter": 1.0}, {"max_consecutive_failures": 0}]
)
def test_poll_policy_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PollPolicy(**kwargs)  # type: ignore[arg-type]
