"""The model card the Pusher writes beside a version: the run's records read from its inputs.

The Pusher (:mod:`imagepipe.components.pusher`) takes, besides the model and
its blessing, the ExampleGen's Examples (``ingest_report.json``), the
Trainer's ModelRun (``training_summary.json``, ``history.json``), the Evaluator's
ModelEvaluation and SpanDrift's drift report; each is optional, and a record
that cannot be read is said to be missing in the card rather than holding the
push back.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Dict, List, Optional, Union

import tensorflow as tf
from absl import logging
from tfx import types

from imagepipe.components import card_render, drift, evaluation_metrics, model_card, reports

EXAMPLES_KEY = "examples"
MODEL_RUN_KEY = "model_run"
EVALUATION_KEY = "evaluation"
DRIFT_KEY = "drift"


def _uri(input_dict: Dict[str, List[types.Artifact]], key: str) -> Optional[str]:
    artifacts = input_dict.get(key) or []
    return artifacts[0].uri if artifacts else None


def _read(what: str, read: Callable[[], object]) -> Optional[object]:
    try:
        return read()
    except Exception as error:  # pylint: disable=broad-except  (a card never blocks a push)
        logging.warning("Model card: the %s cannot be read (%s); the card says so.", what, error)
        return None


def read_history(path: str) -> List[Dict[str, float]]:
    """The Trainer's rows per epoch (``history.json``): a list of objects with an ``epoch``."""
    with tf.io.gfile.GFile(path) as f:
        rows = json.load(f)
    if not isinstance(rows, list) or not all(isinstance(row, dict) and "epoch" in row
                                             for row in rows):
        raise ValueError(f"{path} is not a list of epoch rows")
    return rows


def run_records(input_dict: Dict[str, List[types.Artifact]]) -> model_card.RunRecords:
    """The ingest report, training summary and history, evaluation and drift report among the
    Pusher's inputs."""
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    examples, model_run = _uri(input_dict, EXAMPLES_KEY), _uri(input_dict, MODEL_RUN_KEY)
    evaluation = _uri(input_dict, EVALUATION_KEY)
    ingest = examples and _read("ingest report", lambda: sources.read_ingest_report(
        os.path.join(examples, reports.INGEST_REPORT_FILE)))
    training = model_run and _read("training summary", lambda: reports.TrainingSummary.read(
        os.path.join(model_run, reports.TRAINING_SUMMARY_FILE)))
    history = model_run and _read("training history", lambda: read_history(
        os.path.join(model_run, reports.HISTORY_FILE)))
    metrics = None
    if evaluation and training:
        metrics = _read("evaluation", lambda: evaluation_metrics.read(
            evaluation, training.class_names))
    drift_uri = _uri(input_dict, DRIFT_KEY)
    report = drift_uri and _read("drift report", lambda: drift.read_report(drift_uri))
    return model_card.RunRecords(ingest or None, training or None, metrics,
                                 _uri(input_dict, "model") or "", report or None,
                                 history or None)


def card_files(input_dict: Dict[str, List[types.Artifact]],
               name: str) -> Callable[[str], Dict[str, Union[str, bytes]]]:
    """Version -> the card's files (``model_card.md``, ``.html``, ``.json``, its PNGs) for
    ``publish``."""
    records = run_records(input_dict)
    return lambda version: card_render.card_files(model_card.build(name, version, records))
