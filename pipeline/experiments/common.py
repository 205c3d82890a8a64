"""What every experiment shares: its folders, its pipeline runs and what they recorded.

An experiment is a set of real pipeline runs (LocalDagRunner) under one
``pipeline_root`` and one ML Metadata store, with one pipeline name, so that
ExampleGen, StatisticsGen, SchemaGen and Transform run once and are reused
from the cache by the later runs: every run sees the same splits. Each run
pushes into its own serving folder, ``<output>/serving/<label>``, so any of
the compared models can be served afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from typing import Callable, Dict, List, Optional, Sequence

import tensorflow as tf

from imagepipe.components import reports
from imagepipe.components.evaluation_metrics import balanced_accuracy
from imagepipe.components.settings import DataSettings, EvaluationSettings, TrainingSettings
from imagepipe.pipeline import config as config_lib
from imagepipe.pipeline import results

# Experiments compare models; blessing is not their question: no comparison
# with the latest blessed model (a different model, and a second evaluation),
# every model is blessed and pushed to its own folder.
EXPERIMENT_EVALUATION = EvaluationSettings(min_accuracy=0.0, compare_with_latest_blessed=False)

Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class ExperimentSettings:
    """Where an experiment writes and how its runs execute.

    Attributes:
      output: the experiment's folder: ``pipeline_root/``, ``metadata.sqlite``,
        ``serving/`` and the report in ``report/``. Local.
      beam_pipeline_args: Beam options of the data components.
      enable_cache: reuse unchanged components' results across runs.
      code_fingerprint: hash of the installed code (see ``config.code_fingerprint``).
    """

    output: str
    beam_pipeline_args: tuple = ()
    enable_cache: bool = True
    code_fingerprint: str = ""


@dataclasses.dataclass
class RunRecord:
    """One pipeline run of an experiment and what it produced.

    Attributes:
      label: what distinguishes the run in the experiment (a model name, a
        fraction, a grid cell).
      summary: what ML Metadata recorded (test metrics, training summary...).
      history: the Trainer's per-epoch rows (``history.json``).
      seconds: wall time of the run.
    """

    label: str
    summary: results.RunSummary
    history: List[dict]
    seconds: float

    @property
    def training(self) -> reports.TrainingSummary:
        """What the run's Trainer recorded.

        Raises:
          LookupError: the run recorded no training summary.
        """
        if self.summary.training is None:
            raise LookupError(f"run {self.label} recorded no training summary")
        return self.summary.training

    @property
    def class_names(self) -> List[str]:
        """The class names the Trainer was given, in class id order."""
        return list(self.training.class_names)

    def recall(self, class_name: str) -> Optional[float]:
        return top1_recall(self.summary, self.class_names).get(class_name)

    def balanced_accuracy(self) -> Optional[float]:
        """The mean of the per-class recall on the test split, over the classes that have one."""
        return balanced_accuracy(top1_recall(self.summary, self.class_names))

    def to_json(self) -> dict:
        return {"label": self.label, "run_id": self.summary.run_id, "seconds": self.seconds,
                "balanced_accuracy": self.balanced_accuracy(),
                "summary": json.loads(self.summary.to_json()), "history": self.history}


class Experiment:
    """The folders, the pipeline name and the runs of one experiment."""

    def __init__(self, name: str, settings: ExperimentSettings,
                 progress: Optional[Progress] = None):
        self.name = name
        self.settings = settings
        self.pipeline_name = f"imagepipe-experiment-{name}"
        self._progress = progress or (lambda line: None)

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.settings.output, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.settings.output, "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        return os.path.join(self.settings.output, "serving")

    @property
    def report_dir(self) -> str:
        return os.path.join(self.settings.output, "report")

    def say(self, line: str) -> None:
        """Reports progress (one line) to whoever listens."""
        self._progress(line)

    def config(self, data: DataSettings, training: TrainingSettings,
               label: str) -> config_lib.PipelineConfig:
        """The PipelineConfig of one run of this experiment."""
        return config_lib.PipelineConfig(
            pipeline_name=self.pipeline_name, pipeline_root=self.pipeline_root,
            serving_dir=self.serving_dir, serving_model_name=safe_name(label),
            metadata_path=self.metadata_path, data=data, training=training,
            evaluation=EXPERIMENT_EVALUATION,
            beam_pipeline_args=tuple(self.settings.beam_pipeline_args),
            code_fingerprint=self.settings.code_fingerprint,
            enable_cache=self.settings.enable_cache)

    def run(self, pipeline_config: config_lib.PipelineConfig, label: str) -> RunRecord:
        """Runs one pipeline with LocalDagRunner and reads back what ML Metadata recorded."""
        from imagepipe.pipeline import local_runner  # pylint: disable=g-import-not-at-top
        self.say(f"run {label}: started")
        start = time.monotonic()
        local_runner.run(pipeline_config)
        seconds = time.monotonic() - start
        summary = results.latest_run(self.metadata_path, self.pipeline_name)
        _, outputs = results.node_outputs(self.metadata_path, self.pipeline_name)
        history = read_history(outputs, trainer_id=config_lib.TRAINER_ID)
        record = RunRecord(label, summary, history, seconds)
        self.say(f"run {label}: finished in {seconds:.0f} s, test accuracy "
                 f"{_percent(summary.accuracy)}")
        return record


def safe_name(label: str) -> str:
    """A file-safe version of a run label: ``weights + augmentation`` -> ``weights-augmentation``."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", label).strip("-") or "run"


