"""The Tuner's search space per model, and how run_fn applies the best hyperparameters."""

import keras_tuner
import pytest

from imagepipe.components import settings
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
    tuned, applied = task.with_hyperparameters(settings.TrainingSettings(model_name="arch5"),
                                               hp.get_config())
    assert tuned.learning_rate == 0.002
    assert tuned.model_options.dropout == 0.3 and tuned.model_options.width == 1.5
    assert applied == {"learning_rate": 0.002, "dropout": 0.3, "width": 1.5}


def test_without_a_tuner_nothing_changes():
    tuned, applied = task.with_hyperparameters(settings.TrainingSettings(), None)
    assert tuned == settings.TrainingSettings() and not applied


def test_tuner_settings_come_from_custom_config_strictly():
    training = settings.TrainingSettings(class_names=("a", "b"))
    config = settings.TunerCustomConfig(training=training,
                                        tuning=settings.TuningSettings(2, 1),
                                        code_fingerprint="x").to_dict()
    read = tuning.read_settings(config)
    assert read.tuning == settings.TuningSettings(2, 1) and read.training == training
    with pytest.raises(ValueError, match="max_trials must be at least 1"):
        settings.TuningSettings(max_trials=0)
    with pytest.raises(ValueError, match=r"custom_config.tuning: unknown key 'trials'"):
        tuning.read_settings({**config, "tuning": {**config["tuning"], "trials": 3}})
