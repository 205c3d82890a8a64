"""The Tuner's search space per model, and how run_fn applies the best hyperparameters."""

import keras_tuner
import pytest

from imagepipe.components import models
from imagepipe.components.trainer import task, tuning


@pytest.mark.parametrize("name,expected", [
    ("arch5", {"learning_rate", "dropout", "width"}),
    ("arch10", {"learning_rate", "width"}),  # no Dropout layers
    ("resnet50", {"learning_rate", "dropout"}),
])
def test_search_space_holds_what_the_model_takes(name, expected):
    assert set(tuning.search_space(name).values) == expected


def test_best_hyperparameters_change_learning_rate_and_model_options():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", 0.002)
    hp.Fixed("dropout", 0.3)
    hp.Fixed("width", 1.5)
    config, options, applied = task.with_hyperparameters(
        task.TrainingConfig(model_name="arch5"), models.ModelOptions(), hp.get_config())
    assert config.learning_rate == 0.002
    assert options.dropout == 0.3 and options.width == 1.5
    assert applied == {"learning_rate": 0.002, "dropout": 0.3, "width": 1.5}


def test_without_a_tuner_nothing_changes():
    config, options, applied = task.with_hyperparameters(
        task.TrainingConfig(), models.ModelOptions(), None)
    assert config == task.TrainingConfig() and options == models.ModelOptions() and not applied


def test_tuning_config_comes_from_custom_config_and_is_checked():
    assert tuning.TuningConfig.from_custom_config(
        {"tuning": {"max_trials": 2, "trial_epochs": 1}}) == tuning.TuningConfig(2, 1)
    with pytest.raises(ValueError, match="max_trials >= 1"):
        tuning.TuningConfig(max_trials=0)
