"""Retry and poll policies, and the decisions taken from them. Pure: no I/O, no sleeping.

A call that failed is classified (:class:`FailureKind`) and then, depending on what the call
does (:class:`~runninghub._protocol.RetryClass`), repeated after a delay or given up:

=============  ==============  =====================================================
failure        reads           submits (they create a billed task)
=============  ==============  =====================================================
NOT_SENT       retry           retry: the connection was never made
REJECTED       retry           retry: HTTP 429/502/503, the gateway did not pass it on
CAPACITY       retry           retry until ``capacity_timeout``: nothing was created
AUTH_GLITCH    retry once      retry once: the gateway's intermittent HTTP 401 / -1
AMBIGUOUS      retry           SubmitOutcomeUnknownError: a task may exist, never resubmit
MALFORMED      retry           SubmitOutcomeUnknownError
SERVER         retry           raise: the service answered, and said it failed
FATAL          raise           raise
=============  ==============  =====================================================
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from . import _errors as errors
from ._errors import Wording
from ._protocol import RetryClass

__all__ = [
    "DownloadRetry",
    "Failure",
    "FailureKind",
    "PollPolicy",
    "RetryPolicy",
    "RetryState",
    "classify_api_error",
    "classify_transport_error",
    "parse_retry_after",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are repeated.

    Transient failures are retried up to ``max_attempts`` calls in all, waiting
    ``initial_delay * multiplier**n`` (capped at ``max_delay``, minus up to ``jitter`` of it).
    Capacity refusals (421, 415, 1003, 1011, 1520: nothing was created) are retried with their
    own, slower backoff for up to ``capacity_timeout`` seconds in all. A ``Retry-After``
    header is honoured when it asks for at most ``max_retry_after`` seconds.
    """

    max_attempts: int = 4
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 8.0
    jitter: float = 0.25
    capacity_timeout: float = 120.0
    capacity_initial_delay: float = 2.0
    capacity_max_delay: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if min(self.initial_delay, self.max_delay, self.capacity_timeout) < 0:
            raise ValueError("delays must not be negative")
        if self.multiplier < 1.0:
            raise ValueError("multiplier must be at least 1")

    @classmethod
    def never(cls) -> RetryPolicy:
        """No retries at all: every failure is raised at once."""
        return cls(max_attempts=1, capacity_timeout=0.0)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The delay before retry number ``retry`` (1-based) of a transient failure."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (retry - 1))
        return _jittered(base, self.jitter, rng)

    def capacity_backoff(self, retry: int, rng: random.Random) -> float:
        base = min(
            self.capacity_max_delay, self.capacity_initial_delay * self.multiplier ** (retry - 1)
        )
        return _jittered(base, self.jitter, rng)


@dataclass(frozen=True)
class PollPolicy:
    """How :meth:`TaskHandle.wait` polls.

    The n-th interval is ``initial * factor**n`` capped at ``max_interval``, with up to
    ``jitter`` of it added or removed. ``max_consecutive_failures`` transient poll failures in
    a row end the wait with the last error. ``timeout`` is the default deadline of a wait
    (``None``: no deadline). After the progress websocket signals the end of the run, polls
    come every ``after_signal`` seconds (growing by ``factor``) until the status agrees.
    ``websocket=False`` never opens the progress websocket.
    """

    initial: float = 1.0
    factor: float = 1.5
    max_interval: float = 10.0
    jitter: float = 0.1
    max_consecutive_failures: int = 5
    timeout: float | None = 3600.0
    after_signal: float = 0.05
    websocket: bool = True

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.max_interval <= 0 or self.after_signal <= 0:
            raise ValueError("poll intervals must be positive")
        if self.factor < 1.0:
            raise ValueError("factor must be at least 1")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")
        if self.max_consecutive_failures < 1:
            raise ValueError("max_consecutive_failures must be at least 1")

    def interval(self, n: int, rng: random.Random, *, start: float | None = None) -> float:
        """The wait before poll ``n + 1`` (``n`` counts from 0)."""
        base = min(self.max_interval, (start or self.initial) * self.factor**n)
        spread = base * self.jitter
        return max(0.0, base + rng.uniform(-spread, spread))


