"""Classifications: the TFX component that turns BulkInferrer's predictions into rows per photo.

It reads BulkInferrer's ``inference_result`` (PredictionLogs of the model's
``bulk_inference`` signature, each holding the unlabelled photo's tf.Example it
classified) and the unlabelled ExampleGen's examples (for the files its
``ingest_report.json`` lists as skipped), and writes at the root of its
output, with :func:`imagepipe.data.classification_rows.write_files`:

* ``classifications.csv`` and ``classifications.jsonl``: one row per photo
  (its path below the folder, the predicted class, the probability of each
  class) and one per skipped file (its path and reason), in path order;
* ``classifications.skipped.csv``: the skipped files with their reasons.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Sequence

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from imagepipe.components import features, reports
from imagepipe.components.unlabelled_ingest import report as unlabelled_report
from imagepipe.data import classification_rows

INFERENCE_RESULT_KEY = "inference_result"
EXAMPLES_KEY = "examples"
CLASSIFICATIONS_KEY = "classifications"
CLASS_NAMES_KEY = "class_names"  # JSON list, in class id order
FILE_PREFIX = "classifications"  # classifications.csv, .jsonl, .skipped.csv


class ClassificationsArtifact(types.Artifact):
    """The rows of an unlabelled folder's classification (CSV, JSON Lines, skipped list)."""

    TYPE_NAME = "imagepipe.Classifications"  # namespace.Name: what Vertex specs accept


def row_of(log: prediction_log_pb2.PredictionLog,
           class_names: Sequence[str]) -> classification_rows.Row:
    """The row of one photo's PredictionLog: its path, class and probabilities.

    Raises:
      ValueError: the log is not a ``bulk_inference`` prediction of one example.
    """
    predict = log.predict_log
    inputs = list(predict.request.inputs.values())
    if len(inputs) != 1 or len(inputs[0].string_val) != 1:
        raise ValueError("expected a PredictLog of one serialized tf.Example; was BulkInferrer "
                         "run with the bulk_inference signature?")
    example = tf.train.Example.FromString(inputs[0].string_val[0])
    path = example.features.feature[features.RELATIVE_PATH_KEY].bytes_list.value[0].decode()
    outputs = predict.response.outputs  # tensors of one example, [1, ...]
    class_id = int(tf.make_ndarray(outputs[features.CLASS_IDS_OUTPUT]).reshape(-1)[0])
    probabilities = tf.make_ndarray(outputs[features.PROBABILITIES_OUTPUT]).reshape(-1)
    return classification_rows.Row(path, class_names[class_id],
                                   tuple(float(p) for p in probabilities))


def read_rows(inference_uri: str, class_names: Sequence[str]) -> List[classification_rows.Row]:
    """The rows of every PredictionLog BulkInferrer wrote under ``inference_uri``."""
    files = tf.io.gfile.glob(os.path.join(inference_uri, "prediction_logs*"))
    if not files:
        return []
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [row_of(prediction_log_pb2.PredictionLog.FromString(record.numpy()), class_names)
            for record in records]


def skipped_rows(examples_uri: str) -> List[classification_rows.Row]:
    """The rows of the files the unlabelled ExampleGen skipped, from its ingest report."""
    report = unlabelled_report.UnlabelledIngestReport.read(
        os.path.join(examples_uri, reports.INGEST_REPORT_FILE))
    return [classification_rows.Row(entry.path, skipped=entry.reason, detail=entry.detail)
            for entry in report.skipped_files]


def write(output_uri: str, class_names: Sequence[str], inference_uri: str,
          examples_uri: str) -> List[str]:
    """Writes the rows of the photos and of the skipped files, in path order.

    Returns:
      The three files written.
    """
    rows = sorted(read_rows(inference_uri, class_names) + skipped_rows(examples_uri),
                  key=lambda r: r.path)
    return classification_rows.write_files(os.path.join(output_uri, FILE_PREFIX),
                                           class_names, rows)


class Executor(base_executor.BaseExecutor):
    """Writes the rows; see the module docstring."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        inference = artifact_utils.get_single_instance(input_dict[INFERENCE_RESULT_KEY])
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        output = artifact_utils.get_single_instance(output_dict[CLASSIFICATIONS_KEY])
        tf.io.gfile.makedirs(output.uri)
        write(output.uri, json.loads(exec_properties[CLASS_NAMES_KEY]), inference.uri,
              examples.uri)


class ClassificationsSpec(ComponentSpec):
    """BulkInferrer's result and the unlabelled examples in; the rows out."""

    PARAMETERS = {CLASS_NAMES_KEY: ExecutionParameter(type=str)}
    INPUTS = {INFERENCE_RESULT_KEY: ChannelParameter(type=standard_artifacts.InferenceResult),
              EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {CLASSIFICATIONS_KEY: ChannelParameter(type=ClassificationsArtifact)}


class Classifications(base_component.BaseComponent):
    """Rows per photo of an unlabelled folder, from BulkInferrer's predictions."""

    SPEC_CLASS = ClassificationsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, inference_result: types.BaseChannel, examples: types.BaseChannel,
                 class_names: Sequence[str]):
        """Creates the component.

        Args:
          inference_result: BulkInferrer's ``inference_result``.
          examples: the unlabelled ExampleGen's examples (its ingest report).
          class_names: the model's classes, in class id order.
        """
        super().__init__(spec=ClassificationsSpec(
            inference_result=inference_result, examples=examples,
            class_names=json.dumps(list(class_names)),
            classifications=types.Channel(type=ClassificationsArtifact)))
