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

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imagepipe.components import models, photo_scene, reports
from imagepipe.components.record import SettingsError
from imagepipe.components.settings import CLASS_BIAS_NONE, TrainerCustomConfig, TrainingSettings
from imagepipe.components.trainer import balance as balance_lib
from imagepipe.components.trainer import class_bias as class_bias_lib
from imagepipe.components.trainer import data, export, frozen_features, keras_autograph, subset
from imagepipe.components.trainer import warm_start as warm_start_lib
from imagepipe.components.trainer import weight_average

HISTORY_FILE = reports.HISTORY_FILE
TRAINING_SUMMARY_FILE = reports.TRAINING_SUMMARY_FILE
CUSTOM_CONFIG_WHERE = "the Trainer's custom_config"


def read_settings(custom_config: Optional[Mapping[str, Any]]) -> TrainingSettings:
    """The Trainer's settings from its ``custom_config``, strictly.

    Raises:
      SettingsError: an unknown or missing key, or a bad value; the message
        names the key.
    """
    config = TrainerCustomConfig.from_dict(custom_config or {}, CUSTOM_CONFIG_WHERE)
    if len(config.training.class_names) < 2:
        raise SettingsError(f"{CUSTOM_CONFIG_WHERE}.training.class_names needs at least 2 "
                            f"classes, got {list(config.training.class_names)}")
    return config.training


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
        shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items()
                          if k != "epoch_seconds" and not k.startswith("stream_"))
        logging.info(EPOCH_MESSAGE, epoch + 1, self._epochs,
                     f"{shown} ({logs['epoch_seconds']:.1f} s)")


def compile_model(model: keras.Model, learning_rate: float) -> keras.Model:
    """Compiles a logits model for sparse integer labels."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


class _StreamCounter(keras.callbacks.Callback):
    """Writes what the training stream delivered in each epoch into the epoch's logs."""

    def __init__(self, counters: balance_lib.StreamCounters):
        super().__init__()
        self._counters = counters
        self._start: Dict[str, int] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._counters.snapshot()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            for name, value in self._counters.snapshot().items():
                logs[f"stream_{name}"] = value - self._start[name]


def _callbacks(settings: TrainingSettings, log_dir: str, total_epochs: int,
               counters: balance_lib.StreamCounters) -> List[keras.callbacks.Callback]:
    callbacks = [_StreamCounter(counters), _EpochLogger(total_epochs),
                 keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch")]
    stopper = None
    if settings.early_stopping:
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=settings.early_stopping_patience,
            restore_best_weights=True)
        callbacks.append(stopper)
    if settings.average_epochs > 1:  # after EarlyStopping: it averages up to the restored epoch
        callbacks.append(weight_average.EpochWeightAverage(settings.average_epochs, stopper))
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


def _training_examples(settings: TrainingSettings, fn_args: FnArgs,
                       tf_transform_output: tft.TFTransformOutput
                       ) -> Tuple[tf.data.Dataset, Dict[int, int], str]:
    """The training elements, their class counts and where the counts come from."""
    examples = data.read_transformed(fn_args.train_files, fn_args.data_accessor,
                                     tf_transform_output)
    if settings.train_fraction < 1.0:
        return (*subset.stratified_fraction(examples, settings.train_fraction, settings.seed),
                "fraction")
    if settings.recount_classes:
        return examples, subset.count_classes(examples), "recounted"
    return examples, balance_lib.read_class_counts(tf_transform_output), "transform"


def trainable_parameters(model: keras.Model) -> int:
    """How many parameters training changes (a frozen base's are not counted)."""
    return int(sum(weight.shape.num_elements() for weight in model.trainable_weights))


def optimizer_learning_rate(model: keras.Model) -> float:
    """The learning rate the model's optimizer actually uses."""
    return float(keras.backend.get_value(model.optimizer.learning_rate))


def _final_val_loss(rows: List[Dict[str, float]], settings: TrainingSettings) -> float:
    """The validation loss of the weights a fit leaves: the best with early stopping, else the last."""
    return (min(row["val_loss"] for row in rows) if settings.early_stopping
            else rows[-1]["val_loss"])


