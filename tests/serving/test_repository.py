"""Version handling of the local server: hot reload, version policy, broken versions, warm-up."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from imagepipe.serving import repository, servable
from imagepipe.serving.status import ServingError
from tests.serving.test_classify import write_classify_model

NAME = "m"


@pytest.fixture(scope="module")
def model_source(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("source") / "model")
    write_classify_model(path)
    return path


def add_version(base: str, version: int, source: str) -> str:
    path = os.path.join(base, str(version))
    shutil.copytree(source, path)
    return path


def write_warmup(version_dir: str, input_name: str) -> None:
    request = predict_pb2.PredictRequest()
    request.inputs[input_name].CopyFrom(tf.make_tensor_proto([[1.0]], dtype=tf.float32))
    path = os.path.join(version_dir, servable.WARMUP_FILE)
    os.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request)).SerializeToString())


def states(model) -> dict:
    return {s.version: (s.state, s.error_code) for s in model.status()}


def test_new_versions_load_and_fall_out_of_the_policy(tmp_path, model_source):
    base = str(tmp_path / NAME)
    add_version(base, 1, model_source)
    model = repository.ModelRepository(NAME, base, num_versions=1)
    model.refresh()
    assert states(model) == {1: ("AVAILABLE", "OK")} and model.servable().version == 1
    add_version(base, 2, model_source)
    os.makedirs(os.path.join(base, ".staging-123"))  # the Pusher's, half written: ignored
    model.refresh()
    assert states(model) == {2: ("AVAILABLE", "OK"), 1: ("END", "OK")}
    assert model.servable().version == 2
    with pytest.raises(ServingError, match=r"Specific\(m, 1\)"):
        model.servable(version=1)


def test_a_broken_version_does_not_replace_the_serving_one(tmp_path, model_source):
    base = str(tmp_path / NAME)
    add_version(base, 1, model_source)
    broken = os.path.join(base, "2")
    os.makedirs(broken)
    with open(os.path.join(broken, "saved_model.pb"), "wb") as f:
        f.write(b"not a SavedModel")
    model = repository.ModelRepository(NAME, base)
    model.refresh()
    model.refresh()  # a failed load is not retried at every poll
    version_states = states(model)
    assert version_states[1] == ("AVAILABLE", "OK")
    assert version_states[2][0] == "END" and version_states[2][1] != "OK"
    assert model.servable().version == 1
    body = repository.status_json(model.status(version=2))
    assert body["model_version_status"][0]["status"]["error_message"]


def test_a_failing_warmup_fails_the_load_like_tf_serving(tmp_path, model_source):
    base = str(tmp_path / NAME)
    write_warmup(add_version(base, 1, model_source), input_name="x")
    write_warmup(add_version(base, 2, model_source), input_name="wrong")
    model = repository.ModelRepository(NAME, base)
    model.refresh()
    assert states(model)[1] == ("AVAILABLE", "OK")
    assert states(model)[2] == ("END", "INVALID_ARGUMENT")
    assert "input tensor alias not found in signature: wrong" in model.status(2)[0].error_message


def test_labels_and_unknown_versions(tmp_path, model_source):
    base = str(tmp_path / NAME)
    for version in (3, 5):
        add_version(base, version, model_source)
    model = repository.ModelRepository(NAME, base, labels={"stable": 3, "gone": 1})
    model.refresh()
    assert model.servable(label="stable").version == 3 and model.servable().version == 5
    with pytest.raises(ServingError, match="Unrecognized servable version label: canary") as info:
        model.servable(label="canary")
    assert info.value.http_status == 400
    with pytest.raises(ServingError, match=r"Servable not found for request: Specific\(m, 1\)"):
        model.servable(label="gone")
    with pytest.raises(ServingError, match="Could not find version 4 of model m"):
        model.status(version=4)


def test_a_missing_base_path_has_no_versions_until_a_push(tmp_path, model_source):
    base = str(tmp_path / "later" / NAME)
    model = repository.ModelRepository(NAME, base)
    model.refresh()
    with pytest.raises(ServingError, match="Could not find any versions of model m") as info:
        model.status()
    assert info.value.http_status == 404
    with pytest.raises(ServingError, match=r"Servable not found for request: Latest\(m\)"):
        model.servable()
    add_version(base, 7, model_source)
    model.refresh()
    outputs = model.servable().predict("", {"x": np.array([[2.0]], np.float32)})
    np.testing.assert_array_equal(outputs["y"], [[3.0]])


def _broken_versions(base: str, empty: int, variables_only: int) -> None:
    """An empty version folder and one holding only variables/, as a copy cut short leaves."""
    os.makedirs(os.path.join(base, str(empty)))
    os.makedirs(os.path.join(base, str(variables_only), "variables"))
    with open(os.path.join(base, str(variables_only), "variables", "variables.index"),
              "wb") as f:
        f.write(b"\0")


def test_broken_newer_versions_never_unload_the_serving_ones(tmp_path, model_source):
    base = str(tmp_path / NAME)
    add_version(base, 1, model_source)
    add_version(base, 2, model_source)
    model = repository.ModelRepository(NAME, base, num_versions=2)
    model.refresh()
    assert states(model) == {2: ("AVAILABLE", "OK"), 1: ("AVAILABLE", "OK")}
    _broken_versions(base, empty=3, variables_only=4)
    model.refresh()
    version_states = states(model)
    assert version_states[1] == version_states[2] == ("AVAILABLE", "OK")
    assert version_states[3][0] == version_states[4][0] == "END"
    assert version_states[3][1] != "OK" and version_states[4][1] != "OK"
    assert model.servable().version == 2
    outputs = model.servable().predict("", {"x": np.array([[1.0]], np.float32)})
    np.testing.assert_array_equal(outputs["y"], [[2.5]])


def test_at_start_up_the_window_skips_broken_versions(tmp_path, model_source):
    base = str(tmp_path / NAME)
    add_version(base, 1, model_source)
    _broken_versions(base, empty=2, variables_only=3)
    model = repository.ModelRepository(NAME, base)  # num_versions 2: 3 and 2 would fill it
    model.refresh()
    assert states(model)[1] == ("AVAILABLE", "OK") and model.servable().version == 1


def test_a_failed_version_is_tried_again_when_its_folder_changes(tmp_path, model_source):
    base = str(tmp_path / NAME)
    add_version(base, 1, model_source)
    add_version(base, 2, model_source)
    os.makedirs(os.path.join(base, "3"))
    model = repository.ModelRepository(NAME, base, num_versions=2)
    model.refresh()
    assert states(model)[3][0] == "END" and model.servable().version == 2
    shutil.rmtree(os.path.join(base, "3"))
    add_version(base, 3, model_source)  # the copy finished
    model.refresh()
    assert states(model) == {3: ("AVAILABLE", "OK"), 2: ("AVAILABLE", "OK"), 1: ("END", "OK")}
    assert model.servable().version == 3
