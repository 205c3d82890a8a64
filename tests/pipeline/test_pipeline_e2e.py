"""The whole TFX pipeline, run for real with LocalDagRunner on a few hundred generated images."""

import json
import os

import numpy as np
import tensorflow as tf

from imagepipe.components import features, reports
from imagepipe.data import png
from imagepipe.testing import fixtures
from imagepipe.pipeline import local_runner, results
from tests.conftest import run_temp_folder, tiny_config

ALL_COMPONENTS = {"ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator",
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
    assert report.images_read == 500 and report.left_out == {"bag": 50}
    # 450 kept, 70/15/15: eval and test tie at 67.5; largest remainders give the earlier one 68
    assert report.split_totals == {"train": 315, "eval": 68, "test": 67}


def test_evaluation_has_accuracy_recall_and_confusion_matrix(pipeline_run):
    _, summary = pipeline_run
    assert summary.accuracy >= 0.8
    assert set(summary.recall) == set(features.SUPER_CLASS_NAMES)
    matrix = np.array(summary.confusion_matrix)
    assert matrix.shape == (3, 3) and matrix.sum() == summary.example_count
    assert np.trace(matrix) / matrix.sum() == summary.accuracy


def test_the_pushed_version_has_its_model_card_with_the_runs_figures(pipeline_run):
    _, summary = pipeline_run
    assert summary.model_card == os.path.join(summary.pushed_destination, "model_card.md")
    card = open(summary.model_card).read()
    page = open(os.path.join(summary.pushed_destination, "model_card.html")).read()
    figures = json.load(open(os.path.join(summary.pushed_destination,
                                          "model_card.json")))["figures"]
    accuracy = reports.percent(summary.accuracy)
    assert f"Accuracy: {accuracy} on {summary.example_count} test images" in card
    assert accuracy in page and "<table>" in page
    assert figures["accuracy"] == summary.accuracy
    assert figures["confusion_matrix"] == summary.confusion_matrix
    assert figures["recall"] == summary.recall
    evaluation = card[card.index("## Evaluation"):].splitlines()
    upper = next(line for line in evaluation if line.startswith("| upper |"))  # recall table
    assert upper.split(" | ")[2] == reports.percent(summary.recall["upper"])
    assert "450 kept" in card and "bag (50 images)" in card  # the data: what was left out
    assert f"epochs run: {summary.training.epochs_run} of at most 3" in card
    assert "grayscale 28x28" in card  # known limits of Fashion-MNIST
    for picture in ("training_curves.png", "confusion_matrix.png"):  # drawn from this run
        assert f"]({picture})" in card and f'<img src="{picture}"' in page
        image = tf.io.decode_png(tf.io.read_file(os.path.join(summary.pushed_destination,
                                                              picture)))
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_training_wrote_history_and_tensorboard_logs(pipeline_run):
    config, summary = pipeline_run
    training = summary.training
    assert 1 <= training.epochs_run <= 3 and training.settings.model_name == "arch5"
    run_dirs = tf.io.gfile.glob(os.path.join(config.pipeline_root, "Trainer", "model_run", "*"))
    history_path = os.path.join(run_dirs[-1], "history.json")
    history = json.load(open(history_path))
    assert [row["epoch"] for row in history] == list(range(1, training.epochs_run + 1))
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "epoch_seconds"} <= set(history[0])
    assert tf.io.gfile.glob(os.path.join(run_dirs[-1], "train", "events.out.tfevents.*"))


def test_pushed_model_answers_an_encoded_image_request(pipeline_run):
    _, summary = pipeline_run
    model = tf.saved_model.load(summary.pushed_destination)
    serve = model.signatures[features.SERVING_SIGNATURE]
    labels = np.array([0, 1, 9, 7, 3], np.uint8)  # upper, lower, shoes, shoes, upper
    images = fixtures.generate_images(labels, seed=123)
    outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(
        [png.encode_gray(im) for im in images])})
    names = [n.decode() for n in outputs[features.CLASS_NAMES_OUTPUT].numpy()]
    assert names == ["upper", "lower", "shoes", "shoes", "upper"]
    np.testing.assert_allclose(outputs[features.PROBABILITIES_OUTPUT].numpy().sum(axis=1), 1.0,
                               rtol=1e-5)


def test_rerun_reuses_cache_and_an_unblessed_model_is_not_pushed(pipeline_run):
    config, first = pipeline_run
    serving_base = os.path.join(config.serving_dir, config.serving_model_name)
    versions_before = sorted(os.listdir(serving_base))
    # A model that barely trains, judged by a bound it cannot reach; the data is unchanged.
    weak = tiny_config(config.data.data_dir, os.path.dirname(config.pipeline_root),
                       training=config.training.replace(epochs=1, learning_rate=1e-7),
                       evaluation=config.evaluation.replace(min_accuracy=0.95))
    local_runner.run(weak)
    second = results.latest_run(weak.metadata_path, weak.pipeline_name)
    for node in ("ExampleGen", "StatisticsGen", "SchemaGen", "Transform"):
        assert second.components[node] == "CACHED", second.components
    assert second.components["Trainer"] == "COMPLETE"
    assert second.accuracy < 0.95 and second.blessed is False and second.pushed is False
    assert sorted(os.listdir(serving_base)) == versions_before
    assert first.run_id != second.run_id
    local_runner.run(config)  # nothing changed since the first run: its Trainer is reused
    third = results.latest_run(config.metadata_path, config.pipeline_name)
    assert third.components["Trainer"] == "CACHED", third.components


def test_the_run_left_no_copy_of_tfx_in_the_temporary_folder(pipeline_run):
    config, _ = pipeline_run
    temp_folder = run_temp_folder(config)
    made = [os.path.join(root, name) for root, dirs, files in os.walk(temp_folder)
            for name in dirs + files]
    assert made, "the run made nothing with tempfile: the folder was not the run's"
    assert not [path for path in made if "tfx_ephemeral" in path or path.endswith("build/tfx")]
