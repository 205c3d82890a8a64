"""imagepipe evaluate: a pushed Fashion-MNIST model on a folder of photo-like pictures."""

import io
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from imagepipe.components import features, pusher
from imagepipe.testing import fixtures, photo_render
from imagepipe.pipeline import cli, photo_eval

ORIGINAL_LABELS = np.array([0, 1, 7, 2, 1, 9, 3, 1, 5, 4, 1, 7] * 2)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A labelled folder of photo-like JPEGs rendered from generated images, plus one WebP."""
    root = tmp_path_factory.mktemp("photos")
    images = fixtures.generate_images(ORIGINAL_LABELS, seed=11)
    labels = np.asarray(features.class_map_table())[ORIGINAL_LABELS]
    photo_render.write_benchmark(str(root), images, labels, features.SUPER_CLASS_NAMES,
                                 [f"p{i:02d}" for i in range(len(labels))], seed=3)
    with Image.open(root / "lower" / "p01.jpg") as jpeg:
        jpeg.save(root / "lower" / "extra.webp", format="WEBP")
    return str(root)


def test_local_evaluation_counts_every_photo_and_writes_its_report(pipeline_run, photos,
                                                                   tmp_path):
    _, summary = pipeline_run
    predict, classes = photo_eval.local_predictor(summary.pushed_destination)
    evaluation = photo_eval.evaluate(photos, predict, classes)
    assert evaluation.total == len(ORIGINAL_LABELS) + 1 and not evaluation.skipped
    rows = np.asarray(evaluation.confusion_matrix).sum(axis=1).tolist()
    assert rows == [8, 9, 8]  # upper, lower (+ the WebP), shoes
    assert evaluation.balanced_accuracy == pytest.approx(np.mean(list(evaluation.recall.values())))
    json_path, png_path = photo_eval.write_report(evaluation, str(tmp_path), "test")
    assert json.load(open(json_path))["total"] == evaluation.total
    assert tf.io.decode_png(tf.io.read_file(png_path)).shape[-1] in (3, 4)


def test_served_predictions_on_raw_photos_equal_local_ones(pipeline_run, photos, tmp_path):
    from imagepipe.serving import client as client_lib, repository, server
    _, summary = pipeline_run
    base = str(tmp_path / "fashion_mnist")
    pusher.publish(summary.pushed_destination, base, {"model_uri": summary.model_uri})
    predict, classes = photo_eval.local_predictor(base)
    local = photo_eval.evaluate(photos, predict, classes)
    model = repository.ModelRepository("fashion_mnist", base, poll_seconds=0.2)
    with server.LocalServer([model], port=0) as running:
        with client_lib.ServingClient(running.url, "fashion_mnist", retries=0) as client:
            served = photo_eval.evaluate(
                photos, lambda batch: [p.class_name for p in client.predict_images(batch)],
                classes)
    assert served.confusion_matrix == local.confusion_matrix


def test_evaluate_command_prints_the_metrics(pipeline_run, photos, tmp_path, capsys):
    _, summary = pipeline_run
    code = cli.main(["evaluate", "--photos", photos, "--model-dir", summary.pushed_destination,
                     "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "balanced accuracy:" in out and "recall per class: upper" in out
    assert os.path.exists(tmp_path / photo_eval.CONFUSION_PNG)


def test_a_class_the_model_does_not_know_is_named(pipeline_run, photos, tmp_path, capsys):
    _, summary = pipeline_run
    (tmp_path / "upper").mkdir()
    (tmp_path / "hats").mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    for folder in ("upper", "hats"):
        for i in range(2):
            (tmp_path / folder / f"{i}.png").write_bytes(buffer.getvalue())
    code = cli.main(["evaluate", "--photos", str(tmp_path), "--model-dir",
                     summary.pushed_destination, "--output", str(tmp_path / "out")])
    assert code == 2 and "['hats'] are not classes of the model" in capsys.readouterr().err
