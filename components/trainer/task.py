"""The Trainer's ``run_fn``: a thin orchestrator.

dataset -> ``models.build(name, ...)`` -> fit with early stopping
[-> fine-tuning phase: unfreeze the top of a pretrained base, fit again at a
lower learning rate] -> export.
Referenced by the pipeline as ``imagepipe.components.trainer.task.run_fn``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imagepipe.components import features, models
from imagepipe.components.trainer import balance as balance_lib
from imagepipe.components.trainer import data, export, subset

HISTORY_FILE = "history.json"
TRAINING_SUMMARY_FILE = "training_summary.json"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """The Trainer's settings, passed through ``custom_config``."""

    model_name: str = "arch5"
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    early_stopping_patience: int = 2
    balance: str = balance_lib.OVERSAMPLE
    photo_augmentation: float = 0.0
    seed: int = 1001
    class_names: tuple = features.SUPER_CLASS_NAMES
    # Model options (models.ModelOptions as a dict): weights, augment, input_size...
    model_options: dict = dataclasses.field(default_factory=dict)
    # Fine-tuning phase after the first one (models with a pretrained base); 0: none.
    fine_tune_epochs: int = 0
    fine_tune_learning_rate: float = 1e-5
    # False: train the full number of epochs and keep the last weights (cross-validation).
    early_stopping: bool = True
    # Seeded, stratified share of the training split to train on (data-size experiment).
    train_fraction: float = 1.0
    # Count the classes of the training data instead of reading Transform's counts
    # (runs whose training splits are not the one Transform analysed).
    recount_classes: bool = False

    @classmethod
    def from_custom_config(cls, custom_config: Mapping[str, Any] | None) -> "TrainingConfig":
        """Reads the settings from the Trainer's custom_config, defaults for missing keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in (custom_config or {}).items() if k in known}
        if "class_names" in values:
            values["class_names"] = tuple(values["class_names"])
        return cls(**values)

    def to_custom_config(self) -> Dict[str, Any]:
        """Returns the settings as a JSON-serializable custom_config dict."""
        config = dataclasses.asdict(self)
        config["class_names"] = list(self.class_names)
        return config


# The local runner's progress display picks up this message.
EPOCH_MESSAGE = "Epoch %d/%d: %s"


class _EpochLogger(keras.callbacks.Callback):
    """Records each epoch's wall time into the logs and logs one line per epoch."""

    def __init__(self, epochs: int):
        super().__init__()
        self._epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["epoch_seconds"] = time.perf_counter() - self._start
        shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "epoch_seconds")
        logging.info(EPOCH_MESSAGE, epoch + 1, self._epochs,
                     f"{shown} ({logs['epoch_seconds']:.1f} s)")


