"""The TFX Tuner's ``tuner_fn``: KerasTuner over learning rate, dropout and width.

Referenced by the pipeline as ``imagepipe.components.trainer.tuning.tuner_fn``
when the pipeline config has a tuner. Its ``custom_config`` is a
:class:`~imagepipe.components.settings.TunerCustomConfig`, read strictly; the
runtime parameters (model, epochs, balance) reach it as the Trainer's do (see
``components/parameterized.py``), so a compiled pipeline tunes the model it is
run with. The Tuner searches on the same
streams the Trainer uses (balanced training split, validation split) for a
few epochs per trial; its best hyperparameters go to the Trainer, whose
``run_fn`` applies them (``task.with_hyperparameters``).

The search space (only what the architecture takes):

* ``learning_rate``: 1e-4 ... 3e-3, log scale (every model);
* ``dropout``: 0.0 ... 0.5 in steps of 0.1 (models with Dropout layers);
* ``width``: 0.5, 1.0 or 1.5 times the report's filters and units (the CNNs).

KerasTuner 1.4 checks that models are Keras 3 models; imagepipe builds
Keras 2 (``tf_keras``) models, so :class:`ArchitectureSearch` overrides
``run_trial``: it builds, trains and scores the model itself, and KerasTuner
only proposes hyperparameters and keeps the scores.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from imagepipe.components import models
from imagepipe.components.settings import TrainingSettings, TunerCustomConfig
from imagepipe.components.trainer import balance as balance_lib
from imagepipe.components.trainer import keras_autograph, task

OBJECTIVE = "val_accuracy"
LEARNING_RATE_RANGE = (1e-4, 3e-3)
DROPOUT_RANGE = (0.0, 0.5, 0.1)
WIDTHS = (0.5, 1.0, 1.5)
CUSTOM_CONFIG_WHERE = "the Tuner's custom_config"


def read_settings(custom_config: Optional[Mapping[str, Any]]) -> TunerCustomConfig:
    """The Tuner's settings (the Trainer's and the search's), strictly; errors name the key."""
    return TunerCustomConfig.from_dict(custom_config or {}, CUSTOM_CONFIG_WHERE)


def search_space(model_name: str) -> keras_tuner.HyperParameters:
    """The hyperparameters worth searching for ``model_name``."""
    takes = models.architecture(model_name).takes
    hp = keras_tuner.HyperParameters()
    hp.Float(task.TUNED_LEARNING_RATE, *LEARNING_RATE_RANGE, sampling="log")
    if "dropout" in takes:
        low, high, step = DROPOUT_RANGE
        hp.Float("dropout", low, high, step=step)
    if "width" in takes:
        hp.Choice("width", list(WIDTHS))
    return hp


class ArchitectureSearch(keras_tuner.RandomSearch):
    """Random search whose trials build and train imagepipe's Keras 2 models."""

    def __init__(self, settings: TrainingSettings, spec: models.ModelSpec,
                 counts: Mapping[int, int], **kwargs):
        super().__init__(hyperparameters=search_space(settings.model_name),
                         objective=keras_tuner.Objective(OBJECTIVE, "max"),
                         tune_new_entries=False, **kwargs)
        self._settings = settings
        self._spec = spec
        self._counts = dict(counts)

    def run_trial(self, trial, train: tf.data.Dataset, validation: tf.data.Dataset,
                  epochs: int) -> Dict[str, float]:
        """Trains one hyperparameter set; returns its best validation accuracy."""
        settings, _ = task.with_hyperparameters(self._settings,
                                                trial.hyperparameters.get_config())
        keras.utils.set_random_seed(settings.seed)
        spec = dataclasses.replace(self._spec, options=settings.model_options,
                                   learning_rate=settings.learning_rate)
        model = task.compile_model(models.build(settings.model_name, spec),
                                   settings.learning_rate)
        history = model.fit(train, validation_data=validation, epochs=epochs, verbose=0,
                            **balance_lib.fit_kwargs(settings.balance, self._counts))
        return {OBJECTIVE: max(history.history[OBJECTIVE])}


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """Builds the search on the Trainer's streams; TFX's Tuner runs it and keeps the best."""
    keras_autograph.trace_tf_keras_as_written()
    config = read_settings(fn_args.custom_config)
    settings = config.training
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    streams = task.datasets(settings, fn_args, tf_transform_output)
    tuner = ArchitectureSearch(settings, task.model_spec(settings, tf_transform_output),
                               streams.counts, max_trials=config.tuning.max_trials,
                               seed=settings.seed, directory=fn_args.working_dir,
                               project_name="imagepipe")
    return TunerFnResult(tuner=tuner, fit_kwargs={"train": streams.train,
                                                  "validation": streams.validation,
                                                  "epochs": config.tuning.trial_epochs})
