"""Reads what a local pipeline run produced from ML Metadata and its artifacts."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Optional, Tuple

import tensorflow as tf
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from imagepipe.components import (card_render, evaluation_metrics, features, pusher, reports,
                                  sources, span_drift)
from imagepipe.components.drift import DriftReport, read_report as read_drift_report
from imagepipe.components.drift_page import HTML_FILE as DRIFT_PAGE_FILE
# The per-class figures of a confusion matrix; experiments and photo_eval read them from here.
from imagepipe.components.evaluation_metrics import matrix_precision, matrix_recall  # noqa: F401
from imagepipe.components.classifications import CLASSIFICATIONS_KEY, FILE_PREFIX
from imagepipe.pipeline.config import CLASSIFICATIONS_ID, DRIFT_ID, EXAMPLE_GEN_ID, TRAINER_ID

_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
_CACHED = metadata_store_pb2.Execution.CACHED


@dataclasses.dataclass
class RunSummary:
    """What a pipeline run achieved."""

    run_id: str
    components: Dict[str, str]  # node id -> COMPLETE / CACHED / FAILED ...
    accuracy: Optional[float] = None
    example_count: Optional[int] = None
    # Per class, from the confusion matrix (None: no test image of it / never predicted).
    recall: Dict[str, Optional[float]] = dataclasses.field(default_factory=dict)
    precision: Dict[str, Optional[float]] = dataclasses.field(default_factory=dict)
    confusion_matrix: List[List[int]] = dataclasses.field(default_factory=list)
    blessed: Optional[bool] = None
    pushed: Optional[bool] = None
    pushed_destination: Optional[str] = None
    model_card: Optional[str] = None  # the pushed version's model_card.md, when it has one
    model_uri: Optional[str] = None
    ingest_report: Optional[reports.IngestReport] = None
    ingest_report_path: Optional[str] = None
    spans: Optional[str] = None  # the spans ingested, e.g. "1,2" (photo folders only)
    spans_from_cache: Optional[str] = None  # those of them read from the span cache, e.g. "1"
    training: Optional[reports.TrainingSummary] = None
    drift: Optional[DriftReport] = None  # the newest span against the previous one
    drift_page: Optional[str] = None  # its drift_report.html
    push_held: Optional[str] = None  # why drift held a blessed model back
    drift_accepted: Optional[str] = None  # the drift a push accepted (--accept-drift)
    # --classify DIR: the rows' files without their suffix (.csv, .jsonl, .skipped.csv)
    classifications: Optional[str] = None
    class_names: List[str] = dataclasses.field(
        default_factory=lambda: list(features.SUPER_CLASS_NAMES))

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        for name in ("ingest_report", "training", "drift"):
            record = getattr(self, name)
            values[name] = record.to_dict() if record is not None else None
        return json.dumps(values, indent=2, sort_keys=True)


def _store(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def _outputs(store, execution_id: int) -> Dict[str, List[metadata_store_pb2.Artifact]]:
    events = [e for e in store.get_events_by_execution_ids([execution_id])
              if e.type in _OUTPUT_EVENTS]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    outputs: Dict[str, List[metadata_store_pb2.Artifact]] = {}
    for event in events:
        key = event.path.steps[0].key if event.path.steps else ""
        outputs.setdefault(key, []).append(artifacts[event.artifact_id])
    return outputs


def _int_property(artifact: metadata_store_pb2.Artifact, name: str) -> Optional[int]:
    if name in artifact.custom_properties:
        return int(artifact.custom_properties[name].int_value)
    return None


def _latest_run_executions(store, pipeline_name: str, metadata_path: str
                           ) -> Tuple[str, Dict[str, metadata_store_pb2.Execution]]:
    """The latest run of ``pipeline_name``: its id and its executions by node id."""
    runs = [c for c in store.get_contexts_by_type("pipeline_run")]
    pipeline_executions = {e.id for e in store.get_executions_by_context(
        store.get_context_by_type_and_name("pipeline", pipeline_name).id)}
    runs = [c for c in runs
            if {e.id for e in store.get_executions_by_context(c.id)} & pipeline_executions]
    if not runs:
        raise LookupError(f"no run of pipeline {pipeline_name!r} in {metadata_path}")
    run = max(runs, key=lambda c: c.create_time_since_epoch)
    executions = store.get_executions_by_context(run.id)
    by_node: Dict[str, metadata_store_pb2.Execution] = {}
    for execution in executions:
        node = execution.type.split(".")[-1]
        for context in store.get_contexts_by_execution(execution.id):
            if context.type == "node" or context.name.startswith(pipeline_name + "."):
                node = context.name.split(".", 1)[-1]
        by_node[node] = execution
    return run.name, by_node


def node_outputs(metadata_path: str, pipeline_name: str
                 ) -> Tuple[str, Dict[str, Dict[str, List[metadata_store_pb2.Artifact]]]]:
    """The latest run of ``pipeline_name``: its id and, per node id, its output artifacts by key.

    For runs with several nodes of a kind (the folds of cross-validation:
    ``Trainer_fold0``, ``Evaluator_fold0``...), whose outputs a
    :class:`RunSummary` does not hold.
    """
    store = _store(metadata_path)
    run_id, by_node = _latest_run_executions(store, pipeline_name, metadata_path)
    return run_id, {node: _outputs(store, e.id) for node, e in by_node.items()}


def read_evaluation(summary: RunSummary, evaluation_uri: str) -> RunSummary:
    """Fills in accuracy, confusion matrix, and the recall and precision it gives, from an
    Evaluator output."""
    _fill_metrics(summary, evaluation_uri)
    return summary


def latest_run(metadata_path: str, pipeline_name: str) -> RunSummary:
    """Summarizes the latest run of ``pipeline_name`` recorded in ``metadata_path``."""
    store = _store(metadata_path)
    run_id, by_node = _latest_run_executions(store, pipeline_name, metadata_path)
    summary = RunSummary(run_id=run_id, components={
        node: metadata_store_pb2.Execution.State.Name(e.last_known_state)
        for node, e in by_node.items()})
    _fill(summary, store, by_node)
    return summary


def _fill(summary: RunSummary, store, by_node: Dict[str, metadata_store_pb2.Execution]) -> None:
    outputs = {node: _outputs(store, e.id) for node, e in by_node.items()}
    examples = outputs.get(EXAMPLE_GEN_ID, {}).get("examples")
    if examples:
        path = os.path.join(examples[0].uri, reports.INGEST_REPORT_FILE)
        if "spans" in examples[0].custom_properties:
            summary.spans = examples[0].custom_properties["spans"].string_value
        if "spans_from_cache" in examples[0].custom_properties:
            summary.spans_from_cache = (
                examples[0].custom_properties["spans_from_cache"].string_value)
        if tf.io.gfile.exists(path):
            summary.ingest_report = sources.read_ingest_report(path)
            summary.ingest_report_path = path
    _fill_drift(summary, outputs.get(DRIFT_ID, {}).get(span_drift.DRIFT_KEY))
    rows = outputs.get(CLASSIFICATIONS_ID, {}).get(CLASSIFICATIONS_KEY)
    if rows:
        summary.classifications = os.path.join(rows[0].uri, FILE_PREFIX)
    trainer = outputs.get(TRAINER_ID, {})
    if trainer.get("model_run"):
        path = os.path.join(trainer["model_run"][0].uri, reports.TRAINING_SUMMARY_FILE)
        if tf.io.gfile.exists(path):
            summary.training = reports.TrainingSummary.read(path)
            summary.class_names = list(summary.training.class_names)
    if trainer.get("model"):
        summary.model_uri = trainer["model"][0].uri
    for artifacts in outputs.values():
        if "blessing" in artifacts:
            summary.blessed = _int_property(artifacts["blessing"][0], "blessed") == 1
        if "evaluation" in artifacts:
            _fill_metrics(summary, artifacts["evaluation"][0].uri)
        if "pushed_model" in artifacts:
            pushed = artifacts["pushed_model"][0]
            summary.pushed = _int_property(pushed, "pushed") == 1
            summary.push_held = _string_property(pushed, pusher.HELD_PROPERTY)
            summary.drift_accepted = _string_property(pushed, pusher.ACCEPTED_PROPERTY)
            if summary.pushed:
                summary.pushed_destination = pushed.custom_properties[
                    "pushed_destination"].string_value
                card = os.path.join(summary.pushed_destination, card_render.MARKDOWN_FILE)
                summary.model_card = card if tf.io.gfile.exists(card) else None


def _string_property(artifact: metadata_store_pb2.Artifact, name: str) -> Optional[str]:
    if name in artifact.custom_properties:
        return artifact.custom_properties[name].string_value
    return None


def _fill_drift(summary: RunSummary, artifacts: Optional[List[metadata_store_pb2.Artifact]]
                ) -> None:
    if not artifacts:
        return
    summary.drift = read_drift_report(artifacts[0].uri)
    summary.drift_page = os.path.join(artifacts[0].uri, DRIFT_PAGE_FILE)


def _fill_metrics(summary: RunSummary, evaluation_uri: str) -> None:
    metrics = evaluation_metrics.read(evaluation_uri, summary.class_names)
    summary.accuracy, summary.example_count = metrics.accuracy, metrics.example_count
    if metrics.confusion_matrix:
        summary.confusion_matrix = metrics.confusion_matrix
        summary.recall, summary.precision = metrics.recall, metrics.precision
