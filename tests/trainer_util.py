"""Runs the real Trainer executor (ParameterizedTrainer's) on a finished pipeline run's artifacts."""

from __future__ import annotations

import glob
import json
import os
from typing import Any, Dict, Optional

from tfx import types
from tfx.proto import trainer_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import proto_utils

from imagepipe.components import parameterized, reports
from imagepipe.components.settings import TrainerCustomConfig, TrainingSettings
from imagepipe.pipeline import pipeline


def _latest(pattern: str) -> str:
    matches = sorted(glob.glob(pattern), key=os.path.getmtime)
    assert matches, pattern
    return matches[-1]


def _artifact(kind, uri: str, splits=None) -> types.Artifact:
    artifact = kind()
    artifact.uri = uri
    if splits:
        artifact.split_names = artifact_utils.encode_split_names(list(splits))
    return artifact


def inputs(pipeline_root: str) -> Dict[str, list]:
    """The Trainer's inputs of the last run under ``pipeline_root``."""
    return {
        "examples": [_artifact(standard_artifacts.Examples, _latest(os.path.join(
            pipeline_root, "ExampleGen", "examples", "*")),
            ["train", "eval", "test"])],
        "transform_graph": [_artifact(standard_artifacts.TransformGraph, _latest(os.path.join(
            pipeline_root, "Transform", "transform_graph", "*")))],
        "schema": [_artifact(standard_artifacts.Schema, _latest(os.path.join(
            pipeline_root, "SchemaGen", "schema", "*")))],
    }


class Trained:
    """What one Trainer run wrote: its summary, history and exported model folder."""

    def __init__(self, model_dir: str, run_dir: str):
        self.model_dir = model_dir
        self.run_dir = run_dir
        self.summary = reports.TrainingSummary.read(
            os.path.join(run_dir, reports.TRAINING_SUMMARY_FILE))
        with open(os.path.join(run_dir, reports.HISTORY_FILE)) as f:
            self.history = json.load(f)

    @property
    def serving_model_dir(self) -> str:
        return os.path.join(self.model_dir, "Format-Serving")


def custom_config(settings: TrainingSettings) -> Dict[str, Any]:
    """The custom_config create_pipeline gives the Trainer (the lifted settings taken out)."""
    return parameterized.without_properties(
        TrainerCustomConfig(training=settings, code_fingerprint="test").to_dict())


def train(pipeline_root: str, output: str, settings: TrainingSettings,
          config: Optional[Dict[str, Any]] = None) -> Trained:
    """Runs the Trainer executor with ``settings`` (or a raw ``config``) into ``output``."""
    model_dir, run_dir = os.path.join(output, "model"), os.path.join(output, "model_run")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(run_dir, exist_ok=True)
    exec_properties = {
        "run_fn": pipeline.RUN_FN,
        "train_args": proto_utils.proto_to_json(trainer_pb2.TrainArgs(splits=["train"])),
        "eval_args": proto_utils.proto_to_json(trainer_pb2.EvalArgs(splits=["eval"])),
        "custom_config": json.dumps(custom_config(settings) if config is None else config),
        **{name: getattr(settings, name) for name in parameterized.TRAINER_PROPERTIES},
    }
    outputs = {"model": [_artifact(standard_artifacts.Model, model_dir)],
               "model_run": [_artifact(standard_artifacts.ModelRun, run_dir)]}
    parameterized.TrainerExecutor().Do(inputs(pipeline_root), outputs, exec_properties)
    return Trained(model_dir, run_dir)
