"""The settings model: strict reading, checks that name the setting, one spelling of each mode."""

import dataclasses

import pytest

from imagepipe.components import reports, settings
from imagepipe.components.record import SettingsError
from imagepipe.components.settings import ModelOptions, TrainerCustomConfig, TrainingSettings
from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
from imagepipe.components.sources.photo_folder import FolderSettings


def test_settings_round_trip_through_json():
    training = TrainingSettings(model_name="proposed", class_names=("a", "b"),
                                model_options=ModelOptions(dropout=0.3, input_size=64))
    assert TrainingSettings.from_json(training.to_json()) == training
    config = TrainerCustomConfig(training=training, code_fingerprint="f")
    assert TrainerCustomConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("change,message", [
    ({"batch_sise": 8}, "unknown key 'batch_sise'; known keys: model_name, epochs"),
    ({"epochs": "3"}, r"training settings.epochs: expected int, got str '3'"),
    ({"epochs": True}, r"training settings.epochs: expected int, got bool True"),
    ({"balance": "smote"}, "balance: unknown value 'smote'; known: oversample, class_weight"),
    ({"photo_augmentation": 1.5}, "photo_augmentation must be at most 1, got 1.5"),
    ({"model_options": {**ModelOptions().to_dict(), "wieghts": "x"}},
     "model_options: unknown key 'wieghts'"),
    ({"class_names": ["a", "a"]}, "class_names has duplicates"),
])
def test_reading_is_strict_and_names_the_key(change, message):
    values = {**TrainingSettings().to_dict(), **change}
    with pytest.raises(SettingsError, match=message):
        TrainingSettings.from_dict(values, "training settings")


def test_a_missing_key_is_named():
    values = TrainingSettings().to_dict()
    del values["learning_rate"]
    with pytest.raises(SettingsError, match="missing key 'learning_rate'"):
        TrainingSettings.from_dict(values)


def test_ranges_are_checked_when_settings_are_made():
    with pytest.raises(SettingsError, match="epochs must be at least 1, got 0"):
        TrainingSettings(epochs=0)
    with pytest.raises(SettingsError, match="learning_rate must be greater than 0"):
        TrainingSettings(learning_rate=0.0)
    with pytest.raises(SettingsError, match="train_fraction must be greater than 0"):
        TrainingSettings(train_fraction=0.0)
    with pytest.raises(SettingsError, match="max_trials must be at least 1"):
        settings.TuningSettings(max_trials=0)
    with pytest.raises(SettingsError, match="min_accuracy must be at most 1"):
        settings.EvaluationSettings(min_accuracy=1.5)
    with pytest.raises(SettingsError, match=r"max_side \(64\) must be at least image_size"):
        FolderSettings(data_dir="d", image_size=96, max_side=64)
    with pytest.raises(SettingsError, match="split 'train' needs a positive relative size"):
        FashionMnistSettings(splits=(("train", 0), ("eval", 1), ("test", 1)))


def test_replace_refuses_names_that_are_no_setting():
    with pytest.raises(SettingsError, match="unknown setting 'epoch'"):
        TrainingSettings().replace(epoch=3)


def test_modes_are_spelled_once():
    from imagepipe.components import photo_preprocessing
    from imagepipe.components.trainer import balance
    assert balance.MODES is settings.BALANCE_MODES
    assert photo_preprocessing.RESIZE_MODES is settings.RESIZE_MODES
    field = {f.name: f for f in dataclasses.fields(TrainingSettings)}["balance"]
    assert field.metadata["choices"] == settings.BALANCE_MODES


def test_reports_are_records_with_one_reader(tmp_path):
    row = reports.BalanceRow(0, "upper", 5, 1, 6, 1.0)
    report = reports.BalanceReport("oversample", (row, row), 10, 12)
    path = str(tmp_path / "balance.json")
    report.write(path)
    assert reports.BalanceReport.read(path) == report
    with open(path, "w") as f:
        f.write('{"mode": "none"}')
    with pytest.raises(SettingsError, match=f"{path}: missing keys 'classes'"):
        reports.BalanceReport.read(path)
