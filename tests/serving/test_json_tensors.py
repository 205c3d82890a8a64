"""TF Serving's REST JSON formats: requests to arrays, arrays to answers, TF Serving's messages."""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.serving import json_tensors
from imagepipe.serving.status import ServingError

IMAGE = {"image_bytes": tf.string}
TWO_INPUTS = {"x": tf.float32, "k": tf.int64}


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def error_of(call, *args) -> ServingError:
    with pytest.raises(ServingError) as info:
        call(*args)
    return info.value


@pytest.mark.parametrize("body, message", [
    (b"", "JSON Parse error: The document is empty"),
    (b"instances = [1, 2]", "JSON Parse error: Expecting value at offset: 0"),
    (b"[1, 2]", "JSON Value: [1,2] Is not object"),
    (b"\xff\xfe{", "JSON Parse error"),
    (b"[" * 100000, "JSON Parse error"),
])
def test_documents_that_are_not_json_objects_are_invalid_arguments(body, message):
    error = error_of(json_tensors.parse_document, body)
    assert error.code == "INVALID_ARGUMENT" and error.http_status == 400
    assert message in error.message


def test_signature_name_must_be_a_string():
    assert json_tensors.signature_name({}) == ""
    assert json_tensors.signature_name({"signature_name": "s"}) == "s"
    error = error_of(json_tensors.signature_name, {"signature_name": 100})
    assert "'signature_name' key must be a string value." in error.message


def test_row_format_with_b64_values_named_or_not():
    fmt, arrays = json_tensors.predict_inputs(
        {"instances": [b64(b"\x89PNG one"), b64(b"two")]}, IMAGE)
    assert fmt == json_tensors.ROW
    assert arrays["image_bytes"].shape == (2,)
    assert list(arrays["image_bytes"]) == [b"\x89PNG one", b"two"]
    _, named = json_tensors.predict_inputs(
        {"instances": [{"image_bytes": b64(b"a")}, {"image_bytes": "plain"}]}, IMAGE)
    assert list(named["image_bytes"]) == [b"a", b"plain"]


def test_columnar_format_single_and_named_inputs():
    fmt, arrays = json_tensors.predict_inputs({"inputs": [b64(b"a"), b64(b"b")]}, IMAGE)
    assert fmt == json_tensors.COLUMNAR and list(arrays["image_bytes"]) == [b"a", b"b"]
    _, arrays = json_tensors.predict_inputs(
        {"inputs": {"x": [[1, 2.5]], "k": [7]}}, TWO_INPUTS)
    assert arrays["x"].dtype == np.float32 and arrays["x"].shape == (1, 2)
    assert arrays["k"].dtype == np.int64 and arrays["k"].tolist() == [7]


def test_row_format_with_several_inputs_stacks_each():
    _, arrays = json_tensors.predict_inputs(
        {"instances": [{"x": [1.0, 2.0], "k": 1}, {"x": [3.0, 4.0], "k": 2}]}, TWO_INPUTS)
    np.testing.assert_array_equal(arrays["x"], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(arrays["k"], [1, 2])


@pytest.mark.parametrize("document, message", [
    ({"instances": [{"b64": "not base64!!"}]},
     "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
     "Unable to base64 decode"),
    ({"instances": [{"image": b64(b"a")}]},
     "Failed to process element: 0 key: image of 'instances' list. Error: INVALID_ARGUMENT: "
     "JSON object: does not have named input: image"),
    ({"inputs": {"image": [b64(b"a")]}}, "Missing named input: image_bytes in 'inputs' object."),
    ({"instances": [b64(b"a"), [b64(b"b")]]}, "Expecting shape [] but got: [1]"),
    ({"instances": [[b64(b"a")], [b64(b"b"), b64(b"c")]]}, "Expecting tensor size: 1 but got: 2"),
    ({"instances": [[b64(b"a"), [b64(b"b")]]]}, "Encountered list at unexpected level"),
    ({"instances": [1]}, "JSON Value: 1 Type: Number is not of expected type: string"),
    ({"instances": []}, "No values in 'instances' array"),
    ({"instances": {"b64": "x"}}, "Excepting 'instances' to be an list/array"),
    ({"instances": [b64(b"a")], "inputs": [b64(b"a")]}, "expecting only one of 'inputs' or"),
    ({"signature_name": "serving_default"}, "Missing 'inputs' or 'instances' key"),
    ({"instances": [{"b64": "YQ==", "x": 1}]}, "does not have named input: b64"),
])
def test_malformed_predict_requests_get_tf_serving_messages(document, message):
    error = error_of(json_tensors.predict_inputs, document, IMAGE)
    assert error.http_status == 400
    assert message in error.message


@pytest.mark.parametrize("document, message", [
    ({"instances": [1.5]}, "instances is a plain list, but expecting list of objects"),
    ({"inputs": [1.5]}, "inputs is a plain value/list, but expecting an object"),
    ({"instances": [{"x": [1.0], "k": 1}, {"x": [1.0]}]}, "keys must be equal to: k,x"),
    ({"inputs": {"x": [16777217], "k": [1]}}, "to float without loss of precision"),
    ({"inputs": {"x": [1.0], "k": [1.5]}}, "is not of expected type: int64"),
    ({"inputs": {"x": [1.0], "k": [True]}}, "is not of expected type: int64"),
])
def test_type_and_structure_errors_with_several_inputs(document, message):
    assert message in error_of(json_tensors.predict_inputs, document, TWO_INPUTS).message


def test_row_answer_has_one_object_per_instance_and_shortest_floats():
    outputs = {"class_ids": np.array([2, 0]), "class_names": np.array([b"shoes", b"upper"],
                                                                        dtype=object),
               "probabilities": np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]], np.float32)}
    answer = json_tensors.predict_response(outputs, json_tensors.ROW)
    assert answer == {"predictions": [
        {"class_ids": 2, "class_names": "shoes", "probabilities": [0.1, 0.2, 0.7]},
        {"class_ids": 0, "class_names": "upper", "probabilities": [0.6, 0.3, 0.1]}]}
    assert "0.1," in json.dumps(answer)  # not 0.10000000149011612
    back = np.array([p["probabilities"] for p in answer["predictions"]], np.float32)
    np.testing.assert_array_equal(back, outputs["probabilities"])