def _jittered(base: float, jitter: float, rng: random.Random) -> float:
    """Up to ``jitter`` of the delay is removed at random, so clients do not retry in step."""
    return base * (1.0 - jitter * rng.random())


class FailureKind(enum.Enum):
    NOT_SENT = "not sent"
    REJECTED = "rejected by the gateway"
    CAPACITY = "at capacity"
    AUTH_GLITCH = "gateway authentication glitch"
    AMBIGUOUS = "outcome unknown"
    MALFORMED = "malformed answer"
    SERVER = "server error"
    FATAL = "fatal"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    error: errors.APIError
    retry_after: float | None = None
    detail: str = ""  # what happened, without the call's name (for composed messages)


CONNECTION_HINT = Wording(
    "check the network and the base URL (base_url=..., RUNNINGHUB_BASE_URL, site=...)",
    "check the network and the base URL (--base-url, RUNNINGHUB_BASE_URL, --site)",
)
_OUTCOME_HINT = Wording(
    "the task may or may not have been created; check the running tasks (client.account())"
    " before submitting again",
    "the task may or may not have been created; check `runninghub account` for running tasks"
    " before submitting again",
)
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify_transport_error(exc: httpx.TransportError, what: str) -> Failure:
    """A failure below HTTP: was the request possibly received by the service?"""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, _NOT_SENT_ERRORS):
        timed_out = isinstance(exc, httpx.TimeoutException)
        detail = f"{'timed out connecting' if timed_out else 'could not connect'} ({reason})"
        cls: type[errors.APIConnectionError] = (
            errors.APITimeoutError if timed_out else errors.APIConnectionError
        )
        error = cls(f"{what}: {detail}", hint=CONNECTION_HINT)
        return Failure(FailureKind.NOT_SENT, error, detail=detail)
    if isinstance(exc, httpx.TimeoutException):
        detail = f"timed out waiting for the answer ({reason})"
        error = errors.APITimeoutError(f"{what}: {detail}", hint=CONNECTION_HINT)
        return Failure(FailureKind.AMBIGUOUS, error, detail=detail)
    detail = f"the connection broke ({reason})"
    error = errors.APIConnectionError(f"{what}: {detail}", hint=CONNECTION_HINT)
    return Failure(FailureKind.AMBIGUOUS, error, detail=detail)


def classify_api_error(error: errors.APIError, headers: Mapping[str, str] | None = None) -> Failure:
    """A failure the service reported (HTTP status, code, or an unreadable body)."""
    retry_after = parse_retry_after(headers.get("retry-after")) if headers else None
    status = error.http_status
    detail = str(error)
    if status is not None and f"HTTP {status}" not in detail:
        detail = f"HTTP {status}: {detail}"
    if status in (429, 502, 503):
        return Failure(FailureKind.REJECTED, error, retry_after, detail)
    if status is not None and status >= 500:
        return Failure(FailureKind.AMBIGUOUS, error, retry_after, detail)
    if isinstance(error, errors.APIResponseError):
        return Failure(FailureKind.MALFORMED, error, detail=detail)
    if isinstance(error, errors.CapacityError):
        return Failure(FailureKind.CAPACITY, error, retry_after, detail)
    if isinstance(error, errors.AuthenticationError) and status == 401 and error.code == "-1":
        return Failure(FailureKind.AUTH_GLITCH, error, detail=detail)
    if isinstance(error, errors.ServerError):
        return Failure(FailureKind.SERVER, error, detail=detail)
    return Failure(FailureKind.FATAL, error, detail=detail)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_RETRIED_WHEN = {
    RetryClass.SAFE: frozenset(FailureKind) - {FailureKind.FATAL},
    RetryClass.CREATES: frozenset(
        {
            FailureKind.NOT_SENT,
            FailureKind.REJECTED,
            FailureKind.CAPACITY,
            FailureKind.AUTH_GLITCH,
        }
    ),
    RetryClass.UNSAFE: frozenset({FailureKind.NOT_SENT, FailureKind.REJECTED}),
}


