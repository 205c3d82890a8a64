"""Typed, frozen configuration of an imagepipe pipeline run.

``create_pipeline`` is a pure function of a :class:`PipelineConfig`: where the
run writes, plus the settings of ``imagepipe.components.settings`` (data,
training, tuning, evaluation), the one model of every user option. Runners and
the CLI build the config; nothing downstream reads flags or environment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Optional, Tuple

from imagepipe.components.settings import (DataSettings, EvaluationSettings, TrainingSettings,
                                           TuningSettings)

# The pipeline's node ids: what ML Metadata, the compiled specs and the readers of a run
# (results, experiments) know the components by, whatever the data source.
EXAMPLE_GEN_ID = "ExampleGen"
TRANSFORM_ID = "Transform"
TUNER_ID = "Tuner"
TRAINER_ID = "Trainer"
EVALUATOR_ID = "Evaluator"
PUSHER_ID = "Pusher"
RESOLVER_ID = "latest_blessed_model_resolver"
DRIFT_ID = "SpanDrift"
UNLABELLED_GEN_ID = "UnlabelledExampleGen"  # --classify DIR: the unlabelled folder's photos
BULK_INFERRER_ID = "BulkInferrer"
CLASSIFICATIONS_ID = "Classifications"


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything ``create_pipeline`` needs.

    Attributes:
      pipeline_name: name in ML Metadata and in the orchestrator.
      pipeline_root: where artifacts are written (local or ``gs://``).
      serving_dir: blessed models go to ``<serving_dir>/<model_name>/<version>/``.
      data: the data source's settings (a registered source's settings class).
      serving_model_name: the model name under ``serving_dir``.
      metadata_path: SQLite ML Metadata file for local runs; None when the
        orchestrator provides ML Metadata (Kubeflow, Vertex).
      training: model and training settings (``class_names`` empty: the
        source's).
      evaluation: blessing rules.
      tuning: run the TFX Tuner before the Trainer with these settings (None:
        no tuning).
      beam_pipeline_args: Beam options for the data components.
      code_fingerprint: hash of the installed imagepipe code, so that a code
        change invalidates cached results.
      enable_cache: reuse the results of unchanged components.
      runtime_parameters: expose the settings marked ``runtime`` (epochs,
        model, balance, min accuracy) as pipeline runtime parameters whose
        defaults are the values above, for orchestrators that take parameters
        per run (Kubeflow Pipelines, Vertex AI); local runs leave it off.
    """

    pipeline_name: str
    pipeline_root: str
    serving_dir: str
    data: DataSettings
    serving_model_name: str = "fashion_mnist"
    metadata_path: Optional[str] = None
    training: TrainingSettings = dataclasses.field(default_factory=TrainingSettings)
    evaluation: EvaluationSettings = dataclasses.field(default_factory=EvaluationSettings)
    tuning: Optional[TuningSettings] = None
    beam_pipeline_args: Tuple[str, ...] = ()
    code_fingerprint: str = ""
    enable_cache: bool = True
    runtime_parameters: bool = False

    def replace(self, **changes) -> "PipelineConfig":
        return dataclasses.replace(self, **changes)


def code_fingerprint() -> str:
    """Returns a short hash of the installed imagepipe source files."""
    import imagepipe.components  # pylint: disable=g-import-not-at-top
    import imagepipe.data  # pylint: disable=g-import-not-at-top
    digest = hashlib.sha256()
    for package in (imagepipe.components, imagepipe.data):
        root = os.path.dirname(package.__file__)
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), "rb") as f:
                        digest.update(name.encode() + f.read())
    return digest.hexdigest()[:16]
