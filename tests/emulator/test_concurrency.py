"""Per-key concurrency: the (N+1)th simultaneous task is 421 and nothing is created."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

INVERT = "1987728214757978114"
APP = "1877265245566922753"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


def test_the_task_over_the_limit_is_421_in_both_families(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(concurrency=2, task_seconds=5))
    first, second = api.run_workflow(INVERT), api.run_workflow(INVERT)
    assert first["errorCode"] == second["errorCode"] == ""
    v2 = api.run_workflow(INVERT)
    assert v2["errorCode"] == "421" and v2["taskId"] == "" and v2["status"] == ""
    assert "retry" in v2["errorMessage"] and "|" in v2["errorMessage"]
    v1 = api.v1("/task/openapi/create", {"workflowId": INVERT})
    assert v1 == {"code": 421, "msg": "TASK_QUEUE_MAXED", "errorMessages": None, "data": None}
    app = api.v1("/task/openapi/ai-app/run", {"webappId": APP, "nodeInfoList": []})
    assert app["code"] == 421
    stats = api.server.stats()
    assert stats["tasks_created"] == 2
    assert list(stats["tasks_by_key"].values()) == [2]


def test_queued_tasks_count_against_the_limit(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(concurrency=1, queue_seconds=5, task_seconds=1))
    assert api.run_workflow(INVERT)["status"] == "QUEUED"
    assert api.run_workflow(INVERT)["errorCode"] == "421"


def test_limits_are_per_key(make_emulator, make_raw_api) -> None:
    server = make_emulator(concurrency=1, task_seconds=5)
    assert make_raw_api(server).run_workflow(INVERT)["errorCode"] == ""
    assert make_raw_api(server, OTHER_KEY).run_workflow(INVERT)["errorCode"] == ""
    assert make_raw_api(server).run_workflow(INVERT)["errorCode"] == "421"
    assert len(server.stats()["tasks_by_key"]) == 2


def test_a_slot_frees_when_a_task_ends_or_is_cancelled(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(concurrency=1, task_seconds=0.2))
    first = api.run_workflow(INVERT)["taskId"]
    assert api.run_workflow(INVERT)["errorCode"] == "421"
    api.wait(first)
    second = api.run_workflow(INVERT)["taskId"]
    assert second
    api.v1("/task/openapi/cancel", {"taskId": second})
    assert api.run_workflow(INVERT)["errorCode"] == ""


def test_simultaneous_submits_never_exceed_the_limit(make_emulator, make_raw_api) -> None:
    server = make_emulator(concurrency=3, task_seconds=5)
    api = make_raw_api(server)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: api.run_workflow(INVERT), range(12)))
    codes = sorted(answer["errorCode"] for answer in answers)
    assert codes == [""] * 3 + ["421"] * 9
    assert server.stats()["tasks_created"] == 3


def test_account_and_queue_status_report_counts_and_the_limit(
    make_emulator, make_raw_api, api_key
) -> None:
    api = make_raw_api(make_emulator(concurrency=3, queue_seconds=5, task_seconds=5))
    api.run_workflow(INVERT)
    api.server.configure(queue_seconds=0)
    api.run_workflow(INVERT)
    account = api.v1("/uc/openapi/accountStatus", {"apikey": api_key})["data"]
    assert account["currentTaskCounts"] == "2"
    headers = {"Authorization": f"Bearer {api_key}"}
    queue = api.http.get("/openapi/v2/queue/status", headers=headers).json()["data"]
    assert queue["concurrentLimit"] == 3
    assert (queue["runningCount"], queue["queuedCount"], queue["totalCurrentTasks"]) == (1, 1, 2)


def test_max_running_records_the_peak_per_key(make_emulator, make_raw_api) -> None:
    server = make_emulator(concurrency=3, task_seconds=0.3)
    api = make_raw_api(server)
    ids = [api.run_workflow(INVERT)["taskId"] for _ in range(3)]
    for task_id in ids:
        api.wait(task_id)
    assert server.stats()["max_running"] == 3
