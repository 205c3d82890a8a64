""":classify and :regress as TF Serving does them: run for their signatures, refused for others.

The model here is a small TF1-style SavedModel with a real classification
signature (serialized tf.Examples in, classes and scores out) beside a predict
signature, the kind TF Serving's own tests use.
"""

import os

import pytest
import tensorflow as tf

from imagepipe.serving import client as client_lib
from imagepipe.serving import repository, server

MODEL = "half_plus_two"


def write_classify_model(path: str) -> None:
    """scores = [x / 2 + 2, 1 - x] for classes [small, big]; ``serving_default`` predicts y."""
    with tf.Graph().as_default():
        serialized = tf.compat.v1.placeholder(tf.string, [None], name="tf_example")
        x = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})["x"]
        scores = tf.concat([x * 0.5 + 2.0, 1.0 - x], axis=1)
        classes = tf.tile(tf.constant([["small", "big"]]), [tf.shape(x)[0], 1])
        signatures = {
            "classify_x": tf.compat.v1.saved_model.classification_signature_def(
                serialized, classes, scores),
            "regress_x": tf.compat.v1.saved_model.regression_signature_def(
                serialized, x * 0.5 + 2.0),
            "serving_default": tf.compat.v1.saved_model.predict_signature_def(
                {"x": x}, {"y": x * 0.5 + 2.0}),
        }
        with tf.compat.v1.Session() as session:
            builder = tf.compat.v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(session, ["serve"],
                                                 signature_def_map=signatures)
            builder.save()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("models") / MODEL)
    write_classify_model(os.path.join(base, "1"))
    model = repository.ModelRepository(MODEL, base, poll_seconds=0.2)
    with server.LocalServer([model], port=0) as local:
        with client_lib.ServingClient(local.url, MODEL, retries=0) as serving:
            yield serving


def test_classify_runs_a_classification_signature(client):
    answer = client.classify({"signature_name": "classify_x",
                              "examples": [{"x": 2.0}, {"x": 6.0}]})
    assert answer == {"results": [[["small", 3.0], ["big", -1.0]],
                                  [["small", 5.0], ["big", -5.0]]]}


def test_classify_merges_the_context_into_each_example(client):
    answer = client.classify({"signature_name": "classify_x", "context": {"x": 4.0},
                              "examples": [{}]}, version=1)
    assert answer == {"results": [[["small", 4.0], ["big", -3.0]]]}


def test_classify_refuses_a_predict_signature_with_tf_servings_message(client):
    with pytest.raises(client_lib.ServerError) as info:
        client.classify({"examples": [{"x": 2.0}]})
    assert info.value.status == 400
    assert info.value.message == ("Expected classification signature method_name to be "
                                  "tensorflow/serving/classify. Was: tensorflow/serving/predict")


def test_classify_with_an_unknown_signature(client):
    with pytest.raises(client_lib.ServerError, match="No signature was found with the name: nope"):
        client.classify({"signature_name": "nope", "examples": [{"x": 2.0}]})


def test_the_predict_signature_of_the_same_model(client):
    assert client.predict({"instances": [[1.0], [3.0]]}) == {"predictions": [[2.5], [3.5]]}
    assert client.predict({"inputs": {"x": [[1.0]]}}) == {"outputs": [[2.5]]}


def test_regress_runs_a_regression_signature(client):
    answer = client.request("POST", client.model_url() + ":regress", {
        "signature_name": "regress_x", "context": {"x": 1.0}, "examples": [{}, {"x": 6.0}]})
    assert answer == {"results": [2.5, 5.0]}


def test_regress_refuses_other_signatures_with_tf_servings_message(client):
    with pytest.raises(client_lib.ServerError) as info:
        client.request("POST", client.model_url() + ":regress", {"examples": [{"x": 1.0}]})
    assert info.value.status == 400
    assert info.value.message == ("Expected regression signature method_name to be "
                                  "tensorflow/serving/regress. Was: tensorflow/serving/predict")
    with pytest.raises(client_lib.ServerError, match="When method is regress, key 'examples'"):
        client.request("POST", client.model_url() + ":regress", {"signature_name": "regress_x"})
