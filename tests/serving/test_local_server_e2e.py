"""End to end: the pipeline's pushed model, served by ``imagepipe serve``, asked through the client.

The model is the one the session's real pipeline run pushed (``pipeline_run``),
published again with the Pusher's ``publish`` into a serving folder of this
module's own, so that pushing a second version here touches nothing else.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from imagepipe.components import features, pusher
from imagepipe.data import png
from imagepipe.components.trainer import export
from imagepipe.testing import fixtures
from imagepipe.pipeline import cli
from imagepipe.serving import client as client_lib
from imagepipe.serving import repository, server

MODEL = "fashion_mnist"
LABELS = np.array([0, 1, 9, 7, 3, 5, 2, 1], np.uint8)  # upper, lower, shoes, shoes, upper...
EXPECTED = ["upper", "lower", "shoes", "shoes", "upper", "shoes", "upper", "lower"]
MAX_REQUEST_BYTES = 256 * 2**10


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def wait_for(condition, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def version_states(client) -> dict:
    return {int(s["version"]): s["state"] for s in client.status()["model_version_status"]}


@pytest.fixture(scope="module")
def images():
    return [png.encode_gray(image) for image in fixtures.generate_images(LABELS, seed=321)]


@pytest.fixture(scope="module")
def served(pipeline_run, tmp_path_factory):
    """The pushed model under a private serving folder, served on a free port."""
    _, summary = pipeline_run
    base = str(tmp_path_factory.mktemp("serving") / MODEL)
    first = pusher.publish(summary.pushed_destination, base, {"model_uri": summary.model_uri})
    v1 = int(os.path.basename(first))
    model = repository.ModelRepository(MODEL, base, poll_seconds=0.2, labels={"stable": v1})
    with server.LocalServer([model], port=0, max_request_bytes=MAX_REQUEST_BYTES) as local:
        with client_lib.ServingClient(local.url, MODEL, retries=0, timeout=60) as client:
            yield types.SimpleNamespace(client=client, url=local.url, base=base, first=first,
                                        v1=v1)


def write_relabelled_model(source: str, target: str) -> None:
    """A distinguishable new version: the same model, its class names upper-cased."""
    loaded = tf.saved_model.load(source)
    serve = loaded.signatures[features.SERVING_SIGNATURE]

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def serving_default(image_bytes):
        outputs = dict(serve(**{features.SERVING_INPUT_KEY: image_bytes}))
        outputs[features.CLASS_NAMES_OUTPUT] = tf.strings.upper(
            outputs[features.CLASS_NAMES_OUTPUT])
        return outputs

    module = tf.Module()
    module.base = loaded
    module.serving_default = serving_default
    tf.saved_model.save(module, target, signatures={features.SERVING_SIGNATURE: serving_default})
    export.write_warmup_requests(target)


@pytest.fixture(scope="module")
def second_push(served, tmp_path_factory):
    """Pushes a second version while the server runs; returns it once it is AVAILABLE."""
    source = str(tmp_path_factory.mktemp("relabelled"))
    write_relabelled_model(served.first, source)
    pushed = pusher.publish(source, served.base, {"model_uri": "relabelled"})
    v2 = int(os.path.basename(pushed))
    wait_for(lambda: version_states(served.client).get(v2) == "AVAILABLE",
             what=f"version {v2} to become AVAILABLE")
    return v2


# ----------------------------------------------------------------------------- the pushed model


def test_the_pushed_version_is_available(served):
    assert version_states(served.client)[served.v1] == "AVAILABLE"
    [status] = served.client.status(version=served.v1)["model_version_status"]
    assert status == {"version": str(served.v1), "state": "AVAILABLE",
                      "status": {"error_code": "OK", "error_message": ""}}
    assert served.client.status(label="stable")["model_version_status"] == [status]


def test_the_push_carries_warmup_requests_for_tf_serving(served):
    path = os.path.join(served.first, export.WARMUP_FILE)
    logs = [prediction_log_pb2.PredictionLog.FromString(record)
            for record in tf.data.TFRecordDataset(path).as_numpy_iterator()]
    sizes = [log.predict_log.request.inputs[features.SERVING_INPUT_KEY].tensor_shape.dim[0].size
             for log in logs]
    assert sizes == list(export.WARMUP_BATCH_SIZES)


def test_metadata_lists_the_signatures(served):
    metadata = served.client.metadata(version=served.v1)
    assert metadata["model_spec"] == {"name": MODEL, "version": str(served.v1),
                                      "signature_name": ""}
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    assert {features.SERVING_SIGNATURE, features.FROM_EXAMPLES_SIGNATURE,
            features.TRANSFORM_SIGNATURE} <= set(signatures)
    serving = signatures[features.SERVING_SIGNATURE]
    assert serving["method_name"] == "tensorflow/serving/predict"
    assert serving["inputs"][features.SERVING_INPUT_KEY]["dtype"] == "DT_STRING"
    assert set(serving["outputs"]) == {features.CLASS_IDS_OUTPUT, features.CLASS_NAMES_OUTPUT,
                                       features.PROBABILITIES_OUTPUT}


def test_rest_predictions_equal_in_process_predictions(served, images):
    in_process = tf.saved_model.load(served.first).signatures[features.SERVING_SIGNATURE](
        **{features.SERVING_INPUT_KEY: tf.constant(images)})
    rows = served.client.predict({"instances": [b64(i) for i in images]},
                                 version=served.v1)["predictions"]
    np.testing.assert_array_equal(
        np.array([r[features.PROBABILITIES_OUTPUT] for r in rows], np.float32),
        in_process[features.PROBABILITIES_OUTPUT].numpy())
    assert [r[features.CLASS_IDS_OUTPUT] for r in rows] == (
        in_process[features.CLASS_IDS_OUTPUT].numpy().tolist())
    assert [r[features.CLASS_NAMES_OUTPUT] for r in rows] == EXPECTED
    columns = served.client.predict(
        {"inputs": {features.SERVING_INPUT_KEY: [b64(i) for i in images]}},
        version=served.v1)["outputs"]
    np.testing.assert_array_equal(np.array(columns[features.PROBABILITIES_OUTPUT], np.float32),
                                  in_process[features.PROBABILITIES_OUTPUT].numpy())


def test_the_client_api_classifies_images(served, images):
    predictions = served.client.predict_images(images, version=served.v1)
    assert [p.class_name for p in predictions] == EXPECTED
    assert all(0.5 < p.probability <= 1.0 for p in predictions)


# ----------------------------------------------------------------------------- bad requests


def _predict_url(served, suffix: str = "") -> str:
    return f"{served.url}/v1/models/{MODEL}{suffix}:predict"


def _bad_requests(images):
    good = b64(images[0])
    return [
        ("invalid JSON", "", b"{instances: [", 400, "JSON Parse error"),
        ("empty body", "", b"", 400, "JSON Parse error: The document is empty"),
        ("wrong b64", "", {"instances": [{"b64": "%%%"}]}, 400, "Unable to base64 decode"),
        ("not an image", "", {"instances": [b64(b"just some text")]}, 400,
         "Unknown image file format"),
        ("wrong input name", "", {"instances": [{"image": good}]}, 400,
         "does not have named input: image"),
        ("wrong input name, columnar", "", {"inputs": {"image": [good]}}, 400,
         "Missing named input: image_bytes"),
        ("wrong shape", "", {"instances": [[good]]}, 400,
         "input image_bytes of signature serving_default has shape [1,1]"),
        ("wrong type", "", {"instances": [3]}, 400, "is not of expected type: string"),
        ("unknown signature", "", {"signature_name": "nope", "instances": [good]}, 400,
         'Serving signature name: "nope" not found'),
        ("unknown version", "/versions/123", {"instances": [good]}, 404,
         f"Servable not found for request: Specific({MODEL}, 123)"),
        ("unknown label", "/labels/canary", {"instances": [good]}, 400,
         "Unrecognized servable version label: canary"),
        ("classify a predict signature", None, {"examples": [{"x": 1}]}, 400,
         "Expected classification signature method_name"),
    ]


def test_bad_requests_get_4xx_with_a_message_and_the_server_keeps_serving(served, images):
    for what, suffix, body, status, message in _bad_requests(images):
        url = (_predict_url(served, suffix) if suffix is not None
               else f"{served.url}/v1/models/{MODEL}:classify")
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = requests.post(url, data=data, timeout=60)
        assert answer.status_code == status, (what, answer.text)
        assert answer.headers["Content-Type"] == "application/json", what
        assert message in answer.json()["error"], (what, answer.text)
        assert served.client.predict_images(images[:1])[0].class_name.lower() == "upper", what


@pytest.mark.parametrize("path, status, message", [
    ("/v1/models/unknown", 404, "Could not find any versions of model unknown"),
    (f"/v1/models/{MODEL}/versions/42", 404, f"Could not find version 42 of model {MODEL}"),
    (f"/v1/models/{MODEL}/versions/42/metadata", 404, f"Specific({MODEL}, 42)"),
    ("/v1/models", 400, "Missing model name in request."),
    (f"/v1/models/{MODEL}:predict", 400, f"Malformed request: GET /v1/models/{MODEL}:predict"),
])
def test_unknown_models_versions_and_malformed_paths(served, path, status, message):
    answer = requests.get(served.url + path, timeout=30)
    assert answer.status_code == status and message in answer.json()["error"]


def test_an_unknown_model_is_404_through_the_client(served, images):
    other = client_lib.ServingClient(served.url, "unknown", retries=0)
    with pytest.raises(client_lib.ServerError) as info:
        other.predict_images(images[:1])
    assert info.value.status == 404
    assert info.value.message == "Servable not found for request: Latest(unknown)"


def test_oversized_bodies_are_refused_and_the_server_keeps_serving(served, images):
    padding = "A" * (MAX_REQUEST_BYTES + 1000)
    answer = requests.post(_predict_url(served), json={"instances": [{"b64": padding}]},
                           timeout=60)
    assert answer.status_code == 413
    assert f"larger than the limit of {MAX_REQUEST_BYTES} bytes" in answer.json()["error"]
    huge = b"x" * (3 * MAX_REQUEST_BYTES + 2**20)  # beyond what the HTTP server buffers
    try:
        answer = requests.post(_predict_url(served), data=huge, timeout=60)
        assert answer.status_code == 413
    except requests.exceptions.ConnectionError:
        pass  # the server may close the connection while the body is still being sent
    assert served.client.predict_images(images[:1])[0].class_name.lower() == "upper"


# ----------------------------------------------------------------------------- the command line


def test_predict_command_prints_a_table_and_reports_bad_files(served, images, tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for i, image in enumerate(images[:3]):
        (folder / f"{i}.png").write_bytes(image)
    (folder / "more" / "3.png").write_bytes(images[3])
    (folder / "broken.png").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("skipped: not an image suffix")
    (folder / ".DS_Store").write_bytes(b"\0")
    code = cli.main(["predict", "--server", served.url, "--version", str(served.v1),
                     "--batch-size", "2", str(folder)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1  # one file failed
    assert lines[0].split() == ["file", "class", "probability"]
    rows = {os.path.relpath(line.split()[0], folder): line.split()[1:] for line in lines[1:-1]}
    assert rows["0.png"][0] == "upper" and rows["1.png"][0] == "lower"
    assert rows["2.png"][0] == "shoes" and rows[os.path.join("more", "3.png")][0] == "shoes"
    assert rows["broken.png"][:2] == ["error:", "not"]
    assert rows["notes.txt"][:5] == ["skipped:", "not", "an", "image", "name"]
    assert rows[".DS_Store"] == ["skipped:", "hidden", "file"]
    assert lines[-1] == "7 files: 4 classified, 1 failed, 2 skipped"


def test_predict_command_json_and_a_file_the_model_refuses(served, images, tmp_path, capsys):
    (tmp_path / "good.png").write_bytes(images[1])
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n but truncated")
    code = cli.main(["predict", "--server", served.url, "--label", "stable", "--json",
                     str(tmp_path / "good.png"), str(tmp_path / "bad.png")])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1
    assert rows[0]["file"].endswith("good.png") and rows[0]["class"] == "lower"
    assert rows[0]["probability"] == max(rows[0]["probabilities"])
    assert rows[1]["file"].endswith("bad.png") and "PNG" in rows[1]["error"]


def test_predict_command_stops_at_an_unknown_label_before_sending_images(served, images,
                                                                         tmp_path, capsys):
    (tmp_path / "x.png").write_bytes(images[0])
    code = cli.main(["predict", "--server", served.url, "--label", "canary",
                     str(tmp_path / "x.png")])
    assert code == 2
    assert "400 BAD REQUEST: Unrecognized servable version label: canary" in (
        capsys.readouterr().err)


def test_predict_command_says_when_no_server_answers(images, tmp_path, capsys):
    (tmp_path / "x.png").write_bytes(images[0])
    code = cli.main(["predict", "--server", "http://127.0.0.1:9", "--retries", "0",
                     str(tmp_path / "x.png")])
    assert code == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


# ----------------------------------------------------------------------------- a second push


def test_a_second_push_is_served_by_default_without_a_restart(served, second_push, images):
    assert second_push > served.v1
    assert version_states(served.client) == {served.v1: "AVAILABLE", second_push: "AVAILABLE"}
    latest = served.client.predict_images(images)
    assert [p.class_name for p in latest] == [name.upper() for name in EXPECTED]


def test_version_pinned_and_labelled_requests_still_reach_the_first(served, second_push, images):
    del second_push
    pinned = served.client.predict_images(images, version=served.v1)
    assert [p.class_name for p in pinned] == EXPECTED
    labelled = served.client.predict_images(images, label="stable")
    assert [p.class_name for p in labelled] == EXPECTED


def test_serve_command_binds_loopback_serves_and_stops_on_sigterm(served):
    command = [sys.executable, "-m", "imagepipe.pipeline.cli", "serve", "--model-dir",
               served.base, "--port", "0", "--no-warmup"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        banner = [process.stdout.readline() for _ in range(3)]
        assert banner[0].startswith(f"imagepipe serve: model {MODEL} from {served.base}"), banner
        url = banner[2].split("REST API: ")[1].split(f"/v1/models/{MODEL}")[0]
        assert url.startswith("http://127.0.0.1:"), banner
        with client_lib.ServingClient(url, MODEL, retries=0) as client:
            assert version_states(client)[served.v1] == "AVAILABLE"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------------- broken versions


def test_broken_newer_versions_appearing_while_serving_change_nothing_served(
        served, second_push, images):
    """Requests keep being answered by the loaded versions while half-written ones appear."""
    import concurrent.futures
    answers, stop = [], threading.Event()

    def keep_asking():
        with client_lib.ServingClient(served.url, MODEL, retries=0, timeout=60) as client:
            while not stop.is_set():
                answers.append([p.class_name for p in client.predict_images(images[:2])])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        askers = [pool.submit(keep_asking) for _ in range(4)]
        empty, cut_short = second_push + 10, second_push + 11
        os.makedirs(os.path.join(served.base, str(empty)))
        os.makedirs(os.path.join(served.base, str(cut_short), "variables"))
        wait_for(lambda: {empty, cut_short} <= set(version_states(served.client)),
                 what="the broken versions to be reported")
        time.sleep(1.0)  # a few more polls with the broken versions in place
        stop.set()
        for asker in askers:
            asker.result()  # a failed request would raise here
    states = version_states(served.client)
    assert states[served.v1] == states[second_push] == "AVAILABLE"
    assert states[empty] == states[cut_short] == "END"
    assert answers and all(a == [n.upper() for n in EXPECTED[:2]] for a in answers)