def _fine_tune(model: keras.Model, settings: TrainingSettings,
               rows: List[Dict[str, float]], fit: Fit) -> Optional[reports.FineTuning]:
    """The fine-tuning phase: unfreeze the base's top, fit at a lower learning rate.

    Appends the phase's epochs to ``rows``. Keeps the fine-tuned weights only
    when they reach a lower validation loss than the first phase's best.

    Returns:
      What the phase did, or None when no phase was asked for.
    """
    if settings.fine_tune_epochs <= 0:
        return None
    unfrozen = models.fine_tune(settings.model_name, model, settings.model_options)
    if not unfrozen:
        logging.info("model %s has no frozen pretrained base: no fine-tuning phase",
                     settings.model_name)
        return reports.FineTuning(unfrozen_layers=0, epochs_run=0,
                                  trainable_parameters=trainable_parameters(model),
                                  learning_rate=None, kept="first phase",
                                  note="no frozen pretrained base to unfreeze")
    first_final = _final_val_loss(rows, settings)
    saved = [(variable, variable.numpy()) for variable in model.variables]
    compile_model(model, settings.fine_tune_learning_rate)
    logging.info("fine-tuning: %d layers unfrozen, learning rate %g, up to %d epochs",
                 unfrozen, settings.fine_tune_learning_rate, settings.fine_tune_epochs)
    phase_rows = fit(len(rows), len(rows) + settings.fine_tune_epochs, 2)
    rows.extend(phase_rows)
    learning_rate = optimizer_learning_rate(model)
    kept = "fine-tuned"
    if _final_val_loss(phase_rows, settings) >= first_final:
        for variable, value in saved:
            variable.assign(value)
        kept = "first phase"
    return reports.FineTuning(unfrozen_layers=unfrozen, epochs_run=len(phase_rows),
                              trainable_parameters=trainable_parameters(model),
                              learning_rate=learning_rate, kept=kept, note="")


