"""``--state FILE``: a restarted emulator still knows its tasks, uploads and outputs."""

from __future__ import annotations

import io
import time

from PIL import Image

INVERT = "1987728214757978114"


def _picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (40, 50, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_restarted_emulator_serves_finished_tasks_and_uploads(
    tmp_path, make_emulator, make_raw_api
) -> None:
    state_file = tmp_path / "emulator.sqlite"
    first = make_emulator(state_file=state_file, task_seconds=0.1)
    api = make_raw_api(first)
    upload = api.upload_v2(_picture())["data"]
    node = [{"nodeId": "107", "fieldName": "image", "fieldValue": upload["fileName"]}]
    task_id = api.run_workflow(INVERT, node)["taskId"]
    done = api.wait(task_id)
    original = api.http.get(done["results"][0]["url"]).content
    first.stop()

    second = make_emulator(state_file=state_file, task_seconds=0.1)
    again = make_raw_api(second)
    restored = again.query(task_id)
    assert restored["status"] == "SUCCESS"
    assert again.http.get(restored["results"][0]["url"]).content == original
    legacy = again.v1("/task/openapi/outputs", {"taskId": task_id})
    assert legacy["code"] == 0 and legacy["data"][0]["fileUrl"].startswith(second.base_url)
    assert again.http.get(upload["download_url"].replace(first.base_url, second.base_url)).content
    rerun = again.wait(again.run_workflow(INVERT, node)["taskId"])
    assert again.http.get(rerun["results"][0]["url"]).content == original
    assert second.stats()["tasks_created"] == 2


def test_a_task_interrupted_by_a_restart_still_finishes(
    tmp_path, make_emulator, make_raw_api
) -> None:
    state_file = tmp_path / "emulator.sqlite"
    first = make_emulator(state_file=state_file, queue_seconds=0.3, task_seconds=0.1)
    task_id = make_raw_api(first).run_workflow(INVERT)["taskId"]
    first.stop()  # before the task left the queue: it never ran
    second = make_emulator(state_file=state_file, task_seconds=0.1)
    api = make_raw_api(second)
    done = api.wait(task_id)
    assert done["status"] == "SUCCESS"
    assert api.http.get(done["results"][0]["url"]).status_code == 200


def test_the_emulated_clock_survives_a_restart(tmp_path, make_emulator, make_raw_api) -> None:
    state_file = tmp_path / "emulator.sqlite"
    first = make_emulator(state_file=state_file)
    url = make_raw_api(first).upload_v2(_picture())["data"]["download_url"]
    first.configure(advance_clock=86400 * 2)
    first.stop()
    second = make_emulator(state_file=state_file)
    moved = url.replace(first.base_url, second.base_url)
    assert make_raw_api(second).http.get(moved).status_code == 403


def test_the_state_file_never_contains_the_key(tmp_path, make_emulator, make_raw_api, api_key):
    state_file = tmp_path / "emulator.sqlite"
    server = make_emulator(state_file=state_file, task_seconds=0.1)
    api = make_raw_api(server)
    api.wait(api.run_workflow(INVERT, webhookUrl="http://127.0.0.1:9/none")["taskId"])
    deadline = time.monotonic() + 5
    while server.stats()["webhooks"]["attempts_failed"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    server.stop()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert api_key.encode() not in path.read_bytes(), path
