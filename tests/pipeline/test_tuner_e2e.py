"""The optional TFX Tuner inside a real pipeline run: its best hyperparameters train the model."""

import pytest

from imagepipe.components import settings
from imagepipe.pipeline import local_runner, results
from tests.conftest import tiny_config


def test_tuner_runs_before_the_trainer_and_feeds_it(tiny_fashion_mnist, tmp_path):
    config = tiny_config(tiny_fashion_mnist, str(tmp_path),
                         training=settings.TrainingSettings(model_name="arch5", epochs=1),
                         tuning=settings.TuningSettings(max_trials=2, trial_epochs=1))
    local_runner.run(config)
    summary = results.latest_run(config.metadata_path, config.pipeline_name)
    assert summary.components["Tuner"] == "COMPLETE"
    tuned = summary.training.hyperparameters
    assert set(tuned) == {"learning_rate", "dropout", "width"}
    assert summary.training.settings.learning_rate == tuned["learning_rate"]
    assert summary.training.optimizer_learning_rate == pytest.approx(tuned["learning_rate"])
    assert summary.training.settings.model_options.width == tuned["width"]
    assert summary.accuracy is not None


def test_without_comparison_no_baseline_is_resolved(tiny_fashion_mnist, tmp_path):
    config = tiny_config(tiny_fashion_mnist, str(tmp_path),
                         training=settings.TrainingSettings(model_name="arch5", epochs=1),
                         evaluation=settings.EvaluationSettings(
                             min_accuracy=0.0, compare_with_latest_blessed=False))
    from imagepipe.pipeline import pipeline
    ids = {component.id for component in pipeline.create_components(config)}
    assert pipeline.RESOLVER_ID not in ids and "Tuner" not in ids
    thresholds = pipeline.eval_config(config).metrics_specs[0].metrics[0].threshold
    assert not thresholds.HasField("change_threshold")
    assert thresholds.value_threshold.lower_bound.value == 0.0
    compared = pipeline.eval_config(config.replace(evaluation=settings.EvaluationSettings()))
    assert compared.metrics_specs[0].metrics[0].threshold.HasField("change_threshold")
