"""The TFX Tuner's ``tuner_fn``: KerasTuner over learning rate, dropout and width.

Referenced by the pipeline as ``imagepipe.components.trainer.tuning.tuner_fn``
when the pipeline config has a tuner. The Tuner searches on the same
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
from typing import Any, Dict, Mapping

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from imagepipe.components import models
from imagepipe.components.trainer import balance as balance_lib
from imagepipe.components.trainer import task

TUNING_KEY = "tuning"  # custom_config key of the TuningConfig
OBJECTIVE = "val_accuracy"
LEARNING_RATE_RANGE = (1e-4, 3e-3)
DROPOUT_RANGE = (0.0, 0.5, 0.1)
WIDTHS = (0.5, 1.0, 1.5)


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """How long the search runs.

    Attributes:
      max_trials: hyperparameter sets tried.
      trial_epochs: epochs per trial (the best validation accuracy scores it).
    """

    max_trials: int = 6
    trial_epochs: int = 2

    def __post_init__(self):
        if self.max_trials < 1 or self.trial_epochs < 1:
            raise ValueError(f"tuning needs max_trials >= 1 and trial_epochs >= 1, got "
                             f"{self.max_trials} and {self.trial_epochs}")

    @classmethod
    def from_custom_config(cls, custom_config: Mapping[str, Any] | None) -> "TuningConfig":
        return cls(**dict((custom_config or {}).get(TUNING_KEY) or {}))


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

    def __init__(self, config: task.TrainingConfig, spec: models.ModelSpec,
                 counts: Mapping[int, int], **kwargs):
        super().__init__(hyperparameters=search_space(config.model_name),
                         objective=keras_tuner.Objective(OBJECTIVE, "max"),
                         tune_new_entries=False, **kwargs)
        self._config = config
        self._spec = spec
        self._counts = dict(counts)

    def run_trial(self, trial, train: tf.data.Dataset, validation: tf.data.Dataset,
                  epochs: int) -> Dict[str, float]:
        """Trains one hyperparameter set; returns its best validation accuracy."""
        config, options, _ = task.with_hyperparameters(
            self._config, self._spec.options, trial.hyperparameters.get_config())
        keras.utils.set_random_seed(config.seed)
        spec = dataclasses.replace(self._spec, options=options,
                                   learning_rate=config.learning_rate)
        model = task.compile_model(models.build(config.model_name, spec), config.learning_rate)
        history = model.fit(train, validation_data=validation, epochs=epochs, verbose=0,
                            **balance_lib.fit_kwargs(config.balance, self._counts))
        return {OBJECTIVE: max(history.history[OBJECTIVE])}


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """Builds the search on the Trainer's streams; TFX's Tuner runs it and keeps the best."""
    config = task.TrainingConfig.from_custom_config(fn_args.custom_config)
    tuning = TuningConfig.from_custom_config(fn_args.custom_config)
    options = models.ModelOptions.from_dict(config.model_options)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    train, validation, counts = task.datasets(config, fn_args, tf_transform_output)
    tuner = ArchitectureSearch(config, task.model_spec(config, options, tf_transform_output),
                               counts, max_trials=tuning.max_trials, seed=config.seed,
                               directory=fn_args.working_dir, project_name="imagepipe")
    return TunerFnResult(tuner=tuner, fit_kwargs={"train": train, "validation": validation,
                                                  "epochs": tuning.trial_epochs})
