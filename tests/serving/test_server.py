"""The local server's life cycle and routing, without a model: it starts, answers, and stops clean."""

import socket
import threading

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
