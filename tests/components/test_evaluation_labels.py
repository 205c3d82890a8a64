"""TFMA's label signature: transform_labels, or transform_features for an older baseline."""

import json
import os

import tensorflow as tf
from tfx.types import standard_artifacts

from tfx.utils import proto_utils

from imagepipe.components import evaluation_labels, features, settings
from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
from imagepipe.pipeline import config as config_lib, pipeline


def _baseline(tmp_path, signature_names):
    """A Model artifact whose Format-Serving SavedModel carries ``signature_names``."""
    module = tf.Module()
    module.fn = tf.function(lambda examples: {"out": tf.strings.length(examples)},
                            input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, os.path.join(tmp_path, "Format-Serving"),
                        signatures={name: module.fn.get_concrete_function()
                                    for name in signature_names})
    artifact = standard_artifacts.Model()
    artifact.uri = str(tmp_path)
    return artifact


def _label_signatures(config_json):
    return [list(spec["preprocessing_function_names"])
            for spec in json.loads(config_json)["model_specs"]]


def _eval_config_json(tmp_path, compare=True):
    config = config_lib.PipelineConfig(
        pipeline_name="p", pipeline_root=str(tmp_path / "root"), serving_dir="/s",
        data=FashionMnistSettings(source="idx", data_dir="/d"),
        evaluation=settings.EvaluationSettings(min_accuracy=0.9,
                                               compare_with_latest_blessed=compare))
    return proto_utils.proto_to_json(pipeline.eval_config(config))


def test_the_pipeline_reads_labels_through_transform_labels(tmp_path):
    assert _label_signatures(_eval_config_json(tmp_path)) == [[features.LABELS_SIGNATURE]]


def test_a_baseline_with_transform_labels_changes_nothing(tmp_path):
    config_json = _eval_config_json(tmp_path)
    baseline = _baseline(tmp_path / "new", [features.TRANSFORM_SIGNATURE,
                                            features.LABELS_SIGNATURE])
    assert evaluation_labels.for_baseline(config_json, [baseline]) == config_json
    assert evaluation_labels.for_baseline(config_json, None) == config_json
    assert evaluation_labels.for_baseline(config_json, []) == config_json


def test_an_older_baseline_makes_every_model_read_transform_features(tmp_path):
    config_json = _eval_config_json(tmp_path)
    baseline = _baseline(tmp_path / "old", [features.TRANSFORM_SIGNATURE])
    assert evaluation_labels.signature_names(baseline.uri + "/Format-Serving") == [
        features.TRANSFORM_SIGNATURE]
    changed = evaluation_labels.for_baseline(config_json, [baseline])
    assert _label_signatures(changed) == [[features.TRANSFORM_SIGNATURE]]
    assert json.loads(changed)["metrics_specs"] == json.loads(config_json)["metrics_specs"]
