"""The whole TFX pipeline, run for real with LocalDagRunner on a few hundred generated images."""

import json
import os

import numpy as np
import tensorflow as tf

from imagepipe.components import features, ingest
from imagepipe.data import fixtures
from imagepipe.pipeline import local_runner, results
from tests.conftest import tiny_config

ALL_COMPONENTS = {"FashionMnistExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator",
                  "Transform", "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher"}


def test_every_component_ran_and_the_model_was_pushed(pipeline_run):
    config, summary = pipeline_run
    assert set(summary.components) == ALL_COMPONENTS
    assert all(state == "COMPLETE" for state in summary.components.values()), summary.components
    assert summary.blessed and summary.pushed
    assert summary.pushed_destination.startswith(
        os.path.join(config.serving_dir, config.serving_model_name))
    assert os.path.exists(os.path.join(summary.pushed_destination, "saved_model.pb"))


def test_ingest_left_out_bags_and_split_70_15_15(pipeline_run):
    _, summary = pipeline_run
    report = summary.ingest_report
    assert report["read"] == 500 and report["left_out"] == {"bag": 50}
    totals = {name: split["total"] for name, split in report["splits"].items()}
    assert totals == {"train": 315, "eval": 67, "test": 68}  # 450 kept, 70/15/15


def test_evaluation_has_accuracy_recall_and_confusion_matrix(pipeline_run):
    _, summary = pipeline_run
    assert summary.accuracy >= 0.8
    assert set(summary.recall) == set(features.SUPER_CLASS_NAMES)
    matrix = np.array(summary.confusion_matrix)
    assert matrix.shape == (3, 3) and matrix.sum() == summary.example_count
    assert np.trace(matrix) / matrix.sum() == summary.accuracy


def test_training_wrote_history_and_tensorboard_logs(pipeline_run):
    config, summary = pipeline_run
    training = summary.training
    assert 1 <= training["epochs_run"] <= 3 and training["config"]["model_name"] == "arch5"
    run_dirs = tf.io.gfile.glob(os.path.join(config.pipeline_root, "Trainer", "model_run", "*"))
    history_path = os.path.join(run_dirs[-1], "history.json")
    history = json.load(open(history_path))
    assert [row["epoch"] for row in history] == list(range(1, training["epochs_run"] + 1))
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "epoch_seconds"} <= set(history[0])
    assert tf.io.gfile.glob(os.path.join(run_dirs[-1], "train", "events.out.tfevents.*"))


def test_pushed_model_answers_an_encoded_image_request(pipeline_run):
    _, summary = pipeline_run
    model = tf.saved_model.load(summary.pushed_destination)
    serve = model.signatures[features.SERVING_SIGNATURE]
    labels = np.array([0, 1, 9, 7, 3], np.uint8)  # upper, lower, shoes, shoes, upper
    images = fixtures.generate_images(labels, seed=123)
    outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(
        [ingest.encode_png(im) for im in images])})
    names = [n.decode() for n in outputs[features.CLASS_NAMES_OUTPUT].numpy()]
    assert names == ["upper", "lower", "shoes", "shoes", "upper"]
    np.testing.assert_allclose(outputs[features.PROBABILITIES_OUTPUT].numpy().sum(axis=1), 1.0,
                               rtol=1e-5)


def test_rerun_reuses_cache_and_an_unblessed_model_is_not_pushed(pipeline_run):
    config, first = pipeline_run
    serving_base = os.path.join(config.serving_dir, config.serving_model_name)
    versions_before = sorted(os.listdir(serving_base))
    strict = tiny_config(config.data.data_dir, os.path.dirname(config.pipeline_root),
                         evaluation=config.evaluation.__class__(min_accuracy=1.01))
    local_runner.run(strict)
    second = results.latest_run(strict.metadata_path, strict.pipeline_name)
    for node in ("FashionMnistExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert second.components[node] == "CACHED", second.components
    assert second.blessed is False and second.pushed is False
    assert sorted(os.listdir(serving_base)) == versions_before
    assert first.run_id != second.run_id
