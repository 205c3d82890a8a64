"""Typed, frozen configuration of an imagepipe pipeline run.

``create_pipeline`` is a pure function of a :class:`PipelineConfig`. Runners
and the CLI build the config; nothing downstream reads flags or environment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Mapping, Optional, Tuple, Union

from imagepipe.components.features import PHOTO_IMAGE_SIZE
from imagepipe.components.model_options import ModelOptions
from imagepipe.data.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE

DEFAULT_SEED = 1001
DEFAULT_SPLITS: Tuple[Tuple[str, int], ...] = (("train", 14), ("eval", 3), ("test", 3))
SOURCES = ("idx", "tfds")
BALANCE_MODES = ("oversample", "class_weight", "none")  # see components/trainer/balance.py


def check_splits(splits: Tuple[Tuple[str, int], ...]) -> None:
    """Raises ValueError unless ``splits`` has train, eval and test with positive sizes."""
    names = [name for name, _ in splits]
    for required in ("train", "eval", "test"):
        if required not in names:
            raise ValueError(f"splits must include {required!r}, got {names}")
    for name, size in splits:
        if size < 1:
            raise ValueError(f"split {name!r} needs a positive relative size, got {size}")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the Fashion-MNIST data comes from and how it is split.

    Attributes:
      source: ``idx`` (the canonical IDX files in ``data_dir``) or ``tfds``.
      data_dir: the IDX files' folder (``idx``) or the TFDS data dir (``tfds``,
        empty for TFDS's default). Local or ``gs://``.
      splits: (split name, relative size) pairs; 70/15/15 by default.
      split_seed: seed of the split permutation.
    """

    source: str = "idx"
    data_dir: str = ""
    splits: Tuple[Tuple[str, int], ...] = DEFAULT_SPLITS
    split_seed: int = DEFAULT_SEED

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"unknown data source {self.source!r}; known: {', '.join(SOURCES)}")
        if self.source == "idx" and not self.data_dir:
            raise ValueError("the idx source needs data_dir, the folder of the four IDX files")
        check_splits(self.splits)

    @property
    def split_ratios(self) -> Mapping[str, int]:
        return dict(self.splits)


FOLDER_SOURCE = "folder"
RESIZE_MODES = ("pad", "crop")  # see components/photo_preprocessing.py


