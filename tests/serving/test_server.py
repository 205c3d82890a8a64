"""The local server's life cycle and routing, without a model: it starts, answers, and stops clean."""

import logging
import socket
import threading
import time

import pytest
import requests

from imagepipe.serving import repository, server


def empty_model(tmp_path) -> repository.ModelRepository:
    return repository.ModelRepository("m", str(tmp_path / "m"), poll_seconds=0.1)


def test_stop_frees_the_port_and_leaves_no_threads(tmp_path):
    before = set(threading.enumerate())
    local = server.LocalServer([empty_model(tmp_path)], port=0).start()
    port = local.port
    assert local.url == f"http://127.0.0.1:{port}"
    with requests.Session() as session:  # a kept-alive connection must not block the stop
        assert session.get(local.url + "/v1/models/m", timeout=10).status_code == 404
        local.stop()
    assert set(threading.enumerate()) <= before
    with socket.socket() as s:  # nothing listens there any more (TIME_WAIT is fine)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_a_taken_port_fails_at_once(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        local = server.LocalServer([empty_model(tmp_path)], port=taken.getsockname()[1])
        with pytest.raises(OSError):
            local.start()


@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/v1/models/m", 404, "Could not find any versions of model m"),
    ("POST", "/v1/models/m:predict", 400, "JSON Parse error: The document is empty"),
    ("PUT", "/v1/models/m", 400, "Malformed request: PUT /v1/models/m"),
    ("GET", "/v1/foo", 400, "Malformed request: GET /v1/foo"),
    ("POST", "/v1/models/m/versions/99999999999999999999:predict", 400,
     "Failed to convert version: 99999999999999999999 to numeric."),
    ("GET", "/elsewhere", 404, "not found"),
])
def test_routes_answer_tf_serving_errors_in_json(tmp_path, method, path, status, message):
    with server.LocalServer([empty_model(tmp_path)], port=0) as local:
        answer = requests.request(method, local.url + path, timeout=10)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/json"
    assert message in answer.json()["error"]


class _SlowWaitressTask:
    """A request still being answered: its worker pulls the server's trigger when done, as
    waitress's own tasks do."""

    def __init__(self, wsgi_server, seconds: float):
        self.wsgi_server, self.seconds = wsgi_server, seconds
        self.started, self.done = threading.Event(), threading.Event()

    def service(self):
        self.started.set()
        time.sleep(self.seconds)
        self.wsgi_server.pull_trigger()
        self.done.set()

    def cancel(self):
        pass


def test_stop_lets_a_request_in_flight_finish_before_closing(tmp_path, caplog):
    local = server.LocalServer([empty_model(tmp_path)], port=0).start()
    task = _SlowWaitressTask(local._server, seconds=0.5)  # pylint: disable=protected-access
    local._server.add_task(task)  # pylint: disable=protected-access
    assert task.started.wait(timeout=10)
    with caplog.at_level(logging.WARNING, logger="waitress"):
        local.stop()
    assert task.done.is_set()  # its pull found the trigger open
    assert not [r for r in caplog.records if r.name.startswith("waitress")], caplog.text


def test_stop_still_stops_when_the_wake_up_pipe_is_gone(tmp_path):
    before = set(threading.enumerate())
    local = server.LocalServer([empty_model(tmp_path)], port=0).start()
    trigger = local._server.trigger  # pylint: disable=protected-access
    with local._stop_lock:  # pylint: disable=protected-access
        trigger.close()  # as if its descriptors had been closed under it
    local.stop()
    assert set(threading.enumerate()) <= before
