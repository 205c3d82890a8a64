"""The model card's pictures: training curves and the confusion matrix, PNGs beside the card."""

import json
import os

import numpy as np
import tensorflow as tf

from imagepipe.components import (card_figures, card_render, evaluation_metrics, model_card,
                                  pusher, reports)
from imagepipe.components.settings import TrainingSettings
from tests.components.test_pusher import fake_saved_model, artifact, run_pusher

CLASSES = ("shirts", "shoes", "trousers")


def _history(losses):
    """The Trainer's history rows with these training losses (one epoch each)."""
    return [{"epoch": epoch, "phase": 1, "loss": loss, "val_loss": loss + 0.1,
             "accuracy": 1 - loss / 2, "val_accuracy": 1 - loss / 2 - 0.05}
            for epoch, loss in enumerate(losses, start=1)]


def _training_summary() -> reports.TrainingSummary:
    rows = tuple(reports.BalanceRow(i, name, 10, 0, 10, 1.0) for i, name in enumerate(CLASSES))
    return reports.TrainingSummary(
        settings=TrainingSettings(class_names=CLASSES), parameters=100, trainable_parameters=10,
        epochs_run=2, best_epoch=2, best_val_loss=0.5, best_val_accuracy=0.8, fit_seconds=1.0,
        seconds_per_epoch=0.5, training_examples=30, class_counts={0: 10, 1: 10, 2: 10},
        class_counts_from="transform", optimizer_learning_rate=1e-3, early_stopping=None,
        fine_tuning=None, hyperparameters={},
        balance=reports.BalanceReport("oversample", rows, 30, 30),
        stream=reports.StreamCounts((30,), (0,), (0,), (1,)), class_bias=None)


def _metrics(matrix) -> evaluation_metrics.EvaluationMetrics:
    return evaluation_metrics.EvaluationMetrics(
        accuracy=float(np.trace(matrix)) / float(np.sum(matrix)),
        example_count=int(np.sum(matrix)), confusion_matrix=matrix,
        recall=evaluation_metrics.matrix_recall(matrix, CLASSES),
        precision=evaluation_metrics.matrix_precision(matrix, CLASSES))


def _png_pixels(path):
    """The picture's pixels; fails unless the file is a PNG."""
    with open(path, "rb") as f:
        content = f.read()
    assert content.startswith(b"\x89PNG\r\n\x1a\n"), path
    return tf.io.decode_png(content).numpy()


def _publish(tmp_path, name, records):
    model = str(tmp_path / f"model-{name}")
    fake_saved_model(model)
    return pusher.publish(model, str(tmp_path / "serving" / name), {"model_uri": model},
                          lambda version: card_render.card_files(
                              model_card.build(name, version, records)))


def test_a_pushed_card_shows_pictures_that_lie_beside_it_and_follow_the_run(tmp_path):
    runs = {}
    for name, matrix, losses in (("a", [[9, 1, 0], [0, 8, 2], [1, 0, 9]], [1.2, 0.6]),
                                 ("b", [[5, 5, 0], [3, 4, 3], [0, 6, 4]], [0.9, 0.8])):
        records = model_card.RunRecords(training=_training_summary(), evaluation=_metrics(matrix),
                                        history=_history(losses))
        version_dir = _publish(tmp_path, name, records)
        card = open(os.path.join(version_dir, card_render.MARKDOWN_FILE)).read()
        page = open(os.path.join(version_dir, card_render.HTML_FILE)).read()
        sections = json.load(open(os.path.join(version_dir, card_render.JSON_FILE)))["sections"]
        pictures = {}
        for file_name in (card_figures.TRAINING_CURVES_FILE, card_figures.CONFUSION_MATRIX_FILE):
            assert f"]({file_name})" in card and f'<img src="{file_name}"' in page
            assert any(block == {"figure": file_name, "caption": block.get("caption")}
                       for blocks in sections.values() for block in blocks
                       if isinstance(block, dict))
            pictures[file_name] = _png_pixels(os.path.join(version_dir, file_name))
            assert pictures[file_name].shape[0] > 100 and pictures[file_name].shape[1] > 100
        # the matrix picture comes after the matrix table, in the evaluation section
        evaluation = card[card.index("## Evaluation"):card.index("## Known limits")]
        assert f"]({card_figures.CONFUSION_MATRIX_FILE})" in evaluation
        training = card[card.index("## Training"):card.index("## Evaluation")]
        assert f"]({card_figures.TRAINING_CURVES_FILE})" in training
        runs[name] = pictures
    for file_name in runs["a"]:
        a, b = runs["a"][file_name], runs["b"][file_name]
        assert a.shape != b.shape or not np.array_equal(a, b), file_name


def test_the_same_records_draw_the_same_pictures():
    def pictures():
        records = model_card.RunRecords(training=_training_summary(),
                                        evaluation=_metrics([[3, 0, 0], [0, 3, 0], [1, 0, 2]]),
                                        history=_history([1.0, 0.5]))
        return {figure.file_name: figure.png
                for figure in model_card.figures(model_card.build("m", "1", records))}
    first = pictures()
    assert set(first) == {card_figures.TRAINING_CURVES_FILE, card_figures.CONFUSION_MATRIX_FILE}
    assert first == pictures()


def test_without_history_or_matrix_the_card_says_so_and_has_no_pictures(tmp_path):
    records = model_card.RunRecords(training=_training_summary())
    version_dir = _publish(tmp_path, "bare", records)
    card = open(os.path.join(version_dir, card_render.MARKDOWN_FILE)).read()
    assert f"Training history {model_card.NOT_RECORDED}." in card
    assert f"Evaluation {model_card.NOT_RECORDED}." in card
    assert not [name for name in os.listdir(version_dir) if name.endswith(".png")]


def test_a_picture_that_cannot_be_drawn_is_said_so_and_never_fails_the_card():
    drawn = card_figures.training_curves([{"loss": 1.0}], "arch5")  # no epoch
    assert isinstance(drawn, str) and "could not be drawn (KeyError" in drawn


def test_the_pusher_reads_the_trainers_history_from_its_model_run(tmp_path):
    from tfx.types import standard_artifacts

    model_run = artifact(tmp_path, standard_artifacts.ModelRun, "model_run")
    _training_summary().write(os.path.join(model_run.uri, reports.TRAINING_SUMMARY_FILE))
    with open(os.path.join(model_run.uri, reports.HISTORY_FILE), "w") as f:
        json.dump(_history([1.0, 0.7, 0.4]), f)
    pushed = run_pusher(tmp_path, {"model_run": model_run})
    version_dir = pushed.get_string_custom_property("pushed_destination")
    card = open(os.path.join(version_dir, card_render.MARKDOWN_FILE)).read()
    assert f"]({card_figures.TRAINING_CURVES_FILE})" in card
    _png_pixels(os.path.join(version_dir, card_figures.TRAINING_CURVES_FILE))
