"""The Trainer and Evaluator properties that runtime parameters set."""

import json

import pytest

from imagepipe.components import parameterized, settings
from imagepipe.components.record import SettingsError
from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
from imagepipe.pipeline import config as config_lib
from imagepipe.pipeline.pipeline import eval_config, run_settings


def _config(**overrides):
    return config_lib.PipelineConfig(
        pipeline_name="p", pipeline_root="/r", serving_dir="/s",
        data=FashionMnistSettings(source="idx", data_dir="/d"),
        training=settings.TrainingSettings(model_name="proposed", epochs=4, balance="none"),
        evaluation=settings.EvaluationSettings(min_accuracy=0.9), **overrides)


def test_the_lifted_properties_are_the_runtime_training_settings():
    assert parameterized.TRAINER_PROPERTIES == {"model_name": str, "epochs": int,
                                                "balance": str}


def test_trainer_properties_are_written_into_the_training_settings():
    merged = parameterized.merge_trainer_properties({
        "custom_config": json.dumps({"training": {"batch_size": 8, "epochs": 1},
                                     "code_fingerprint": "x"}),
        "epochs": 6.0, "model_name": "arch10", "balance": "class_weight"})
    assert json.loads(merged) == {"training": {"batch_size": 8, "epochs": 6,
                                               "model_name": "arch10", "balance": "class_weight"},
                                  "code_fingerprint": "x"}
    assert isinstance(json.loads(merged)["training"]["epochs"], int)  # Vertex may send 6.0


@pytest.mark.parametrize("executor,standard", [
    (parameterized.TrainerExecutor, "tfx.components.trainer.executor.GenericExecutor"),
    (parameterized.TunerExecutor, "tfx.components.tuner.executor.Executor")])
def test_the_executors_hand_the_standard_one_the_merged_custom_config(executor, standard,
                                                                     monkeypatch):
    handed = []
    monkeypatch.setattr(f"{standard}.Do", lambda self, inputs, outputs, properties:
                        handed.append(properties))
    properties = {"custom_config": json.dumps({"training": {"epochs": 1}}), "epochs": 3,
                  "run_fn": "m.run_fn"}
    executor().Do({}, {}, properties)
    assert handed == [{**properties, "custom_config": json.dumps({"training": {"epochs": 3}})}]


def test_a_custom_config_without_training_settings_is_an_error():
    for custom_config in (None, "[1]", json.dumps({"epochs": 2})):
        with pytest.raises(ValueError, match="custom_config must be a JSON object with a "
                                             "'training' object"):
            parameterized.merge_trainer_properties({"custom_config": custom_config,
                                                    "epochs": 2})


def test_what_the_components_carry_merges_back_into_strict_settings():
    training = settings.TrainingSettings(class_names=("a", "b"), epochs=7)
    config = settings.TrainerCustomConfig(training=training, code_fingerprint="x").to_dict()
    lifted = parameterized.without_properties(config)
    assert not set(parameterized.TRAINER_PROPERTIES) & set(lifted["training"])
    merged = parameterized.merge_trainer_properties({
        "custom_config": json.dumps(lifted), "epochs": 7, "model_name": "arch5",
        "balance": "oversample"})
    assert settings.TrainerCustomConfig.from_json(merged).training == training
    with pytest.raises(SettingsError, match="missing keys 'model_name', 'epochs'"):
        settings.TrainerCustomConfig.from_dict(lifted)


def test_min_accuracy_sets_the_accuracy_value_threshold():
    from tfx.utils import proto_utils
    properties = {"eval_config": proto_utils.proto_to_json(eval_config(_config())),
                  "min_accuracy": 0.75}
    merged = proto_utils.json_to_proto(parameterized.merge_min_accuracy(properties),
                                       eval_config(_config()))
    accuracy = merged.metrics_specs[0].metrics[0]
    assert accuracy.threshold.value_threshold.lower_bound.value == 0.75
    assert accuracy.threshold.change_threshold.absolute.value < 0  # untouched


def test_min_accuracy_without_an_accuracy_threshold_is_an_error():
    from tensorflow_model_analysis.proto import config_pb2 as tfma_config
    config = tfma_config.EvalConfig(metrics_specs=[tfma_config.MetricsSpec(
        metrics=[tfma_config.MetricConfig(class_name="ExampleCount")])])
    with pytest.raises(ValueError, match="there is none"):
        parameterized.set_min_accuracy(config, 0.5)


def test_run_settings_are_values_locally_and_parameters_when_asked():
    assert run_settings(_config()) == {"epochs": 4, "model_name": "proposed", "balance": "none",
                                       "min_accuracy": 0.9}
    parameters = run_settings(_config(runtime_parameters=True))
    assert {n: (p.ptype, p.default) for n, p in parameters.items()} == {
        "epochs": (int, 4), "model_name": (str, "proposed"), "balance": (str, "none"),
        "min_accuracy": (float, 0.9)}
