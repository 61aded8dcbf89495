"""How soon ``Client.run()`` returns after a task ends, and how many requests it makes.

Against an in-process emulator, for a 4-second task: the lag is the time from the task's end
on the emulator (its record's ``finish_at``, when the status turns SUCCESS) to ``run()``
returning; requests are the emulator's API request count for the run (submit, polls, the
legacy outputs call that gives the progress socket's address). Measured with the progress
websocket (the default) and with polling only.

Targets: with the websocket, lag < 0.3 s and <= 8 requests; polling only, lag < 1.5 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass

from runninghub import Client, PollPolicy
from runninghub.emulator import EmulatorServer, serve_in_thread

API_KEY = "0123456789abcdef0123456789abcdef"
WORKFLOW = "1987728214757978114"
TASK_SECONDS = 4.0
ROUNDS = 3


@dataclass(frozen=True)
class Sample:
    lag: float
    requests: int


def measure(server: EmulatorServer, poll: PollPolicy, config_dir: str) -> Sample:
    server.reset()
    with Client(API_KEY, base_url=server.base_url, poll=poll, config_dir=config_dir) as client:
        task = client.run(WORKFLOW)
        returned = time.time()
    record = server.state.tasks[task.task_id]
    requests = sum(server.stats()["requests"].values())
    return Sample(returned - record.finish_at, requests)


def report(name: str, samples: list[Sample], lag_target: float, request_target: int | None) -> str:
    lags = [s.lag for s in samples]
    requests = [s.requests for s in samples]
    verdict = max(lags) < lag_target and (request_target is None or max(requests) <= request_target)
    return (
        f"{name:<16} lag median {statistics.median(lags):.3f} s, max {max(lags):.3f} s"
        f" (target < {lag_target} s); requests {min(requests)}-{max(requests)}"
        + (f" (target <= {request_target})" if request_target else "")
        + f"  {'OK' if verdict else 'MISSED'}"
    )


def main() -> None:
    with (
        serve_in_thread(task_seconds=TASK_SECONDS, queue_seconds=0) as server,
        tempfile.TemporaryDirectory() as config_dir,
    ):
        socket = [measure(server, PollPolicy(), config_dir) for _ in range(ROUNDS)]
        polling = [measure(server, PollPolicy(websocket=False), config_dir) for _ in range(ROUNDS)]
    print(f"client lag for a {TASK_SECONDS:g} s task, {ROUNDS} runs each")
    print(report("with websocket", socket, 0.3, 8))
    print(report("polling only", polling, 1.5, None))


if __name__ == "__main__":
    main()
