"""The Trainer's ``run_fn``: a thin orchestrator.

dataset -> ``models.build(name, ...)`` -> fit with early stopping -> export.
Referenced by the pipeline as ``imagepipe.components.trainer.task.run_fn``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Dict, List, Mapping

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imagepipe.components import features, models
from imagepipe.components.trainer import balance as balance_lib
from imagepipe.components.trainer import data, export

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
    seed: int = 1001
    class_names: tuple = features.SUPER_CLASS_NAMES

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


def _callbacks(config: TrainingConfig, log_dir: str) -> List[keras.callbacks.Callback]:
    return [
        _EpochLogger(config.epochs),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience,
                                      restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
    ]


def _write_json(path: str, payload: Any) -> None:
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=True)


def _history_rows(history: keras.callbacks.History) -> List[Dict[str, float]]:
    epochs = len(history.history.get("loss", []))
    return [{"epoch": i + 1, **{k: float(v[i]) for k, v in history.history.items()}}
            for i in range(epochs)]


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured architecture on the transformed examples and exports it."""
    config = TrainingConfig.from_custom_config(fn_args.custom_config)
    balance_lib.check_mode(config.balance)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    counts = balance_lib.read_class_counts(tf_transform_output)
    balance_report = balance_lib.report(config.balance, counts, config.class_names)
    balance_lib.write_report(balance_report, fn_args.model_run_dir)
    train = balance_lib.balanced_training_stream(
        data.read_transformed(fn_args.train_files, fn_args.data_accessor, tf_transform_output),
        config.balance, counts, config.batch_size, config.seed)
    validation = data.evaluation_stream(
        data.read_transformed(fn_args.eval_files, fn_args.data_accessor, tf_transform_output),
        config.batch_size)
    spec = models.ModelSpec(input_shape=data.image_shape(tf_transform_output),
                            num_classes=len(config.class_names),
                            input_name=data.IMAGE_XF, learning_rate=config.learning_rate)
    model = compile_model(models.build(config.model_name, spec), config.learning_rate)
    model.summary(print_fn=logging.info)

    start = time.perf_counter()
    history = model.fit(train, validation_data=validation, epochs=config.epochs,
                        callbacks=_callbacks(config, fn_args.model_run_dir), verbose=0,
                        **balance_lib.fit_kwargs(config.balance, counts))
    rows = _history_rows(history)
    best = min(rows, key=lambda row: row["val_loss"])
    _write_json(os.path.join(fn_args.model_run_dir, HISTORY_FILE), rows)
    _write_json(os.path.join(fn_args.model_run_dir, TRAINING_SUMMARY_FILE), {
        "config": config.to_custom_config(),
        "parameters": int(model.count_params()),
        "epochs_run": len(rows),
        "best_epoch": int(best["epoch"]),
        "best_val_loss": best["val_loss"],
        "best_val_accuracy": best["val_accuracy"],
        "fit_seconds": time.perf_counter() - start,
        "balance": balance_report,
    })
    export.export_model(model, tf_transform_output, config.class_names,
                        fn_args.serving_model_dir)