def test_columnar_answer_and_single_outputs():
    outputs = {"y": np.array([[1.5], [2.5]], np.float32)}
    assert json_tensors.predict_response(outputs, json_tensors.ROW) == {
        "predictions": [[1.5], [2.5]]}
    assert json_tensors.predict_response(outputs, json_tensors.COLUMNAR) == {
        "outputs": [[1.5], [2.5]]}
    two = {"a": np.array([1, 2]), "b": np.array([True, False])}
    assert json_tensors.predict_response(two, json_tensors.COLUMNAR) == {
        "outputs": {"a": [1, 2], "b": [True, False]}}


def test_outputs_named_bytes_are_b64_and_batch_sizes_must_agree():
    answer = json_tensors.predict_response(
        {"image_bytes": np.array([b"\x00\xff"], dtype=object)}, json_tensors.ROW)
    assert answer == {"predictions": [{"b64": "AP8="}]}
    error = error_of(json_tensors.predict_response,
                     {"a": np.zeros([2]), "b": np.zeros([3])}, json_tensors.ROW)
    assert "inconsistent batch size" in error.message


def test_classify_examples_become_tf_examples_merged_with_context():
    serialized = json_tensors.classify_examples({
        "context": {"country": "fr", "weights": [1.5, 2.5]},
        "examples": [{"age": 3, "image": b64(b"\x01"), "country": "de"}, {"flag": True}]})
    first, second = [tf.train.Example.FromString(s) for s in serialized]
    assert first.features.feature["age"].int64_list.value == [3]
    assert first.features.feature["image"].bytes_list.value == [b"\x01"]
    assert first.features.feature["country"].bytes_list.value == [b"de"]  # the example wins
    assert second.features.feature["country"].bytes_list.value == [b"fr"]
    assert second.features.feature["weights"].float_list.value == [1.5, 2.5]
    assert second.features.feature["flag"].int64_list.value == [1]


@pytest.mark.parametrize("document, message", [
    ({"instances": []}, "When method is classify, key 'examples' is expected"),
    ({"examples": []}, "'examples' value is an empty array"),
    ({"examples": [1]}, "Example must be JSON object but got JSON Number"),
    ({"examples": [{"a": [1, "x"]}]}, "Unexpected element type in feature: a expecting type: "
                                      "int64"),
    ({"examples": [{"a": None}]}, "Feature: a has element with unexpected JSON type: Null"),
    ({"examples": [{"a": [[1]]}]}, "Feature: a has element with unexpected JSON type: Array"),
])
def test_malformed_classify_requests(document, message):
    assert message in error_of(json_tensors.classify_examples, document).message


def test_classify_answer_pairs_labels_and_scores():
    answer = json_tensors.classify_response(
        np.array([[b"a", b"b"]], dtype=object), np.array([[0.25, 0.75]], np.float32))
    assert answer == {"results": [[["a", 0.25], ["b", 0.75]]]}
    assert json_tensors.classify_response(None, np.array([[0.5]], np.float32)) == {
        "results": [[["", 0.5]]]}