def compile_model(model: keras.Model, learning_rate: float) -> keras.Model:
    """Compiles a logits model for sparse integer labels."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def _callbacks(config: TrainingConfig, log_dir: str,
               total_epochs: int) -> List[keras.callbacks.Callback]:
    callbacks = [_EpochLogger(total_epochs),
                 keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch")]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.early_stopping_patience,
            restore_best_weights=True))
    return callbacks


def _write_json(path: str, payload: Any) -> None:
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=True)


def _history_rows(history: keras.callbacks.History, first_epoch: int = 0,
                  phase: int = 1) -> List[Dict[str, float]]:
    epochs = len(history.history.get("loss", []))
    return [{"epoch": first_epoch + i + 1, "phase": phase,
             **{k: float(v[i]) for k, v in history.history.items()}}
            for i in range(epochs)]


# (first epoch, last epoch, phase) -> history rows of that fit.
Fit = Callable[[int, int, int], List[Dict[str, float]]]


def _training_examples(config: TrainingConfig, fn_args: FnArgs,
                       tf_transform_output: tft.TFTransformOutput
                       ) -> Tuple[tf.data.Dataset, Dict[int, int]]:
    """The training elements and their class counts (a fraction, recounted or Transform's)."""
    examples = data.read_transformed(fn_args.train_files, fn_args.data_accessor,
                                     tf_transform_output)
    if config.train_fraction < 1.0:
        return subset.stratified_fraction(examples, config.train_fraction, config.seed)
    if config.recount_classes:
        return examples, subset.count_classes(examples)
    return examples, balance_lib.read_class_counts(tf_transform_output)


def trainable_parameters(model: keras.Model) -> int:
    """How many parameters training changes (a frozen base's are not counted)."""
    return int(sum(weight.shape.num_elements() for weight in model.trainable_weights))


def _final_val_loss(rows: List[Dict[str, float]], config: TrainingConfig) -> float:
    """The validation loss of the weights a fit leaves: the best with early stopping, else the last."""
    return (min(row["val_loss"] for row in rows) if config.early_stopping
            else rows[-1]["val_loss"])


def _fine_tune(model: keras.Model, config: TrainingConfig, options: models.ModelOptions,
               rows: List[Dict[str, float]], fit: Fit) -> Optional[dict]:
    """The fine-tuning phase: unfreeze the base's top, fit at a lower learning rate.

    Appends the phase's epochs to ``rows``. Keeps the fine-tuned weights only
    when they reach a lower validation loss than the first phase's best.

    Returns:
      What the phase did, or None when no phase was asked for.
    """
    if config.fine_tune_epochs <= 0:
        return None
    unfrozen = models.fine_tune(config.model_name, model, options)
    if not unfrozen:
        logging.info("model %s has no frozen pretrained base: no fine-tuning phase",
                     config.model_name)
        return {"unfrozen_layers": 0, "epochs_run": 0, "kept": "first phase",
                "note": "no frozen pretrained base to unfreeze"}
    first_final = _final_val_loss(rows, config)
    saved = [(variable, variable.numpy()) for variable in model.variables]
    compile_model(model, config.fine_tune_learning_rate)
    logging.info("fine-tuning: %d layers unfrozen, learning rate %g, up to %d epochs",
                 unfrozen, config.fine_tune_learning_rate, config.fine_tune_epochs)
    phase_rows = fit(len(rows), len(rows) + config.fine_tune_epochs, 2)
    rows.extend(phase_rows)
    kept = "fine-tuned"
    if _final_val_loss(phase_rows, config) >= first_final:
        for variable, value in saved:
            variable.assign(value)
        kept = "first phase"
    return {"unfrozen_layers": unfrozen, "epochs_run": len(phase_rows),
            "trainable_parameters": trainable_parameters(model),
            "learning_rate": config.fine_tune_learning_rate, "kept": kept}


def datasets(config: TrainingConfig, fn_args: FnArgs,
             tf_transform_output: tft.TFTransformOutput
             ) -> Tuple[tf.data.Dataset, tf.data.Dataset, Dict[int, int]]:
    """The batched training stream (balanced), the validation stream and the training counts."""
    examples, counts = _training_examples(config, fn_args, tf_transform_output)
    train = balance_lib.balanced_training_stream(
        examples, config.balance, counts, config.batch_size, config.seed)
    validation = data.evaluation_stream(
        data.read_transformed(fn_args.eval_files, fn_args.data_accessor, tf_transform_output),
        config.batch_size)
    return train, validation, counts


def model_spec(config: TrainingConfig, options: models.ModelOptions,
               tf_transform_output: tft.TFTransformOutput) -> models.ModelSpec:
    """What the architecture is built for: the transformed image, the classes, the options."""
    return models.ModelSpec(input_shape=data.image_shape(tf_transform_output),
                            num_classes=len(config.class_names),
                            input_name=data.IMAGE_XF, learning_rate=config.learning_rate,
                            options=options)


# Hyperparameters the Tuner searches (components/trainer/tuning.py) and run_fn applies.
TUNED_LEARNING_RATE = "learning_rate"
TUNED_OPTIONS = ("dropout", "width")


def with_hyperparameters(config: TrainingConfig, options: models.ModelOptions,
                         hyperparameters: Optional[Mapping[str, Any]]
                         ) -> Tuple[TrainingConfig, models.ModelOptions, Dict[str, Any]]:
    """Applies the Tuner's best hyperparameters, when the Trainer was given them.

    Args:
      config: the configured training settings.
      options: the configured model options.
      hyperparameters: ``FnArgs.hyperparameters``: a KerasTuner
        ``HyperParameters.get_config()`` dict, or None.

    Returns:
      (settings, options, the values applied).
    """
    values = dict((hyperparameters or {}).get("values", {}))
    if TUNED_LEARNING_RATE in values:
        config = dataclasses.replace(config, learning_rate=float(values[TUNED_LEARNING_RATE]))
    tuned = {name: float(values[name]) for name in TUNED_OPTIONS if name in values}
    if tuned:
        options = dataclasses.replace(options, **tuned)
    return config, options, values


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured architecture on the transformed examples and exports it."""
    config = TrainingConfig.from_custom_config(fn_args.custom_config)
    config, options, tuned = with_hyperparameters(
        config, models.ModelOptions.from_dict(config.model_options),
        getattr(fn_args, "hyperparameters", None))
    if tuned:
        logging.info("hyperparameters from the Tuner: %s", tuned)
    balance_lib.check_mode(config.balance)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train, validation, counts = datasets(config, fn_args, tf_transform_output)
    balance_report = balance_lib.report(config.balance, counts, config.class_names)
    balance_lib.write_report(balance_report, fn_args.model_run_dir)
    model = compile_model(models.build(config.model_name,
                                       model_spec(config, options, tf_transform_output)),
                          config.learning_rate)
    model.summary(print_fn=logging.info)
    trainable = trainable_parameters(model)

    def fit(first_epoch: int, last_epoch: int, phase: int) -> List[Dict[str, float]]:
        history = model.fit(train, validation_data=validation, epochs=last_epoch,
                            initial_epoch=first_epoch, verbose=0,
                            callbacks=_callbacks(config, fn_args.model_run_dir,
                                                 config.epochs + config.fine_tune_epochs),
                            **balance_lib.fit_kwargs(config.balance, counts))
        return _history_rows(history, first_epoch, phase)

    start = time.perf_counter()
    rows = fit(0, config.epochs, 1)
    fine_tuning = _fine_tune(model, config, options, rows, fit)
    best = min(rows, key=lambda row: row["val_loss"])
    _write_json(os.path.join(fn_args.model_run_dir, HISTORY_FILE), rows)
    _write_json(os.path.join(fn_args.model_run_dir, TRAINING_SUMMARY_FILE), {
        "config": config.to_custom_config(),
        "model_options": options.to_dict(),
        "parameters": int(model.count_params()),
        "trainable_parameters": trainable,
        "epochs_run": len(rows),
        "best_epoch": int(best["epoch"]),
        "best_val_loss": best["val_loss"],
        "best_val_accuracy": best["val_accuracy"],
        "fit_seconds": time.perf_counter() - start,
        "seconds_per_epoch": sum(row["epoch_seconds"] for row in rows) / len(rows),
        "training_examples": sum(counts.values()),
        "fine_tuning": fine_tuning,
        "hyperparameters": tuned,
        "balance": balance_report,
    })
    export.export_model(model, tf_transform_output, config.class_names,
                        fn_args.serving_model_dir)
