"""Hostile requests to the local server: refused with a 400 naming the limit, and it keeps serving.

The model decodes what it is sent (imagepipe.testing.serving_models), so an
image that got past the pixel limit would really be decoded. bench/hostile_bench.py
runs the same cases at full size against ``imagepipe serve`` and measures memory.
"""

import io
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import requests
from PIL import Image

from imagepipe.pipeline.commands import serve as serve_command
from imagepipe.serving import client as client_lib
from imagepipe.serving import pixel_limit, repository, server
from imagepipe.serving.status import ServingError
from imagepipe.testing import photo_fixtures, serving_models

MODEL = "m"


def png(width: int, height: int, level: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), level).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("models") / MODEL)
    serving_models.write_image_model(base)
    return base


def local_server(model_dir, **options) -> server.LocalServer:
    model = repository.ModelRepository(MODEL, model_dir, poll_seconds=0.5, warm_up=False)
    return server.LocalServer([model], port=0, **options)


@pytest.fixture(scope="module")
def served(model_dir):
    with local_server(model_dir) as local:
        yield local


def predict(local, instances, timeout: float = 30) -> requests.Response:
    return requests.post(f"{local.url}/v1/models/{MODEL}:predict",
                         json={"instances": instances}, timeout=timeout)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(served):
    answer = predict(served, [client_lib.b64_instance(png(8, 8)),
                              client_lib.b64_instance(photo_fixtures.decompression_bomb_png(
                                  20000, 20000))])
    assert answer.status_code == 400
    message = answer.json()["error"]
    assert "20000x20000 PNG (400,000,000 pixels)" in message
    assert "at most 24,000,000 pixels (imagepipe serve --max-pixels)" in message
    assert "input 'image_bytes' value 1" in message
    assert predict(served, [client_lib.b64_instance(png(8, 8))]).json() == {
        "predictions": [{"class_ids": 1, "class_names": "light",
                         "probabilities": [pytest.approx(0.2157, abs=1e-3),
                                           pytest.approx(0.7843, abs=1e-3)]}]}


def test_the_limit_counts_the_pixels_of_a_whole_request(model_dir):
    with local_server(model_dir, max_pixels=100 * 100 + 1) as local:
        one = predict(local, [client_lib.b64_instance(png(100, 100))])
        two = predict(local, [client_lib.b64_instance(png(100, 100))] * 2)
    assert one.status_code == 200
    assert two.status_code == 400
    assert "its 2 images hold 20,000 pixels together" in two.json()["error"]
    assert "at most 10,001 pixels" in two.json()["error"]


def test_images_inside_serialized_examples_are_counted_too():
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    example = tf.train.Example(features=tf.train.Features(feature={"image": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[photo_fixtures.decompression_bomb_png()]))}))
    inputs = {"examples": np.array([example.SerializeToString()], object)}
    with pytest.raises(ServingError) as info:
        pixel_limit.check_request(inputs, 1000)
    assert "input 'examples' value 0 feature 'image'[0] is a 30000x30000 PNG" in str(info.value)


def test_a_5000_digit_integer_is_a_400_not_a_500(served):
    body = '{"instances": [' + "9" * 5000 + "]}"
    answer = requests.post(f"{served.url}/v1/models/{MODEL}:predict", data=body, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["error"] == "JSON Parse error: a number has more than 4300 digits"
    version = requests.get(f"{served.url}/v1/models/{MODEL}/versions/{'9' * 5000}", timeout=30)
    assert version.status_code == 400
    assert "Failed to convert version" in version.json()["error"]


def test_a_normal_request_is_answered_while_500_idle_connections_are_held(served):
    idle = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(500)]
    try:
        answer = predict(served, [client_lib.b64_instance(png(28, 28))], timeout=60)
    finally:
        for connection in idle:
            connection.close()
    assert answer.status_code == 200


def _answered_after_an_idle_connection_closed(url: str, port: int, idle_count: int) -> None:
    """Holds ``idle_count`` idle connections, then asks; the server must close the idle ones
    (channel timeout) and may answer only once one of them has gone (connection limit)."""
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle_count)]
    closed_at = []

    def wait_for_close(connection):
        connection.settimeout(60)
        if connection.recv(1) == b"":  # the server closed it
            closed_at.append(time.monotonic())
        connection.close()

    watchers = [threading.Thread(target=wait_for_close, args=(c,)) for c in idle]
    for watcher in watchers:
        watcher.start()
    answer = requests.post(f"{url}/v1/models/{MODEL}:predict", timeout=60,
                           json={"instances": [client_lib.b64_instance(png(8, 8))]})
    answered_at = time.monotonic()
    for watcher in watchers:
        watcher.join()
    assert answer.status_code == 200
    assert len(closed_at) == idle_count and min(closed_at) <= answered_at


def test_idle_connections_are_closed_after_the_channel_timeout_and_free_their_slot(model_dir):
    limits = server.ConnectionLimits(connection_limit=2, channel_timeout=2)
    with local_server(model_dir, limits=limits) as local:
        _answered_after_an_idle_connection_closed(local.url, local.port, 2)


def _listen_backlog(port: int) -> int:
    """The kernel's queue size of a listening socket (``ss``'s Send-Q)."""
    lines = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                           check=True).stdout.split()
    return int(lines[2])


def test_the_backlog_reaches_the_listening_socket(model_dir):
    with local_server(model_dir, limits=server.ConnectionLimits(backlog=7)) as local:
        assert _listen_backlog(local.port) == 7
    with local_server(model_dir) as local:
        assert _listen_backlog(local.port) == server.DEFAULT_BACKLOG


def test_the_serve_command_passes_its_limits_to_the_server(model_dir):
    """--max-pixels, --channel-timeout and --connection-limit change what the server does."""
    command = [sys.executable, "-m", "imagepipe.pipeline.cli", "serve", "--model-dir",
               model_dir, "--port", "0", "--no-warmup", "--max-pixels", "100",
               "--channel-timeout", "2", "--connection-limit", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        banner = [process.stdout.readline() for _ in range(3)]
        url = banner[2].split("REST API: ")[1].split(f"/v1/models/{MODEL}")[0]
        answer = requests.post(f"{url}/v1/models/{MODEL}:predict", timeout=30, json={
            "instances": [client_lib.b64_instance(png(20, 20))]})
        assert answer.status_code == 400
        assert "20x20 PNG (400 pixels)" in answer.json()["error"]
        assert "at most 100 pixels" in answer.json()["error"]
        _answered_after_an_idle_connection_closed(url, int(url.rsplit(":", 1)[1]), 1)
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_the_commands_defaults_are_the_servers():
    assert serve_command.DEFAULT_MAX_PIXELS == server.DEFAULT_MAX_PIXELS
    assert serve_command.DEFAULT_CONNECTION_LIMIT == server.DEFAULT_CONNECTION_LIMIT
    assert serve_command.DEFAULT_CHANNEL_TIMEOUT == server.DEFAULT_CHANNEL_TIMEOUT
    assert serve_command.DEFAULT_BACKLOG == server.DEFAULT_BACKLOG