@dataclasses.dataclass
class Streams:
    """The Trainer's input: the batched training stream, the validation stream, the counts."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    counts: Dict[int, int]
    counts_from: str
    counters: balance_lib.StreamCounters
    feature_seconds: Optional[float] = None  # the frozen base's one pass; None: images


def _validation_examples(fn_args: FnArgs,
                         tf_transform_output: tft.TFTransformOutput) -> tf.data.Dataset:
    return data.read_transformed(fn_args.eval_files, fn_args.data_accessor, tf_transform_output)


def datasets(settings: TrainingSettings, fn_args: FnArgs,
             tf_transform_output: tft.TFTransformOutput,
             extractor: Optional[keras.Model] = None) -> Streams:
    """The balanced, photo-augmented training stream, the validation stream and the counts.

    With ``extractor`` (a frozen base) both streams hold its features,
    computed once (:mod:`frozen_features`), instead of images.
    """
    examples, counts, counts_from = _training_examples(settings, fn_args, tf_transform_output)
    validation = _validation_examples(fn_args, tf_transform_output)
    if extractor is not None:
        mirrored = settings.model_options.mirror
        examples, seconds = frozen_features.extract_timed(extractor, examples, mirrored)
        if mirrored:  # every photo twice: itself and its mirror image
            counts = {class_id: 2 * count for class_id, count in counts.items()}
        validation = frozen_features.extract(extractor, validation)
        logging.info("frozen base: features of the training split computed once in %.1f s",
                     seconds)
    else:
        seconds = None
    counters = balance_lib.StreamCounters()
    train = balance_lib.balanced_training_stream(
        examples, settings.balance, counts, settings.batch_size, settings.seed,
        photo_fraction=settings.photo_augmentation, counters=counters,
        garment_kinds=photo_scene.garment_kinds(settings.class_names),
        augment_copies=extractor is None, copy_rotation=settings.copy_rotation)
    return Streams(train, data.evaluation_stream(validation, settings.batch_size), counts,
                   counts_from, counters, seconds)


def model_spec(settings: TrainingSettings,
               tf_transform_output: tft.TFTransformOutput) -> models.ModelSpec:
    """What the architecture is built for: the transformed image, the classes, the options."""
    return models.ModelSpec(input_shape=data.image_shape(tf_transform_output),
                            num_classes=len(settings.class_names),
                            input_name=data.IMAGE_XF, learning_rate=settings.learning_rate,
                            options=settings.model_options)


# Hyperparameters the Tuner searches (components/trainer/tuning.py) and run_fn applies.
TUNED_LEARNING_RATE = "learning_rate"
TUNED_OPTIONS = ("dropout", "width")


def with_hyperparameters(settings: TrainingSettings,
                         hyperparameters: Optional[Mapping[str, Any]]
                         ) -> Tuple[TrainingSettings, Dict[str, Any]]:
    """Applies the Tuner's best hyperparameters, when the Trainer was given them.

    Args:
      settings: the configured training settings.
      hyperparameters: ``FnArgs.hyperparameters``: a KerasTuner
        ``HyperParameters.get_config()`` dict, or None.

    Returns:
      (settings with the tuned values, the values applied).
    """
    values = dict((hyperparameters or {}).get("values", {}))
    if TUNED_LEARNING_RATE in values:
        settings = settings.replace(learning_rate=float(values[TUNED_LEARNING_RATE]))
    tuned = {name: float(values[name]) for name in TUNED_OPTIONS if name in values}
    if tuned:
        settings = settings.replace(model_options=settings.model_options.replace(**tuned))
    return settings, values


def _early_stopping(callbacks: List[keras.callbacks.Callback]
                    ) -> Optional[reports.EarlyStopping]:
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping):
            stopped = int(callback.stopped_epoch)
            return reports.EarlyStopping(patience=int(callback.patience),
                                         stopped_epoch=stopped + 1 if stopped else None)
    return None


def _weight_average(callbacks: List[keras.callbacks.Callback], trainee: keras.Model,
                    validation: tf.data.Dataset) -> Optional[reports.WeightAverage]:
    """What the epoch weight average did, the averaged weights measured on ``validation``."""
    for callback in callbacks:
        if isinstance(callback, weight_average.EpochWeightAverage) and callback.averaged:
            measured = trainee.evaluate(validation, verbose=0, return_dict=True)
            average = reports.WeightAverage(epochs=callback.averaged,
                                            val_loss=float(measured["loss"]),
                                            val_accuracy=float(measured["accuracy"]))
            logging.info(average.summary_line().strip())
            return average
    return None


def fit_class_bias(model: keras.Model, validation: tf.data.Dataset,
                   settings: TrainingSettings) -> Optional[reports.ClassBias]:
    """The balanced decision bias fitted on the validation stream; None: ``--class-bias none``."""
    if settings.class_bias == CLASS_BIAS_NONE:
        return None
    # One traced graph for every batch, as model.predict runs it, not an eager call per batch.
    served = tf.function(lambda images: export.served_logits(model, images, settings.test_time))
    logits = np.concatenate([served(images).numpy() for images, _ in validation])
    labels = np.concatenate([batch_labels.numpy() for _, batch_labels in validation])
    fitted = class_bias_lib.fit_and_report(logits, labels, settings.class_names)
    logging.info(fitted.summary_line().strip())
    return fitted


def _kept_average(averages: List[Optional[reports.WeightAverage]],
                  fine_tuning: Optional[reports.FineTuning]) -> Optional[reports.WeightAverage]:
    """The weight average of the phase whose weights are exported."""
    fine_tuned = fine_tuning is not None and fine_tuning.kept == "fine-tuned"
    return averages[-1] if fine_tuned else averages[0]


def _stream_counts(rows: List[Dict[str, float]]) -> reports.StreamCounts:
    return reports.StreamCounts(**{
        name: tuple(int(row[f"stream_{name}"]) for row in rows)
        for name in balance_lib.StreamCounters.NAMES})


def _memoized(make: Callable[[], Streams]) -> Callable[[], Streams]:
    """``make``, called once, on first use (the image streams of a frozen base's run)."""
    made: List[Streams] = []

    def get() -> Streams:
        if not made:
            made.append(make())
        return made[0]
    return get


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured architecture on the transformed examples and exports it."""
    keras_autograph.trace_tf_keras_as_written()
    settings, tuned = with_hyperparameters(read_settings(fn_args.custom_config),
                                           getattr(fn_args, "hyperparameters", None))
    if tuned:
        logging.info("hyperparameters from the Tuner: %s", tuned)
    keras.utils.set_random_seed(settings.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    export.check_test_time(settings.test_time, data.image_shape(tf_transform_output))
    model = models.build(settings.model_name, model_spec(settings, tf_transform_output))
    warm_from = (warm_start_lib.initialise(model, getattr(fn_args, "base_model", None))
                 if settings.warm_start else None)
    model = compile_model(model, settings.learning_rate)
    model.summary(print_fn=logging.info)
    trainable = trainable_parameters(model)
    start = time.perf_counter()
    cut = frozen_features.split(model, augmented=settings.model_options.augment
                                or settings.photo_augmentation > 0)
    image_streams = _memoized(lambda: datasets(settings, fn_args, tf_transform_output))
    streams = (datasets(settings, fn_args, tf_transform_output, cut.extractor) if cut
               else image_streams())
    balance_report = balance_lib.report(settings.balance, streams.counts, settings.class_names,
                                        augmented_copies=cut is None)
    balance_lib.write_report(balance_report, fn_args.model_run_dir)
    if cut:
        compile_model(cut.head, settings.learning_rate)
    first_phase_learning_rate = optimizer_learning_rate(cut.head if cut else model)
    early_stopping: List[Optional[reports.EarlyStopping]] = []
    averages: List[Optional[reports.WeightAverage]] = []

    def fit(first_epoch: int, last_epoch: int, phase: int) -> List[Dict[str, float]]:
        trainee, phase_streams = ((cut.head, streams) if cut and phase == 1
                                  else (model, image_streams()))
        callbacks = _callbacks(settings, fn_args.model_run_dir,
                               settings.epochs + settings.fine_tune_epochs,
                               phase_streams.counters)
        history = trainee.fit(phase_streams.train, validation_data=phase_streams.validation,
                              epochs=last_epoch, initial_epoch=first_epoch, verbose=0,
                              callbacks=callbacks,
                              **balance_lib.fit_kwargs(settings.balance, phase_streams.counts))
        early_stopping.append(_early_stopping(callbacks))
        averages.append(_weight_average(callbacks, trainee, phase_streams.validation))
        return _history_rows(history, first_epoch, phase)

    rows = fit(0, settings.epochs, 1)
    fine_tuning = _fine_tune(model, settings, rows, fit)
    best = min(rows, key=lambda row: row["val_loss"])
    validation_images = streams.validation if not cut else data.evaluation_stream(
        _validation_examples(fn_args, tf_transform_output), settings.batch_size)
    fitted_bias = fit_class_bias(model, validation_images, settings)
    _write_json(os.path.join(fn_args.model_run_dir, HISTORY_FILE), rows)
    reports.TrainingSummary(
        settings=settings, parameters=int(model.count_params()), trainable_parameters=trainable,
        epochs_run=len(rows), best_epoch=int(best["epoch"]), best_val_loss=best["val_loss"],
        best_val_accuracy=best["val_accuracy"], fit_seconds=time.perf_counter() - start,
        seconds_per_epoch=sum(row["epoch_seconds"] for row in rows) / len(rows),
        training_examples=sum(streams.counts.values()), class_counts=streams.counts,
        class_counts_from=streams.counts_from,
        optimizer_learning_rate=first_phase_learning_rate, early_stopping=early_stopping[0],
        fine_tuning=fine_tuning, hyperparameters=tuned, balance=balance_report,
        stream=_stream_counts(rows), class_bias=fitted_bias,
        frozen_features_seconds=streams.feature_seconds, warm_started_from=warm_from,
        weight_average=_kept_average(averages, fine_tuning),
    ).write(os.path.join(fn_args.model_run_dir, TRAINING_SUMMARY_FILE))
    export.export_model(model, tf_transform_output, settings.class_names,
                        fn_args.serving_model_dir,
                        class_bias=None if fitted_bias is None
                        else fitted_bias.in_order(settings.class_names),
                        test_time=settings.test_time)
