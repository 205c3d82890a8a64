"""SpanDrift: the TFX component that describes every span and checks the newest for drift.

It reads the folder ExampleGen's examples (the window of spans), computes
TFDV statistics per span (:mod:`imagepipe.components.span_statistics`) and
compares the newest span with the previous one (:mod:`imagepipe.components.drift`).
Its two outputs, like StatisticsGen's and ExampleValidator's:

* ``statistics`` (ExampleStatistics): one "split" per span,
  ``Split-span-N/FeatureStats.pb``, and ``span_statistics.json``;
* ``drift`` (ExampleAnomalies): ``drift_report.json`` and ``drift_report.html``,
  TFDV's anomalies of the newest span in ``Split-span-N/SchemaDiff.pb``, and
  the custom property ``drifted`` (1: a measure passed the threshold), which
  the Pusher reads as it reads the Evaluator's blessing.

The component holds nothing back itself: whether drift holds the push is the
Pusher's decision (its ``accept_drift`` property), so accepting drift reruns
the Pusher only.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import writer_utils

from imagepipe.components import drift, drift_page, span_statistics

EXAMPLES_KEY = "examples"
STATISTICS_KEY = "statistics"
DRIFT_KEY = "drift"
THRESHOLD_KEY = "threshold"
DRIFTED_PROPERTY = "drifted"  # 1: a measure passed the threshold
ANOMALIES_FILE = "SchemaDiff.pb"  # TFX's file name under Split-<name>/


class Executor(base_executor.BaseExecutor):
    """Statistics per span, then the newest span against the previous one."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        statistics = artifact_utils.get_single_instance(output_dict[STATISTICS_KEY])
        anomalies = artifact_utils.get_single_instance(output_dict[DRIFT_KEY])
        threshold = float(exec_properties[THRESHOLD_KEY])
        rows = span_statistics.measured_rows(
            examples.uri, artifact_utils.decode_split_names(examples.split_names))
        if not rows:
            raise ValueError(f"the examples at {examples.uri} hold no photo to describe")
        by_span = {span: span_statistics.statistics(span_rows, span_statistics.split_name(span))
                   for span, span_rows in rows.items()}
        summary = span_statistics.write(statistics.uri, by_span)
        statistics.split_names = artifact_utils.encode_split_names(
            [span_statistics.split_name(span) for span in by_span])
        report = drift.between_latest_spans(by_span, threshold)
        self._write_drift(anomalies, report, summary, by_span, threshold)
        logging.info("SpanDrift: %s", "; ".join(report.summary_lines()))

    @staticmethod
    def _write_drift(artifact: types.Artifact, report: drift.DriftReport,
                     summary: span_statistics.SpanStatisticsReport, by_span: Dict[int, Any],
                     threshold: float) -> None:
        report.write(os.path.join(artifact.uri, drift.REPORT_FILE))
        with tf.io.gfile.GFile(os.path.join(artifact.uri, drift_page.HTML_FILE), "w") as f:
            f.write(drift_page.html(report, summary))
        newest = span_statistics.split_name(report.newest_span)
        artifact.split_names = artifact_utils.encode_split_names([newest])
        if report.previous_span is not None:
            found = drift.validated(by_span[report.previous_span], by_span[report.newest_span],
                                    threshold)
            writer_utils.write_anomalies(
                os.path.join(artifact.uri, f"Split-{newest}", ANOMALIES_FILE), found)
        artifact.set_int_custom_property(DRIFTED_PROPERTY, int(report.drifted))


class SpanDriftSpec(ComponentSpec):
    """The examples in; per-span statistics and the drift report out; the threshold."""

    PARAMETERS = {THRESHOLD_KEY: ExecutionParameter(type=float)}
    INPUTS = {EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
               DRIFT_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies)}


class SpanDrift(base_component.BaseComponent):
    """Statistics per span and drift of the newest span against the previous one."""

    SPEC_CLASS = SpanDriftSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, threshold: float = drift.DEFAULT_THRESHOLD):
        """Creates the component.

        Args:
          examples: a photo folder's examples (the folder ExampleGen's).
          threshold: the largest L-infinity distance of the class mix and
            Jensen-Shannon divergence of a measure that is not drift, in [0, 1].
        """
        spec = SpanDriftSpec(
            examples=examples, threshold=float(threshold),
            statistics=types.Channel(type=standard_artifacts.ExampleStatistics),
            drift=types.Channel(type=standard_artifacts.ExampleAnomalies))
        super().__init__(spec=spec)