@dataclasses.dataclass(frozen=True)
class FolderDataConfig:
    """A photo folder: where it is, its classes, and how its photos become model inputs.

    Attributes:
      data_dir: the photo folder, local or ``gs://``.
      class_map: (class name, (sub-folder, ...)) pairs in class id order; the
        CLI builds it from the sub-folders or from a class map file
        (``imagepipe.data.class_map``), so the pipeline never lists folders.
      splits: (split name, relative size) pairs; 70/15/15 by default.
      split_seed: seed of the stratified split.
      max_pixels: images with more pixels are skipped as decompression bombs.
      max_side: longer side of the normalised copy stored for Transform;
        at least ``image_size``.
      image_size: the model input is ``image_size`` x ``image_size`` x 3.
      resize_mode: ``pad`` (keep the whole photo, black borders) or ``crop``
        (centre crop).
      source: always ``folder``.
    """

    data_dir: str
    class_map: Tuple[Tuple[str, Tuple[str, ...]], ...]
    splits: Tuple[Tuple[str, int], ...] = DEFAULT_SPLITS
    split_seed: int = DEFAULT_SEED
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    image_size: int = PHOTO_IMAGE_SIZE
    resize_mode: str = "pad"
    source: str = FOLDER_SOURCE

    def __post_init__(self):
        if self.source != FOLDER_SOURCE:
            raise ValueError(f"FolderDataConfig.source is always {FOLDER_SOURCE!r}")
        if not self.data_dir:
            raise ValueError("the folder source needs data_dir, the photo folder")
        if len(self.class_map) < 2:
            raise ValueError(f"a classifier needs at least 2 classes, the class map has "
                             f"{len(self.class_map)}")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"unknown resize mode {self.resize_mode!r}; known: "
                             f"{', '.join(RESIZE_MODES)}")
        if self.image_size < 8:
            raise ValueError(f"image_size must be at least 8, got {self.image_size}")
        if self.max_side < self.image_size:
            raise ValueError(f"max_side ({self.max_side}) must be at least image_size "
                             f"({self.image_size}): the stored copy would be upscaled")
        if self.max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, got {self.max_pixels}")
        check_splits(self.splits)

    @property
    def split_ratios(self) -> Mapping[str, int]:
        return dict(self.splits)

    @property
    def class_names(self) -> Tuple[str, ...]:
        """The class names, in class id order."""
        return tuple(name for name, _ in self.class_map)


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """Model and training settings.

    Attributes:
      model_name: a registered architecture (``imagepipe models`` lists them).
      epochs: maximum number of epochs; early stopping may end sooner.
      batch_size: training batch size.
      learning_rate: Adam's learning rate.
      early_stopping_patience: epochs without a better validation loss before
        stopping (the best weights are restored).
      balance: how the training split is balanced: ``oversample`` (augmented
        copies top up the smaller classes every epoch), ``class_weight`` (loss
        weights from the measured counts) or ``none``.
      model_options: weights, augmentation, input size, dropout, width...
        (:class:`ModelOptions`); each architecture reads those it takes.
      fine_tune_epochs: epochs of a second phase that unfreezes the top of a
        pretrained base (ResNet50 with weights); 0: no such phase.
      fine_tune_learning_rate: Adam's learning rate in that phase.
      early_stopping: False trains every epoch and keeps the last weights.
      train_fraction: seeded, stratified share of the training split used.
      photo_augmentation: share of the training images rendered as photos and
        normalized back each epoch (Fashion-MNIST; see components/augment.py).
    """

    model_name: str = "arch5"
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    early_stopping_patience: int = 2
    balance: str = "oversample"
    model_options: ModelOptions = ModelOptions()
    fine_tune_epochs: int = 0
    fine_tune_learning_rate: float = 1e-5
    early_stopping: bool = True
    train_fraction: float = 1.0
    photo_augmentation: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.photo_augmentation <= 1.0:
            raise ValueError(f"photo_augmentation must be in [0, 1], "
                             f"got {self.photo_augmentation}")
        if not 0.0 < self.train_fraction <= 1.0:
            raise ValueError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.fine_tune_epochs < 0:
            raise ValueError(f"fine_tune_epochs must be >= 0, got {self.fine_tune_epochs}")
        if self.balance not in BALANCE_MODES:
            raise ValueError(f"unknown balance mode {self.balance!r}; "
                             f"known: {', '.join(BALANCE_MODES)}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Blessing rules.

    Attributes:
      min_accuracy: test accuracy a model must exceed to be blessed.
      max_accuracy_drop: how much worse than the latest blessed model a new
        one may be (0: no worse).
      compare_with_latest_blessed: evaluate the latest blessed model beside
        the new one and apply ``max_accuracy_drop``; False (experiments, whose
        runs compare different models) judges on ``min_accuracy`` alone and
        evaluates one model only.
    """

    min_accuracy: float = 0.98
    max_accuracy_drop: float = 0.0
    compare_with_latest_blessed: bool = True


@dataclasses.dataclass(frozen=True)
class TunerConfig:
    """The optional TFX Tuner: KerasTuner over learning rate, dropout and width.

    Its best hyperparameters feed the Trainer (see components/trainer/tuning.py).

    Attributes:
      max_trials: hyperparameter sets tried.
      trial_epochs: epochs per trial.
    """

    max_trials: int = 6
    trial_epochs: int = 2

    def __post_init__(self):
        if self.max_trials < 1 or self.trial_epochs < 1:
            raise ValueError(f"the tuner needs max_trials >= 1 and trial_epochs >= 1, got "
                             f"{self.max_trials} and {self.trial_epochs}")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything ``create_pipeline`` needs.

    Attributes:
      pipeline_name: name in ML Metadata and in the orchestrator.
      pipeline_root: where artifacts are written (local or ``gs://``).
      serving_dir: blessed models go to ``<serving_dir>/<model_name>/<version>/``.
      serving_model_name: the model name under ``serving_dir``.
      metadata_path: SQLite ML Metadata file for local runs; None when the
        orchestrator provides ML Metadata (Kubeflow, Vertex).
      data: data source and splits: Fashion-MNIST (:class:`DataConfig`) or a photo
        folder (:class:`FolderDataConfig`).
      trainer: model and training settings.
      evaluation: blessing rules.
      beam_pipeline_args: Beam options for the data components.
      code_fingerprint: hash of the installed imagepipe code, so that a code
        change invalidates cached results.
      enable_cache: reuse the results of unchanged components.
      tuner: run the TFX Tuner before the Trainer (None: no tuning).
      runtime_parameters: expose epochs, model name, balancing mode and the
        accuracy bound as pipeline runtime parameters (their defaults: the
        values above), for orchestrators that take parameters per run
        (Kubeflow Pipelines, Vertex AI); local runs leave it off.
    """

    pipeline_name: str
    pipeline_root: str
    serving_dir: str
    data: Union[DataConfig, FolderDataConfig]
    serving_model_name: str = "fashion_mnist"
    metadata_path: Optional[str] = None
    trainer: TrainerConfig = TrainerConfig()
    evaluation: EvalConfig = EvalConfig()
    beam_pipeline_args: Tuple[str, ...] = ()
    code_fingerprint: str = ""
    enable_cache: bool = True
    runtime_parameters: bool = False
    tuner: Optional[TunerConfig] = None


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
