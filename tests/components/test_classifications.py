"""The Classifications component: BulkInferrer's PredictionLogs and the skipped files as rows."""

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
from tfx import types
from tfx.types import standard_artifacts

from imagepipe.components import classifications, features, reports
from imagepipe.components.unlabelled_ingest import listing
from imagepipe.components.unlabelled_ingest import report as report_lib
from imagepipe.data import folder_walk

NAMES = ["upper", "lower", "shoes"]
PREDICTED = {"b/2.png": (0.1, 0.2, 0.7), "a/1.png": (0.6, 0.3, 0.1)}


def _log(path, probabilities):
    """A PredictionLog as tfx_bsl's RunInference writes it for one example."""
    photo = listing.Photo(path, "/nowhere/" + path, 3, "hash")
    log = prediction_log_pb2.PredictionLog()
    predict = log.predict_log
    predict.request.inputs["examples"].CopyFrom(tf.make_tensor_proto(
        [listing.make_example(photo, b"png").SerializeToString()], shape=[1]))
    values = np.asarray([probabilities], np.float32)
    predict.response.outputs[features.PROBABILITIES_OUTPUT].CopyFrom(tf.make_tensor_proto(values))
    predict.response.outputs[features.CLASS_IDS_OUTPUT].CopyFrom(tf.make_tensor_proto(
        np.asarray([values.argmax()], np.int64)))
    return log


@pytest.fixture()
def artifacts(tmp_path):
    inference, examples = standard_artifacts.InferenceResult(), standard_artifacts.Examples()
    output = classifications.ClassificationsArtifact()
    for artifact, name in ((inference, "inference"), (examples, "examples"), (output, "rows")):
        artifact.uri = str(tmp_path / name)
        os.makedirs(artifact.uri, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(inference.uri, "prediction_logs-00000-of-00001.gz"),
                              "GZIP") as writer:
        for path, probabilities in PREDICTED.items():
            writer.write(_log(path, probabilities).SerializeToString())
    skipped = folder_walk.Skipped("broken.jpg", "not_an_image", "cannot identify image file")
    report_lib.UnlabelledIngestReport.from_listing(
        "/photos", listing.Listing(seen=3, photos=(), skipped=(skipped,))).write(
        os.path.join(examples.uri, reports.INGEST_REPORT_FILE))
    return inference, examples, output


def test_one_row_per_photo_and_per_skipped_file_in_path_order(artifacts):
    inference, examples, output = artifacts
    classifications.Executor().Do(
        {"inference_result": [inference], "examples": [examples]},
        {"classifications": [output]}, {"class_names": json.dumps(NAMES)})

    prefix = os.path.join(output.uri, classifications.FILE_PREFIX)
    with open(prefix + ".jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert [row["path"] for row in rows] == ["a/1.png", "b/2.png", "broken.jpg"]
    assert rows[0]["class"] == "upper" and rows[1]["class"] == "shoes"
    for row in rows[:2]:
        assert list(row["probabilities"]) == NAMES
        assert sum(row["probabilities"].values()) == pytest.approx(1.0)
        assert tuple(row["probabilities"].values()) == pytest.approx(PREDICTED[row["path"]])
    assert rows[2] == {"path": "broken.jpg", "skipped": "not_an_image",
                       "detail": "cannot identify image file"}
    with open(prefix + ".csv", encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["path", "class", "p_upper", "p_lower", "p_shoes", "skipped"]
    assert len(table) == 4
    with open(prefix + ".skipped.csv", encoding="utf-8", newline="") as f:
        assert [line[0] for line in csv.reader(f)] == ["path", "broken.jpg"]


def test_a_log_of_another_signature_is_a_clear_error():
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([b"a", b"b"]))
    with pytest.raises(ValueError, match="bulk_inference"):
        classifications.row_of(log, NAMES)


def test_the_component_takes_bulk_inferrers_result_and_the_unlabelled_examples():
    built = classifications.Classifications(
        types.Channel(type=standard_artifacts.InferenceResult),
        types.Channel(type=standard_artifacts.Examples), NAMES)
    assert json.loads(built.exec_properties["class_names"]) == NAMES
    assert built.outputs["classifications"].type is classifications.ClassificationsArtifact