def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100.0 * value:.2f}%"


def preview_configs(data: DataSettings, trainings: Sequence[TrainingSettings]
                    ) -> List[config_lib.PipelineConfig]:
    """The configs an experiment's runs will have (paths aside), to check before any run."""
    experiment = Experiment("preview", ExperimentSettings(output=os.path.join(os.sep, "preview")))
    return [experiment.config(data, training, training.model_name) for training in trainings]


def read_json(path: str):
    """Reads a JSON file (tf.io.gfile); None when it does not exist."""
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def model_run_dir(outputs: Dict[str, dict], trainer_id: str) -> str:
    """The ``model_run`` folder of Trainer node ``trainer_id`` in a run's outputs.

    Raises:
      LookupError: the run has no such Trainer output.
    """
    try:
        return outputs[trainer_id]["model_run"][0].uri
    except (KeyError, IndexError):
        raise LookupError(f"the run recorded no model_run of {trainer_id}; nodes: "
                          f"{', '.join(sorted(outputs))}") from None


def read_history(outputs: Dict[str, dict], trainer_id: str) -> List[dict]:
    """The per-epoch history rows that Trainer node ``trainer_id`` wrote."""
    path = os.path.join(model_run_dir(outputs, trainer_id), reports.HISTORY_FILE)
    return read_json(path) or []


def read_training_summary(outputs: Dict[str, dict], trainer_id: str) -> reports.TrainingSummary:
    """The training summary that Trainer node ``trainer_id`` wrote."""
    return reports.TrainingSummary.read(
        os.path.join(model_run_dir(outputs, trainer_id), reports.TRAINING_SUMMARY_FILE))


def splits_text(record: RunRecord) -> str:
    """``Splits: train 44100, eval 9450, test 9450 images.`` from the run's ingest report."""
    report = record.summary.ingest_report
    totals = report.split_totals if report else {}
    if not totals:
        return ""
    return "Splits: " + ", ".join(f"{name} {total}" for name, total in totals.items()) \
        + " images."


def top1_recall(summary: results.RunSummary,
                class_names: Sequence[str]) -> Dict[str, Optional[float]]:
    """Per-class recall from the confusion matrix (:func:`results.matrix_recall`).

    The same top-1 numbers as the confusion matrix image and the run summary;
    the summary's recall when the run has no matrix.
    """
    matrix = summary.confusion_matrix
    if not matrix or len(matrix) != len(class_names):
        return {name: summary.recall.get(name) for name in class_names}
    return results.matrix_recall(matrix, class_names)


def recall_columns(class_names: Sequence[str]) -> List[str]:
    """Table headers of per-class recall."""
    return [f"recall {name}" for name in class_names]
