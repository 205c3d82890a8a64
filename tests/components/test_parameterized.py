"""The Trainer and Evaluator properties that runtime parameters set."""

import json

import pytest

from imagepipe.components import parameterized
from imagepipe.pipeline import config as config_lib
from imagepipe.pipeline.pipeline import eval_config, run_settings


def _config(**overrides):
    return config_lib.PipelineConfig(
        pipeline_name="p", pipeline_root="/r", serving_dir="/s",
        data=config_lib.DataConfig(source="idx", data_dir="/d"),
        trainer=config_lib.TrainerConfig(model_name="proposed", epochs=4, balance="none"),
        evaluation=config_lib.EvalConfig(min_accuracy=0.9), **overrides)


def test_trainer_properties_are_written_into_custom_config():
    merged = parameterized.merge_trainer_properties({
        "custom_config": json.dumps({"batch_size": 8, "epochs": 1}),
        "epochs": 6.0, "model_name": "arch10", "balance": "class_weight"})
    assert json.loads(merged) == {"batch_size": 8, "epochs": 6, "model_name": "arch10",
                                  "balance": "class_weight"}
    assert isinstance(json.loads(merged)["epochs"], int)  # Vertex may send 6.0


def test_a_missing_custom_config_becomes_the_properties():
    assert json.loads(parameterized.merge_trainer_properties({"epochs": 2})) == {"epochs": 2}
    with pytest.raises(ValueError, match="custom_config must be a JSON object"):
        parameterized.merge_trainer_properties({"custom_config": "[1]"})


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
    import tensorflow_model_analysis as tfma
    config = tfma.EvalConfig(metrics_specs=[tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name="ExampleCount")])])
    with pytest.raises(ValueError, match="there is none"):
        parameterized.set_min_accuracy(config, 0.5)


def test_run_settings_are_values_locally_and_parameters_when_asked():
    assert run_settings(_config()) == {"epochs": 4, "model_name": "proposed", "balance": "none",
                                       "min_accuracy": 0.9}
    parameters = run_settings(_config(runtime_parameters=True))
    assert {n: (p.ptype, p.default) for n, p in parameters.items()} == {
        "epochs": (int, 4), "model_name": (str, "proposed"), "balance": (str, "none"),
        "min_accuracy": (float, 0.9)}