class RetryState:
    """The retry decisions of one logical call, across its attempts."""

    def __init__(  # noqa: PLR0913 - what, input_hash and rng are keyword-only context
        self,
        policy: RetryPolicy,
        retry_class: RetryClass,
        *,
        what: str = "request",
        input_hash: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.retry_class = retry_class
        self.what = what
        self.input_hash = input_hash
        self._clock = clock
        self._rng = rng or random.Random()
        self.attempts = 1
        self._retries = 0
        self._capacity_retries = 0
        self._capacity_since: float | None = None
        self._auth_glitches = 0

    def next_delay(self, failure: Failure) -> float:
        """Seconds to wait before the next attempt; raises the error to give up instead."""
        if failure.kind not in _RETRIED_WHEN[self.retry_class]:
            raise self._final_error(failure)
        if failure.kind is FailureKind.CAPACITY:
            delay = self._capacity_delay(failure)
        else:
            delay = self._transient_delay(failure)
        if failure.retry_after is not None:
            if failure.retry_after > self.policy.max_retry_after:
                raise failure.error
            delay = max(delay, failure.retry_after)
        self.attempts += 1
        return delay

    def capacity_waited(self) -> float:
        """Seconds since the service first refused this call for capacity (0 if it never did)."""
        if self._capacity_since is None:
            return 0.0
        return max(0.0, self._clock() - self._capacity_since)

    def _transient_delay(self, failure: Failure) -> float:
        if failure.kind is FailureKind.AUTH_GLITCH:
            self._auth_glitches += 1
            if self._auth_glitches > 1:
                raise failure.error
        if self._retries + 1 >= self.policy.max_attempts:
            raise failure.error
        self._retries += 1
        return self.policy.backoff(self._retries, self._rng)

    def _capacity_delay(self, failure: Failure) -> float:
        now = self._clock()
        if self._capacity_since is None:
            self._capacity_since = now
        self._capacity_retries += 1
        delay = self.policy.capacity_backoff(self._capacity_retries, self._rng)
        remaining = self.policy.capacity_timeout - (now - self._capacity_since)
        if remaining <= 0:
            raise failure.error
        return min(delay, remaining)

    def _final_error(self, failure: Failure) -> errors.APIError:
        if self.retry_class is RetryClass.CREATES and failure.kind in (
            FailureKind.AMBIGUOUS,
            FailureKind.MALFORMED,
        ):
            cause = failure.error
            return errors.SubmitOutcomeUnknownError(
                f"{self.what}: outcome unknown, {failure.detail or failure.kind.value}; a task"
                " may or may not have been created, so it was not resubmitted",
                fingerprint=self.input_hash,
                code=cause.code,
                http_status=cause.http_status,
                hint=_OUTCOME_HINT,
                raw=cause.raw,
            )
        return failure.error


class DownloadRetry:
    """The attempts of one download, under the client's retry policy.

    A dropped connection keeps the part file, so the next attempt resumes it; an answer
    that made the part unusable (HTTP 416) starts it again. Either way the download is
    tried ``max_attempts`` times in all.
    """

    def __init__(self, policy: RetryPolicy, name: str, rng: random.Random) -> None:
        self.policy = policy
        self.name = name
        self._rng = rng
        self.attempts = 0

    def next_delay(self, dropped: httpx.TransportError | None) -> float:
        """The wait before the next attempt; raises when the attempts are used up."""
        self.attempts += 1
        if self.attempts < self.policy.max_attempts:
            return self.policy.backoff(self.attempts, self._rng)
        if dropped is not None:
            # anyio's timeouts carry no text: say what happened in words.
            reason = "timed out" if isinstance(dropped, httpx.TimeoutException) else str(dropped)
            failed = f"download of {self.name} failed: {reason or type(dropped).__name__}"
            raise errors.APIConnectionError(failed, hint=CONNECTION_HINT) from None
        raise errors.OutputError(f"download of {self.name} did not complete")
